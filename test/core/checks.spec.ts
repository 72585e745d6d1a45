import {
  asapScheduler,
  asyncScheduler,
  from,
  type ObservableInput,
  of,
  queueScheduler,
  Subject,
} from 'rxjs';
import { expect, it, describe as suite } from 'vitest';
import {
  checkAbortSignal,
  checkDeliveryOptions,
  checkFallback,
  checkFunction,
  checkNonNegative,
  checkObservableInput,
  checkOptions,
  checkPositiveInteger,
  checkScheduler,
  describe,
  isObservableInput,
  policyNameOf,
  rangeError,
  typeError,
  validateQueueConfig,
} from '../../src/core/checks.js';
import { coalesce } from '../../src/core/types.js';

/*
 * The option checks shared by every operator, the pull bridge and the bus: each check's accepted
 * and refused values, and the exact message `owner: option must be …, got …`.
 */

const noop = (): void => {};

suite('describe', () => {
  it('renders each kind of value briefly', () => {
    expect(describe('a"b')).toBe('"a\\"b"');
    expect(describe('')).toBe('""');
    expect(describe(function named() {})).toBe('a function (named)');
    expect(describe(Object.defineProperty(() => {}, 'name', { value: '' }))).toBe(
      'a function (anonymous)',
    );
    expect(describe(12n)).toBe('12n');
    expect(describe(Symbol('s'))).toBe('Symbol(s)');
    expect(describe(null)).toBe('null');
    expect(describe(undefined)).toBe('undefined');
    expect(describe(Number.NaN)).toBe('NaN');
    expect(describe(-1.5)).toBe('-1.5');
    expect(describe(true)).toBe('true');
    expect(describe([1, 2])).toBe('an array');
    expect(describe({ a: 1 })).toBe('{"a":1}');
  });

  it('cuts JSON longer than 60 characters to 57 and an ellipsis', () => {
    const sixty = { k: 'x'.repeat(52) }; // {"k":"…"} is 8 characters around the string
    expect(JSON.stringify(sixty)).toHaveLength(60);
    expect(describe(sixty)).toBe(JSON.stringify(sixty));
    const sixtyOne = { k: 'x'.repeat(53) };
    expect(describe(sixtyOne)).toBe(`${JSON.stringify(sixtyOne).slice(0, 57)}...`);
    expect(describe(sixtyOne)).toHaveLength(60);
  });

  it('never throws: an object JSON cannot render is "an object"', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describe(cyclic)).toBe('an object');
    expect(describe({ big: 1n })).toBe('an object');
  });
});

suite('typeError and rangeError', () => {
  it('word every refusal as owner: option must be …, got …', () => {
    const type = typeError('op', 'opt', 'a thing', 3);
    expect(type).toBeInstanceOf(TypeError);
    expect(type.message).toBe('op: opt must be a thing, got 3');
    const range = rangeError('op', 'opt', 'small', 'x');
    expect(range).toBeInstanceOf(RangeError);
    expect(range.message).toBe('op: opt must be small, got "x"');
  });
});

suite('checkOptions', () => {
  it('accepts any object, refuses anything else', () => {
    expect(() => checkOptions({}, 'op')).not.toThrow();
    expect(() => checkOptions([], 'op')).not.toThrow();
    for (const bad of [null, undefined, 1, 'x', noop]) {
      expect(() => checkOptions(bad, 'op')).toThrow(
        new TypeError(`op: options must be an object, got ${describe(bad)}`),
      );
    }
  });
});

suite('checkFunction', () => {
  it('accepts a function, and undefined unless required', () => {
    expect(() => checkFunction(noop, 'op', 'fn')).not.toThrow();
    expect(() => checkFunction(noop, 'op', 'fn', true)).not.toThrow();
    expect(() => checkFunction(undefined, 'op', 'fn')).not.toThrow();
    expect(() => checkFunction(undefined, 'op', 'fn', true)).toThrow(
      new TypeError('op: fn must be a function, got undefined'),
    );
  });

  it('refuses anything else', () => {
    for (const bad of [null, 0, 'f', {}]) {
      expect(() => checkFunction(bad, 'op', 'fn')).toThrow(
        new TypeError(`op: fn must be a function, got ${describe(bad)}`),
      );
    }
  });
});

