import {
  asapScheduler,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  mergeMap,
  Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  take,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { classifyLetter, concatText } from '../../marbles/fixtures.js';
import { coalesce, QueueOverflowError } from '../../src/core/types.js';
import { type BoundedQueueConfig, boundedQueue } from '../../src/operators/boundedQueue.js';
import { demandFrom } from '../../src/testing/index.js';

const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

describe('boundedQueue', () => {
  describe("RxJS's operator checklist", () => {
    it('does not break unsubscription chains', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('  --a--b--c--d--e--|');
        const sourceSubs = '  ^---------!       ';
        const unsub = '       ----------!       ';
        const expected = '    --a--b--c--       ';
        const result = source.pipe(
          mergeMap((value) => of(value)),
          boundedQueue({ capacity: 4, overflow: 'drop-oldest' }),
          mergeMap((value) => of(value)),
        );
        expectObservable(result, unsub).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('stops a synchronous infinite source when take() has enough', () => {
      const produced: number[] = [];
      const endless = new Observable<number>((subscriber) => {
        for (let value = 0; !subscriber.closed && value < 1_000; value++) {
          produced.push(value);
          subscriber.next(value);
        }
      });
      const received: number[] = [];
      endless
        .pipe(
          boundedQueue({ capacity: 8, overflow: 'error', demand: of(Number.POSITIVE_INFINITY) }),
          take(3),
        )
        .subscribe((value) => received.push(value));
      expect(received).toEqual([0, 1, 2]);
      expect(produced).toEqual([0, 1, 2]);
    });

    it('errors with what a throwing classifier threw, after the values queued before it', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('      -a-b-c-|');
        const sourceSubs = '       ^----!   ';
        const demand = demandFrom('-------2');
        const expected = '         -------(ab#)';
        const failure = new Error('cannot classify c');
        const classify = (value: string) => {
          if (value === 'c') throw failure;
          return classifyLetter(value);
        };
        const result = source.pipe(
          boundedQueue({ capacity: 4, overflow: 'drop-oldest', classify, demand }),
        );
        expectObservable(result).toBe(expected, undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('errors with what a throwing merge threw, after the values queued before it', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('      -p-q-r-|');
        const sourceSubs = '       ^--!     ';
        const demand = demandFrom('-------1');
        const expected = '         -------(p#)';
        const failure = new Error('merge failed');
        const result = source.pipe(
          boundedQueue({
            capacity: 2,
            overflow: coalesce<string>(() => {
              throw failure;
            }),
            classify: classifyLetter,
            demand,
          }),
        );
        // Capacity 2 with the default reserve of 1: q has no room, so coalesce merges it into p.
        expectObservable(result).toBe(expected, undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('errors at once with what a throwing onOverflow threw', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('      -a-b-c-d-|');
        const sourceSubs = '       ^--------!';
        const demand = demandFrom('----------9');
        const expected = '         ----------#';
        const failure = new Error('notice handler failed');
        const result = source.pipe(
          boundedQueue({
            capacity: 2,
            overflow: 'drop-oldest',
            demand,
            onOverflow: () => {
              throw failure;
            },
          }),
        );
        expectObservable(result).toBe(expected, undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('reports a classifier that answers something else than the three classes', () => {
      const errors: unknown[] = [];
      of('a')
        .pipe(
          boundedQueue({
            capacity: 2,
            overflow: 'drop-oldest',
            classify: () => 'urgent' as never,
            demand: of(1),
          }),
        )
        .subscribe({ error: (error) => errors.push(error) });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect(String(errors[0])).toContain('"urgent"');
    });

    it.each([
      [-1, RangeError, /demand must emit a non-negative integer or nothing, got -1/],
      [1.5, RangeError, /got 1\.5/],
      [Number.NaN, RangeError, /got NaN/],
      ['3', TypeError, /got "3"/],
      [null, TypeError, /got null/],
    ])('errors when demand emits %s', (granted, type, message) => {
      const errors: unknown[] = [];
      of('a')
        .pipe(
          boundedQueue({
            capacity: 2,
            overflow: 'drop-oldest',
            demand: of(granted) as Observable<number>,
          }),
        )
        .subscribe({ error: (error) => errors.push(error) });
      expect(errors[0]).toBeInstanceOf(type);
      expect(String(errors[0])).toMatch(message);
    });
  });

  describe('re-entrance', () => {
    it('a consumer pushing into the source while receiving neither reorders nor duplicates', () => {
      const source = new Subject<number>();
      const demand = new Subject<number>();
      const received: number[] = [];
      source.pipe(boundedQueue({ capacity: 16, overflow: 'error', demand })).subscribe((value) => {
        received.push(value);
        if (value < 5) source.next(value + 10);
        demand.next(1);
      });
      source.next(1);
      source.next(2);
      demand.next(1);
      expect(received).toEqual([1, 2, 11, 12]);
      // 11 and 12 waited behind 2; 12 asked for one more credit, spent on nothing yet.
      source.next(3);
      expect(received).toEqual([1, 2, 11, 12, 3, 13]);
    });

    it('a consumer granting credit while receiving does not deliver twice', () => {
      const demand = new Subject<number>();
      const received: string[] = [];
      of('a', 'b', 'c')
        .pipe(boundedQueue({ capacity: 4, overflow: 'error', demand }))
        .subscribe((value) => {
          received.push(value);
          demand.next(1);
        });
      demand.next(1);
      expect(received).toEqual(['a', 'b', 'c']);
    });

    it('unsubscribing in the middle of a drain stops delivery at once', () => {
      const demand = new Subject<number>();
      const received: string[] = [];
      const subscription = of('a', 'b', 'c', 'd')
        .pipe(boundedQueue({ capacity: 4, overflow: 'error', demand }))
        .subscribe((value) => {
          received.push(value);
          if (value === 'b') subscription.unsubscribe();
        });
      demand.next(4);
      expect(received).toEqual(['a', 'b']);
      expect(demand.observed).toBe(false);
    });

    it('a flush tick during a flush delivers what remains, once', () => {
      const flush = new Subject<void>();
      const source = new Subject<string>();
      const received: string[] = [];
      source
        .pipe(boundedQueue({ capacity: 8, overflow: 'error', flushOn: flush }))
        .subscribe((value) => {
          received.push(value);
          if (value === 'a') {
            source.next('x');
            flush.next();
          }
        });
      source.next('a');
      source.next('b');
      flush.next();
      expect(received).toEqual(['a', 'b', 'x']);
    });
  });

  describe('callbacks that push, unsubscribe or grant from inside the gap report', () => {
    it('unsubscribing inside onOverflow stops delivery without throwing into the producer', () => {
      const source = new Subject<string>();
      const demand = new Subject<number>();
      const received: string[] = [];
      const subscription = source
        .pipe(
          boundedQueue({
            capacity: 1,
            overflow: 'drop-oldest',
            demand,
            onOverflow: () => subscription.unsubscribe(),
          }),
        )
        .subscribe((value) => received.push(value));
      source.next('a');
      source.next('b');
      expect(() => demand.next(1)).not.toThrow();
      expect(received).toEqual([]);
      expect(source.observed).toBe(false);
    });

    it('a value pushed inside onOverflow cannot evict the value being delivered, nor overtake its notice', () => {
      const source = new Subject<string>();
      const demand = new Subject<number>();
      const log: string[] = [];
      source
        .pipe(
          boundedQueue({
            capacity: 1,
            overflow: 'drop-oldest',
            demand,
            onOverflow: (gap) => {
              log.push(`gap ${String(gap.first)}`);
              if (gap.first === 'a') source.next('c');
            },
          }),
        )
        .subscribe((value) => {
          log.push(value);
          demand.next(1);
        });
      source.next('a');
      source.next('b'); // evicts a
      demand.next(1);
      // b was taken before the gap was reported: c, pushed during the report, waits behind it.
      expect(log).toEqual(['gap a', 'b', 'c']);
    });
  });

  describe('delivery on every scheduler', () => {
    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ])('delivers every value of a synchronous source under %s', async (_name, scheduler) => {
      const received: number[] = [];
      await new Promise<void>((resolve, reject) =>
        of(1, 2, 3)
          .pipe(boundedQueue({ capacity: 8, overflow: 'error', scheduler }))
          .subscribe({ next: (v) => received.push(v), complete: resolve, error: reject }),
      );
      expect(received).toEqual([1, 2, 3]);
    });

    it('queueScheduler keeps delivering values that arrive later', () => {
      const source = new Subject<number>();
      const received: number[] = [];
      source
        .pipe(boundedQueue({ capacity: 8, overflow: 'error', scheduler: queueScheduler }))
        .subscribe((value) => received.push(value));
      source.next(1);
      source.next(2);
      expect(received).toEqual([1, 2]);
    });
  });

  describe('delivery on a scheduler', () => {
    it('delivers a burst in one asap task by default', async () => {
      const received: number[] = [];
      of(1, 2, 3)
        .pipe(boundedQueue({ capacity: 2, overflow: 'drop-oldest' }))
        .subscribe((value) => received.push(value));
      expect(received).toEqual([]);
      await Promise.resolve();
      expect(received).toEqual([2, 3]);
    });

    it('uses the given scheduler', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const source = cold(' -a---b-|   ');
        const expected = '     ---a---(b|)';
        const scheduler = {
          now: () => asapScheduler.now(),
          schedule: (work: () => void) => asapScheduler.schedule(work, 2),
        } as SchedulerLike;
        expectObservable(
          source.pipe(boundedQueue({ capacity: 2, overflow: 'drop-oldest', scheduler })),
        ).toBe(expected);
      });
    });
  });

  describe('initialDemand', () => {
    it('a consumer that requests after each value, from a plain Subject, needs a first credit', () => {
      const run = (initialDemand?: number) => {
        const ready$ = new Subject<number>();
        const received: string[] = [];
        const source = new Subject<string>();
        source
          .pipe(
            boundedQueue({
              capacity: 8,
              overflow: 'drop-oldest',
              demand: ready$,
              ...(initialDemand === undefined ? {} : { initialDemand }),
            }),
          )
          .subscribe((value) => {
            received.push(value);
            ready$.next(1);
          });
        for (const value of ['a', 'b', 'c']) source.next(value);
        return received;
      };
      // Without it nothing ever arrives: the consumer only requests once it has received.
      expect(run()).toEqual([]);
      expect(run(1)).toEqual(['a', 'b', 'c']);
    });

    it('grants its credits at each subscription, before demand first emits', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const source = cold('      -a-b-c-d-|');
        const demand = demandFrom('-------1---1');
        const expected = '         -a-b---c---(d|)';
        const result = source.pipe(
          boundedQueue({ capacity: 4, overflow: 'drop-oldest', demand, initialDemand: 2 }),
        );
        expectObservable(result).toBe(expected);
        // Each subscription starts with its own credits.
        expectObservable(result).toBe(expected);
      });
    });

    it('Infinity makes the queue a pass-through until demand says otherwise', () => {
      const received: number[] = [];
      of(1, 2, 3)
        .pipe(
          boundedQueue({
            capacity: 1,
            overflow: 'error',
            demand: new Subject<number>(),
            initialDemand: Number.POSITIVE_INFINITY,
          }),
        )
        .subscribe((value) => received.push(value));
      expect(received).toEqual([1, 2, 3]);
    });
  });

  describe('onDrop', () => {
    it('sees every drop, in order, with the notice counting the same values', () => {
      const log: string[] = [];
      const demand = new Subject<number>();
      of('a', 'b', 'c', 'd')
        .pipe(
          boundedQueue({
            capacity: 2,
            overflow: 'drop-oldest',
            demand,
            onDrop: (value, reason) => log.push(`${value} ${reason}`),
            onOverflow: (notice) => log.push(`notice ${notice.dropped}`),
          }),
        )
        .subscribe((value) => log.push(value));
      expect(log).toEqual(['a evicted', 'b evicted']);
      demand.next(2);
      expect(log).toEqual(['a evicted', 'b evicted', 'notice 2', 'c', 'd']);
    });

    it('a throwing onDrop errors the stream after the values queued before', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('      -a-b-c-|');
        const sourceSubs = '       ^----!   ';
        const demand = demandFrom('-------9');
        const expected = '         -------(ab#)';
        const failure = new Error('dead letters full');
        const result = source.pipe(
          boundedQueue({
            capacity: 2,
            overflow: 'drop-incoming',
            demand,
            onDrop: () => {
              throw failure;
            },
          }),
        );
        expectObservable(result).toBe(expected, undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });
  });

  describe('the error policy', () => {
    it('errors with a QueueOverflowError naming the value that did not fit', () => {
      const errors: unknown[] = [];
      const received: number[] = [];
      const demand = new Subject<number>();
      of(1, 2, 3, 4)
        .pipe(boundedQueue({ capacity: 2, overflow: 'error', demand }))
        .subscribe({ next: (value) => received.push(value), error: (error) => errors.push(error) });
      demand.next(5);
      expect(received).toEqual([1, 2]);
      expect(errors).toHaveLength(1);
      const error = errors[0] as QueueOverflowError;
      expect(error).toBeInstanceOf(QueueOverflowError);
      expect(error.notice).toMatchObject({ policy: 'error', dropped: 1, first: 3, last: 3 });
    });
  });

  describe('bad options', () => {
    const base = { capacity: 4, overflow: 'drop-oldest' as const };
    it.each([
      [
        'capacity 0',
        { ...base, capacity: 0 },
        RangeError,
        /boundedQueue: capacity must be a positive integer, got 0/,
      ],
      ['capacity -1', { ...base, capacity: -1 }, RangeError, /got -1/],
      ['capacity 1.5', { ...base, capacity: 1.5 }, RangeError, /got 1\.5/],
      ['capacity NaN', { ...base, capacity: Number.NaN }, RangeError, /got NaN/],
      ["capacity '8'", { ...base, capacity: '8' }, RangeError, /got "8"/],
      [
        'reserve >= capacity',
        { ...base, terminalReserve: 4 },
        RangeError,
        /terminalReserve .* got 4/,
      ],
      [
        'unknown policy',
        { ...base, overflow: 'drop-latest' },
        TypeError,
        /overflow .* got "drop-latest"/,
      ],
      [
        'demand and flushOn',
        { ...base, demand: of(1), flushOn: of(1) },
        RangeError,
        /demand and flushOn cannot be combined/,
      ],
      [
        'onOverflow not a function',
        { ...base, onOverflow: 1 },
        TypeError,
        /onOverflow must be a function, got 1/,
      ],
      [
        'scheduler not a scheduler',
        { ...base, scheduler: {} },
        TypeError,
        /scheduler must be a SchedulerLike/,
      ],
      [
        'demand a number',
        { ...base, demand: 3 },
        TypeError,
        /boundedQueue: demand must be an ObservableInput, got 3/,
      ],
      [
        'flushOn an object',
        { ...base, flushOn: {} },
        TypeError,
        /boundedQueue: flushOn must be an ObservableInput, got \{\}/,
      ],
      [
        'inspect not a function',
        { ...base, inspect: 'yes' },
        TypeError,
        /boundedQueue: inspect must be a function, got "yes"/,
      ],
      [
        'scheduler without now',
        { ...base, scheduler: { schedule: () => undefined } },
        TypeError,
        /boundedQueue: scheduler must be a SchedulerLike/,
      ],
      [
        'demand null',
        { ...base, demand: null },
        TypeError,
        /demand must be an ObservableInput, got null/,
      ],
      [
        'drop-progress without classify',
        { ...base, overflow: 'drop-progress' },
        TypeError,
        /^boundedQueue: classify must be a function when overflow is 'drop-progress'/,
      ],
      [
        'coalesce without classify',
        { ...base, overflow: coalesce(concatText) },
        TypeError,
        /^boundedQueue: classify must be a function when overflow is coalesce\(\.\.\.\)/,
      ],
      [
        'initialDemand negative',
        { ...base, demand: of(1), initialDemand: -1 },
        RangeError,
        /^boundedQueue: initialDemand must be a non-negative integer or Infinity, got -1$/,
      ],
      [
        'initialDemand without demand',
        { ...base, initialDemand: 4 },
        RangeError,
        /^boundedQueue: initialDemand must be given with demand/,
      ],
      [
        'onDrop not a function',
        { ...base, onDrop: true },
        TypeError,
        /^boundedQueue: onDrop must be a function, got true$/,
      ],
    ])('%s throws at creation', (_name, config, type, message) => {
      expect(() => boundedQueue(config as BoundedQueueConfig<string>)).toThrow(type);
      expect(() => boundedQueue(config as BoundedQueueConfig<string>)).toThrow(message);
    });

    it('does nothing at creation but validate', () => {
      let subscribed = 0;
      const demand = new Observable<number>(() => {
        subscribed++;
      });
      boundedQueue({ ...base, demand });
      expect(subscribed).toBe(0);
    });
  });

  it("keeps the source's value type, even with a loosely typed classifier", () => {
    interface Delta {
      kind: 'delta' | 'done';
      text: string;
    }
    const deltas$ = new Observable<Delta>();
    const loose = (value: unknown): 'progress' | 'normal' =>
      (value as { kind?: string }).kind === 'delta' ? 'progress' : 'normal';
    expectTypeOf(
      deltas$.pipe(boundedQueue({ capacity: 8, overflow: 'drop-progress', classify: loose })),
    ).toEqualTypeOf<Observable<Delta>>();
    // A classifier of a wider type, an onDrop of unknown values, a merge typed from the source.
    expectTypeOf(
      deltas$.pipe(
        boundedQueue({
          capacity: 8,
          overflow: coalesce((a, b) => ({ ...b, text: a.text + b.text })),
          classify: (event: { kind: string }) => (event.kind === 'delta' ? 'progress' : 'normal'),
          onDrop: (value: unknown) => value,
        }),
      ),
    ).toEqualTypeOf<Observable<Delta>>();
    // Outside a pipe, the classifier's type is the operator's type, as before.
    expectTypeOf(
      boundedQueue({ capacity: 8, overflow: 'drop-oldest', classify: (_event: Delta) => 'normal' }),
    ).toEqualTypeOf<MonoTypeOperatorFunction<Delta>>();
  });

  it('is typed as a MonoTypeOperatorFunction of the value type', () => {
    expectTypeOf(boundedQueue<{ kind: string }>({ capacity: 1, overflow: 'error' })).toEqualTypeOf<
      MonoTypeOperatorFunction<{ kind: string }>
    >();
    expectTypeOf<Subject<void>>().toMatchTypeOf<
      NonNullable<BoundedQueueConfig<string>['demand']>
    >();
    // Compile-time only: these calls must not type-check.
    const rejectedAtCompileTime = () => {
      // @ts-expect-error overflow is required: there is no silent default
      boundedQueue<string>({ capacity: 1 });
      // @ts-expect-error coalesce's merge must take the value type
      boundedQueue<string>({ capacity: 1, overflow: coalesce((a: number, b: number) => a + b) });
    };
    expect(rejectedAtCompileTime).toBeTypeOf('function');
    expectTypeOf(
      boundedQueue<string>({
        capacity: 1,
        overflow: coalesce(concatText as (a: string, b: string) => string),
        classify: classifyLetter,
      }),
    ).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
  });
});