suite('checkPositiveInteger', () => {
  it('accepts positive integers; Infinity only when allowed', () => {
    for (const good of [1, 2, 1e9, Number.MAX_SAFE_INTEGER]) {
      expect(() => checkPositiveInteger(good, 'op', 'n')).not.toThrow();
      expect(() => checkPositiveInteger(good, 'op', 'n', true)).not.toThrow();
    }
    expect(() => checkPositiveInteger(Number.POSITIVE_INFINITY, 'op', 'n', true)).not.toThrow();
    expect(() => checkPositiveInteger(Number.POSITIVE_INFINITY, 'op', 'n')).toThrow(
      new RangeError('op: n must be a positive integer, got Infinity'),
    );
  });

  it('refuses zero, negatives, fractions, NaN, -Infinity and non-numbers', () => {
    for (const bad of [0, -0, -1, 0.5, 1.5, Number.NaN, Number.NEGATIVE_INFINITY, '1', null]) {
      expect(() => checkPositiveInteger(bad, 'op', 'n')).toThrow(
        new RangeError(`op: n must be a positive integer, got ${describe(bad)}`),
      );
      expect(() => checkPositiveInteger(bad, 'op', 'n', true)).toThrow(
        new RangeError(`op: n must be a positive integer or Infinity, got ${describe(bad)}`),
      );
    }
  });
});

suite('checkNonNegative', () => {
  it('accepts zero, positive numbers and Infinity', () => {
    for (const good of [0, -0, 0.5, 7, Number.POSITIVE_INFINITY]) {
      expect(() => checkNonNegative(good, 'op', 'ms')).not.toThrow();
    }
  });

  it('refuses negatives, NaN and non-numbers, with the unit in the message', () => {
    for (const bad of [-1, -0.001, Number.NaN, Number.NEGATIVE_INFINITY, '1', null, undefined]) {
      expect(() => checkNonNegative(bad, 'op', 'window')).toThrow(
        new RangeError(`op: window must be a non-negative number, got ${describe(bad)}`),
      );
    }
    expect(() => checkNonNegative(-5, 'op', 'maxSkew', ' (ms)')).toThrow(
      new RangeError('op: maxSkew must be a non-negative number (ms), got -5'),
    );
  });
});

suite('checkAbortSignal', () => {
  it('accepts an AbortSignal, anything with aborted and addEventListener, and undefined', () => {
    expect(() => checkAbortSignal(new AbortController().signal, 'op')).not.toThrow();
    expect(() => checkAbortSignal(AbortSignal.abort(), 'op')).not.toThrow();
    expect(() =>
      checkAbortSignal({ aborted: false, addEventListener: noop }, 'op', 'cancel'),
    ).not.toThrow();
    expect(() => checkAbortSignal(undefined, 'op')).not.toThrow();
  });

  it('refuses null, non-objects and objects missing aborted or addEventListener', () => {
    for (const bad of [
      null,
      true,
      'signal',
      {},
      { aborted: false },
      { addEventListener: noop },
      { aborted: 'no', addEventListener: noop },
      Object.assign(() => {}, { aborted: false, addEventListener: noop }),
    ]) {
      expect(() => checkAbortSignal(bad, 'op')).toThrow(TypeError);
    }
    expect(() => checkAbortSignal(null, 'op', 'cancel')).toThrow(
      new TypeError('op: cancel must be an AbortSignal, got null'),
    );
    expect(() => checkAbortSignal({}, 'op')).toThrow(
      new TypeError('op: signal must be an AbortSignal, got {}'),
    );
  });
});

suite('checkScheduler', () => {
  it("accepts RxJS's schedulers and any object with schedule and now", () => {
    for (const good of [asapScheduler, asyncScheduler, queueScheduler]) {
      expect(() => checkScheduler(good, 'op')).not.toThrow();
    }
    expect(() => checkScheduler({ schedule: noop, now: () => 0 }, 'op')).not.toThrow();
  });

  it('refuses null, a scheduler without now or schedule, and non-objects', () => {
    const fnWithBoth = Object.assign(() => {}, { schedule: noop, now: () => 0 });
    for (const bad of [
      null,
      undefined,
      {},
      { schedule: noop },
      { now: () => 0 },
      { schedule: 1, now: () => 0 },
      { schedule: noop, now: 0 },
      fnWithBoth,
      'asap',
    ]) {
      expect(() => checkScheduler(bad, 'op')).toThrow(
        new TypeError(
          `op: scheduler must be a SchedulerLike (with schedule and now), got ${describe(bad)}`,
        ),
      );
    }
    expect(() => checkScheduler(null, 'op', 'queue.scheduler')).toThrow(
      new TypeError(
        'op: queue.scheduler must be a SchedulerLike (with schedule and now), got null',
      ),
    );
  });
});

suite('isObservableInput', () => {
  async function* asyncGenerator(): AsyncGenerator<number> {
    yield 1;
  }
  function* generator(): Generator<number> {
    yield 1;
  }
  const interop = { [Symbol.observable ?? '@@observable']: () => of(1) };
  const legacyInterop = { '@@observable': () => of(1) };
  const iterableFunction = Object.assign(() => {}, { [Symbol.iterator]: generator });
  const observableFunction = Object.assign(() => {}, { '@@observable': () => of(1) });

  /** Whether RxJS's `from` accepts the value: it refuses at once, before any subscription. */
  const rxjsAccepts = (value: unknown): boolean => {
    try {
      from(value as ObservableInput<unknown>);
      return true;
    } catch {
      return false;
    }
  };

  const accepted: Array<[string, unknown]> = [
    ['an Observable', of(1)],
    ['a Subject', new Subject<number>()],
    ['an interop observable', interop],
    ['an interop observable under @@observable', legacyInterop],
    ['a function with @@observable', observableFunction],
    ['a promise', Promise.resolve(1)],
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what is being checked
    ['a thenable', { then: noop }],
    ['an array', [1, 2]],
    ['an empty array', []],
    ['an array-like', { length: 0 }],
    ['a typed array', new Uint8Array(2)],
    ['a string', 'abc'],
    ['an empty string', ''],
    ['a Set', new Set([1])],
    ['a Map', new Map([[1, 2]])],
    ['a generator', generator()],
    ['an async generator', asyncGenerator()],
    ['an async iterable', { [Symbol.asyncIterator]: asyncGenerator }],
    ['an iterable', { [Symbol.iterator]: generator }],
    ['a function with Symbol.iterator', iterableFunction],
    ['a ReadableStream', new ReadableStream()],
    ['a reader-like', { getReader: noop }],
  ];
  const refused: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 1],
    ['zero', 0],
    ['a boolean', true],
    ['a bigint', 1n],
    ['a symbol', Symbol('s')],
    ['a plain object', {}],
    ['an object without a prototype', Object.create(null)],
    ['a function', noop],
    ['a boxed number', new Number(1)],
    // biome-ignore lint/suspicious/noThenProperty: a malformed thenable is what is being checked
    ['a non-function then', { then: 1 }],
    ['a non-number length', { length: '1' }],
    ['a non-function iterator', { [Symbol.iterator]: 1 }],
    ['a non-function async iterator', { [Symbol.asyncIterator]: {} }],
    ['a non-function getReader', { getReader: true }],
    ['a non-function @@observable', { '@@observable': 1 }],
  ];

  it.each(accepted)('accepts %s, as RxJS from does', (_, value) => {
    expect(rxjsAccepts(value)).toBe(true);
    expect(isObservableInput(value)).toBe(true);
  });

  it.each(refused)('refuses %s, as RxJS from does', (_, value) => {
    expect(rxjsAccepts(value)).toBe(false);
    expect(isObservableInput(value)).toBe(false);
  });
});

suite('checkObservableInput', () => {
  it('accepts an ObservableInput, and undefined unless required', () => {
    expect(() => checkObservableInput(of(1), 'op', 'demand')).not.toThrow();
    expect(() => checkObservableInput(of(1), 'op', 'demand', true)).not.toThrow();
    expect(() => checkObservableInput(undefined, 'op', 'demand')).not.toThrow();
    expect(() => checkObservableInput(undefined, 'op', 'lane "a"', true)).toThrow(
      new TypeError('op: lane "a" must be an ObservableInput, got undefined'),
    );
  });

  it('refuses anything RxJS from refuses', () => {
    expect(() => checkObservableInput({}, 'boundedQueue', 'demand')).toThrow(
      new TypeError('boundedQueue: demand must be an ObservableInput, got {}'),
    );
    expect(() => checkObservableInput(null, 'boundedQueue', 'flushOn')).toThrow(
      new TypeError('boundedQueue: flushOn must be an ObservableInput, got null'),
    );
  });
});

const POLICY_MESSAGE =
  "op: overflow must be 'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?)";

suite('policyNameOf', () => {
  it('names each named policy and coalesce', () => {
    for (const name of ['drop-oldest', 'drop-incoming', 'drop-progress', 'error'] as const) {
      expect(policyNameOf(name, 'op')).toBe(name);
    }
    expect(policyNameOf(coalesce(noop), 'op')).toBe('coalesce');
    expect(policyNameOf({ kind: 'coalesce', merge: noop }, 'op')).toBe('coalesce');
  });

  it('refuses other names and malformed coalesce policies', () => {
    for (const bad of [
      'drop-newest',
      'coalesce',
      '',
      undefined,
      null,
      1,
      {},
      { kind: 'coalesce' },
      { kind: 'coalesce', merge: 'concat' },
      { kind: 'merge', merge: noop },
      ['drop-oldest'],
    ]) {
      expect(() => policyNameOf(bad as never, 'op')).toThrow(
        new TypeError(`${POLICY_MESSAGE}, got ${describe(bad)}`),
      );
    }
  });
});

suite('validateQueueConfig', () => {
  const classify = () => 'normal' as const;

  it('defaults terminalReserve to 1 with a classifier and room for it, else 0', () => {
    expect(validateQueueConfig({ capacity: 2, overflow: 'error', classify }, 'op')).toBe(1);
    expect(validateQueueConfig({ capacity: 1, overflow: 'error', classify }, 'op')).toBe(0);
    expect(validateQueueConfig({ capacity: 2, overflow: 'error' }, 'op')).toBe(0);
    expect(validateQueueConfig({ capacity: 9, overflow: 'error' }, 'op')).toBe(0);
  });

  it('returns an explicit terminalReserve from 0 to capacity - 1', () => {
    expect(validateQueueConfig({ capacity: 4, overflow: 'error', terminalReserve: 0 }, 'op')).toBe(
      0,
    );
    expect(
      validateQueueConfig({ capacity: 4, overflow: 'error', classify, terminalReserve: 0 }, 'op'),
    ).toBe(0);
    expect(validateQueueConfig({ capacity: 4, overflow: 'error', terminalReserve: 3 }, 'op')).toBe(
      3,
    );
  });

  it('refuses a terminalReserve outside 0 .. capacity - 1, or not an integer', () => {
    for (const bad of [-1, 4, 5, 1.5, Number.NaN, '1', null]) {
      expect(() =>
        validateQueueConfig(
          { capacity: 4, overflow: 'error', terminalReserve: bad as never },
          'op',
        ),
      ).toThrow(
        new RangeError(
          `op: terminalReserve must be an integer with 0 <= terminalReserve < capacity, which is 4 (non-terminal values have room for capacity - terminalReserve), got ${describe(bad)}`,
        ),
      );
    }
  });

  it('checks options, capacity, overflow, classify and onOverflow, in that order', () => {
    expect(() => validateQueueConfig(null as never, 'op')).toThrow(
      new TypeError('op: options must be an object, got null'),
    );
    expect(() => validateQueueConfig({ capacity: 0, overflow: 'x' as never }, 'op')).toThrow(
      new RangeError('op: capacity must be a positive integer, got 0'),
    );
    expect(() =>
      validateQueueConfig({ capacity: 1, overflow: 'x' as never, classify: 1 }, 'op'),
    ).toThrow(new TypeError(`${POLICY_MESSAGE}, got "x"`));
    expect(() =>
      validateQueueConfig({ capacity: 1, overflow: 'error', classify: 1, onOverflow: 1 }, 'op'),
    ).toThrow(new TypeError('op: classify must be a function, got 1'));
    expect(() =>
      validateQueueConfig({ capacity: 1, overflow: 'error', onOverflow: 'log' }, 'op'),
    ).toThrow(new TypeError('op: onOverflow must be a function, got "log"'));
    expect(() =>
      validateQueueConfig({ capacity: 1, overflow: 'error', onOverflow: noop, classify }, 'op'),
    ).not.toThrow();
    expect(() =>
      validateQueueConfig({ capacity: 1, overflow: 'error', classify, onDrop: 'log' }, 'op'),
    ).toThrow(new TypeError('op: onDrop must be a function, got "log"'));
  });

  it('refuses drop-progress and coalesce without a classifier, saying classify is missing', () => {
    const without =
      "(without it no value is progress, and every overflow would drop the newcomer as 'drop-incoming' does), got undefined";
    expect(() => validateQueueConfig({ capacity: 4, overflow: 'drop-progress' }, 'op')).toThrow(
      new TypeError(`op: classify must be a function when overflow is 'drop-progress' ${without}`),
    );
    for (const fallback of ['drop-progress', 'drop-oldest', 'drop-incoming', 'error'] as const) {
      expect(() =>
        validateQueueConfig(
          { capacity: 4, overflow: coalesce((a: number) => a, undefined, { fallback }) },
          'op',
        ),
      ).toThrow(
        new TypeError(`op: classify must be a function when overflow is coalesce(...) ${without}`),
      );
    }
    // A classifier supplied by the caller (the bus's default) satisfies the rule.
    expect(validateQueueConfig({ capacity: 4, overflow: 'drop-progress', classify }, 'op')).toBe(1);
    expect(
      validateQueueConfig(
        { capacity: 4, overflow: coalesce((a: string, b: string) => a + b), classify },
        'op',
      ),
    ).toBe(1);
    // The other policies need no classifier.
    for (const overflow of ['drop-oldest', 'drop-incoming', 'error'] as const) {
      expect(validateQueueConfig({ capacity: 4, overflow }, 'op')).toBe(0);
    }
  });
});

suite('checkFallback', () => {
  it("defaults to 'drop-progress' and accepts the four named policies", () => {
    expect(checkFallback(undefined, 'coalesce')).toBe('drop-progress');
    for (const name of ['drop-progress', 'drop-oldest', 'drop-incoming', 'error']) {
      expect(checkFallback(name, 'coalesce')).toBe(name);
    }
  });

  it('refuses anything else, naming the option', () => {
    for (const bad of ['coalesce', 'backpressure', 1, null, {}]) {
      expect(() => checkFallback(bad, 'coalesce')).toThrow(
        new TypeError(
          `coalesce: fallback must be 'drop-progress', 'drop-oldest', 'drop-incoming' or 'error', got ${describe(bad)}`,
        ),
      );
    }
  });
});

suite('checkDeliveryOptions', () => {
  const demand = new Subject<number>();

  it('returns the initial credits: initialDemand, or 0', () => {
    expect(checkDeliveryOptions({}, 'op')).toBe(0);
    expect(checkDeliveryOptions({ demand }, 'op')).toBe(0);
    expect(checkDeliveryOptions({ demand, initialDemand: 0 }, 'op')).toBe(0);
    expect(checkDeliveryOptions({ demand, initialDemand: 8 }, 'op')).toBe(8);
    expect(checkDeliveryOptions({ demand, initialDemand: Number.POSITIVE_INFINITY }, 'op')).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('refuses an initialDemand that is not a count, or without demand', () => {
    for (const bad of [-1, 1.5, Number.NaN, '2', null]) {
      expect(() => checkDeliveryOptions({ demand, initialDemand: bad }, 'op')).toThrow(
        new RangeError(
          `op: initialDemand must be a non-negative integer or Infinity, got ${describe(bad)}`,
        ),
      );
    }
    expect(() => checkDeliveryOptions({ initialDemand: 2 }, 'op')).toThrow(
      new RangeError(
        'op: initialDemand must be given with demand (it is the credit granted before demand first emits), got 2',
      ),
    );
    expect(() => checkDeliveryOptions({ flushOn: demand, initialDemand: 2 }, 'op')).toThrow(
      /initialDemand must be given with demand/,
    );
  });

  it('checks demand, flushOn, scheduler and inspect, naming the owner', () => {
    expect(() => checkDeliveryOptions({ demand, flushOn: demand }, 'op')).toThrow(
      new RangeError('op: demand and flushOn cannot be combined; give one of them'),
    );
    expect(() => checkDeliveryOptions({ demand: 3 }, 'op')).toThrow(
      new TypeError('op: demand must be an ObservableInput, got 3'),
    );
    expect(() => checkDeliveryOptions({ flushOn: 3 }, 'op')).toThrow(
      new TypeError('op: flushOn must be an ObservableInput, got 3'),
    );
    expect(() => checkDeliveryOptions({ scheduler: {} }, 'op')).toThrow(
      new TypeError('op: scheduler must be a SchedulerLike (with schedule and now), got {}'),
    );
    expect(() => checkDeliveryOptions({ inspect: 1 }, 'op')).toThrow(
      new TypeError('op: inspect must be a function, got 1'),
    );
    expect(checkDeliveryOptions({ scheduler: asapScheduler, inspect: () => {} }, 'op')).toBe(0);
  });
});
