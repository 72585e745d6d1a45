import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { OverflowQueue, type PushOutcome } from '../../src/core/OverflowQueue.js';
import { PriorityOverflowQueue } from '../../src/core/PriorityOverflowQueue.js';
import {
  coalesce,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  QueueOverflowError,
} from '../../src/core/types.js';
import { needsClassifier, POLICY_CASES, type PolicyCase, policyOfCase } from './policyCases.js';
import { ReferenceQueue } from './referenceQueue.js';

interface Item {
  id: number;
  cls: EventClass;
  key: number;
  parts: number[];
}

const classifyItem = (item: Item): EventClass => item.cls;
const mergeItems = (acc: Item, next: Item): Item => ({
  ...acc,
  parts: [...acc.parts, ...next.parts],
});
const keyOfItem = (item: Item): number => item.key;

const policyFor = (name: PolicyCase): OverflowPolicy<Item> =>
  policyOfCase(name, mergeItems, keyOfItem);

describe('OverflowQueue', () => {
  describe('admission', () => {
    it('is a FIFO while there is room', () => {
      const queue = new OverflowQueue<number>({ capacity: 3, overflow: 'error' });
      expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual(['queued', 'queued', 'queued']);
      expect(queue.size).toBe(3);
      expect([queue.shift(), queue.shift(), queue.shift()]).toEqual([1, 2, 3]);
      expect(queue.isEmpty).toBe(true);
      expect(queue.takeNotice()).toBeUndefined();
    });

    it('defaults the terminal reserve to 1 with a classifier and 0 without', () => {
      expect(new OverflowQueue({ capacity: 4, overflow: 'drop-oldest' }).terminalReserve).toBe(0);
      const classified = new OverflowQueue({
        capacity: 4,
        overflow: 'drop-oldest',
        classify: () => 'normal',
      });
      expect(classified.terminalReserve).toBe(1);
      const tiny = new OverflowQueue({
        capacity: 1,
        overflow: 'drop-oldest',
        classify: () => 'normal',
      });
      expect(tiny.terminalReserve).toBe(0);
    });

    it('keeps the reserved slots for terminal values', () => {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: 'drop-incoming',
        classify: (value) => (value === 'T' ? 'terminal' : 'normal'),
        terminalReserve: 1,
      });
      expect(['a', 'b', 'c', 'T'].map((value) => queue.push(value))).toEqual([
        'queued',
        'queued',
        'rejected',
        'queued',
      ]);
      expect(queue.toArray()).toEqual(['a', 'b', 'T']);
    });

    it('admits terminal values beyond capacity and counts the overcommit', () => {
      const queue = new OverflowQueue<string>({
        capacity: 1,
        overflow: 'drop-oldest',
        classify: (value) => (value === value.toUpperCase() ? 'terminal' : 'normal'),
      });
      queue.push('a');
      queue.push('T');
      queue.push('X');
      expect(queue.toArray()).toEqual(['a', 'T', 'X']);
      expect(queue.stats()).toMatchObject({ depth: 3, highWater: 3, terminalOvercommits: 2 });
      expect(queue.takeNotice()).toBeUndefined();
    });

    it('rejects a non-terminal newcomer when only terminals fill the queue, whatever the policy', () => {
      for (const policy of ['drop-oldest', 'drop-progress', 'drop-incoming'] as const) {
        const queue = new OverflowQueue<string>({
          capacity: 1,
          overflow: policy,
          classify: (value) => (value === 'T' ? 'terminal' : 'progress'),
        });
        queue.push('T');
        expect(queue.push('p')).toBe('rejected');
        expect(queue.toArray()).toEqual(['T']);
      }
    });
  });

  describe('policies', () => {
    const classify = (value: string): EventClass =>
      value.startsWith('p') ? 'progress' : value === 'T' ? 'terminal' : 'normal';

    it('drop-oldest evicts the oldest non-terminal value, skipping terminals', () => {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: 'drop-oldest',
        classify,
        terminalReserve: 0,
      });
      for (const value of ['T', 'a', 'p1']) queue.push(value);
      expect(queue.push('b')).toBe('evicted');
      expect(queue.toArray()).toEqual(['T', 'p1', 'b']);
      expect(queue.takeNotice()).toEqual({
        policy: 'drop-oldest',
        dropped: 1,
        merged: 0,
        first: 'a',
        last: 'a',
        terminalPreserved: true,
      });
    });

    it('drop-progress evicts the oldest progress value, even when a normal value is older', () => {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: 'drop-progress',
        classify,
        terminalReserve: 0,
      });
      for (const value of ['a', 'p1', 'p2']) queue.push(value);
      expect(queue.push('b')).toBe('evicted');
      expect(queue.push('c')).toBe('evicted');
      expect(queue.toArray()).toEqual(['a', 'b', 'c']);
      expect(queue.push('p3')).toBe('rejected');
      expect(queue.takeNotice()).toMatchObject({ dropped: 3, first: 'p1', last: 'p3' });
    });

    it("'error' reports overflow without admitting and builds the error", () => {
      const queue = new OverflowQueue<string>({ capacity: 1, overflow: 'error' });
      queue.push('a');
      expect(queue.push('b')).toBe('overflow');
      expect(queue.toArray()).toEqual(['a']);
      const error = queue.overflowError('b');
      expect(error).toBeInstanceOf(QueueOverflowError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('QueueOverflowError');
      expect(error.message).toContain('capacity 1');
      expect(error.notice).toEqual({
        policy: 'error',
        dropped: 1,
        merged: 0,
        first: 'b',
        last: 'b',
        terminalPreserved: true,
      });
      expect(queue.takeNotice()).toBeUndefined();
    });

    it('coalesce merges into the newest value of the key, only when that value is progress', () => {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: coalesce(
          (acc, next) => `${acc}+${next}`,
          (value) => value.slice(0, 2),
        ),
        classify,
        terminalReserve: 0,
      });
      for (const value of ['pa1', 'pb1', 'a']) queue.push(value);
      expect(queue.push('pa2')).toBe('merged');
      expect(queue.push('pb2')).toBe('merged');
      expect(queue.toArray()).toEqual(['pa1+pa2', 'pb1+pb2', 'a']);
      expect(queue.push('pc1')).toBe('evicted'); // no value of key 'pc': falls back to drop-progress
      expect(queue.toArray()).toEqual(['pb1+pb2', 'a', 'pc1']);
      expect(queue.takeNotice()).toEqual({
        policy: 'coalesce',
        dropped: 1,
        merged: 2,
        first: 'pa1+pa2',
        last: 'pa1+pa2',
        terminalPreserved: true,
      });
    });

    it('coalesce finds an older value of the key once the newest one was evicted', () => {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: coalesce(
          (acc, next) => `${acc}+${next}`,
          (value) => value.charAt(1),
        ),
        classify: (value) => (value.startsWith('p') ? 'progress' : 'normal'),
        terminalReserve: 0,
      });
      for (const value of ['px1', 'nx', 'py1']) queue.push(value);
      // A normal newcomer evicts the oldest progress value (px1), keeping the order of the rest.
      expect(queue.push('nz')).toBe('evicted');
      expect(queue.push('px2')).toBe('evicted'); // the newest 'x' is normal now: no merge
      expect(queue.toArray()).toEqual(['nx', 'nz', 'px2']);
    });

    it('coalesce keeps a key chain right when a value leaves its middle and slots are reused', () => {
      // Values are named class + key + n: 'nk1' is a normal value of key k.
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: coalesce(
          (acc, next) => `${acc}+${next}`,
          (value) => value.charAt(1),
        ),
        classify: (value) => (value.startsWith('p') ? 'progress' : 'normal'),
        terminalReserve: 0,
      });
      for (const value of ['nk1', 'pk2', 'nk3']) queue.push(value);
      // Full: pj1 has no progress of its key to merge into, so the oldest progress (pk2, in the
      // middle of k's chain) makes room; pj1 takes its slot.
      expect(queue.push('pj1')).toBe('evicted');
      expect(queue.shift()).toBe('nk1');
      expect(queue.shift()).toBe('nk3'); // nothing of key k is queued now
      queue.push('pa1');
      queue.push('pb1'); // the freed slots are taken by other keys
      // No value of k is queued: pk4 must not merge into anything; the oldest progress goes.
      expect(queue.push('pk4')).toBe('evicted');
      expect(queue.toArray()).toEqual(['pa1', 'pb1', 'pk4']);
    });

    it('a throwing classifier, key or merge leaves the queue untouched', () => {
      const queue = new OverflowQueue<string>({
        capacity: 1,
        overflow: coalesce<string>(
          () => {
            throw new Error('merge failed');
          },
          (value) => {
            if (value === 'bad-key') throw new Error('key failed');
            return 1;
          },
        ),
        classify: (value) => {
          if (value === 'bad') throw new Error('classify failed');
          return 'progress';
        },
      });
      queue.push('a');
      const before = queue.stats();
      expect(() => queue.push('bad')).toThrow('classify failed');
      expect(() => queue.push('bad-key')).toThrow('key failed');
      expect(() => queue.push('b')).toThrow('merge failed');
      expect(queue.stats()).toEqual(before);
      expect(queue.toArray()).toEqual(['a']);
    });

    it('rejects a classifier answer that is not one of the three classes', () => {
      const queue = new OverflowQueue<string>({
        capacity: 2,
        overflow: 'drop-oldest',
        classify: () => 'urgent' as EventClass,
      });
      expect(() => queue.push('a')).toThrow(
        new TypeError(`classify must return 'terminal', 'progress' or 'normal', got "urgent"`),
      );
      expect(queue.size).toBe(0);
    });
  });

  describe('notices', () => {
    it('accumulate one gap until taken, then start afresh', () => {
      const queue = new OverflowQueue<number>({ capacity: 1, overflow: 'drop-oldest' });
      queue.push(1);
      queue.push(2);
      queue.push(3);
      expect(queue.hasNotice).toBe(true);
      expect(queue.takeNotice()).toMatchObject({ dropped: 2, first: 1, last: 2 });
      expect(queue.hasNotice).toBe(false);
      queue.push(4);
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: 3, last: 3 });
    });
  });

  describe('housekeeping', () => {
    it('clear empties the queue and counts what it removed', () => {
      const queue = new OverflowQueue<number>({ capacity: 4, overflow: 'drop-oldest' });
      for (const value of [1, 2, 3, 4, 5]) queue.push(value);
      queue.clear();
      expect(queue.isEmpty).toBe(true);
      expect(queue.hasNotice).toBe(false);
      expect(queue.peek()).toBeUndefined();
      expect(queue.stats()).toMatchObject({ pushed: 5, dropped: 1, cleared: 4, depth: 0 });
      queue.push(6);
      expect(queue.shift()).toBe(6);
    });

    it('shift on an empty queue is a RangeError', () => {
      const queue = new OverflowQueue<number>({ capacity: 1, overflow: 'error' });
      expect(() => queue.shift()).toThrow(RangeError);
    });

    it('peek and headIsTerminal look without taking', () => {
      const queue = new OverflowQueue<string>({
        capacity: 2,
        overflow: 'error',
        classify: (value) => (value === 'T' ? 'terminal' : 'normal'),
      });
      expect(queue.headIsTerminal()).toBe(false);
      queue.push('T');
      expect(queue.peek()).toBe('T');
      expect(queue.headIsTerminal()).toBe(true);
      expect(queue.size).toBe(1);
    });

    it('reuses nodes: a long steady flow through a small queue keeps its counters exact', () => {
      const queue = new OverflowQueue<number>({ capacity: 8, overflow: 'drop-oldest' });
      let expected = 0;
      for (let value = 0; value < 100_000; value++) {
        queue.push(value);
        if (value % 2 === 1) {
          while (!queue.isEmpty) {
            expect(queue.shift()).toBe(expected++);
          }
        }
      }
      expect(queue.stats()).toMatchObject({ pushed: 100_000, delivered: 100_000, highWater: 2 });
    });
  });

  describe('bad options', () => {
    const cases: Array<[string, unknown, RegExp, ErrorConstructor]> = [
      [
        'capacity 0',
        { capacity: 0, overflow: 'error' },
        /capacity must be a positive integer, got 0/,
        RangeError,
      ],
      ['capacity -1', { capacity: -1, overflow: 'error' }, /capacity .* got -1/, RangeError],
      ['capacity 1.5', { capacity: 1.5, overflow: 'error' }, /capacity .* got 1\.5/, RangeError],
      [
        'capacity NaN',
        { capacity: Number.NaN, overflow: 'error' },
        /capacity .* got NaN/,
        RangeError,
      ],
      ['capacity "8"', { capacity: '8', overflow: 'error' }, /capacity .* got "8"/, RangeError],
      [
        'capacity Infinity',
        { capacity: Number.POSITIVE_INFINITY, overflow: 'error' },
        /got Infinity/,
        RangeError,
      ],
      [
        'reserve = capacity',
        { capacity: 2, overflow: 'error', terminalReserve: 2 },
        /terminalReserve .* got 2/,
        RangeError,
      ],
      [
        'reserve < 0',
        { capacity: 2, overflow: 'error', terminalReserve: -1 },
        /terminalReserve .* got -1/,
        RangeError,
      ],
      [
        'reserve 0.5',
        { capacity: 2, overflow: 'error', terminalReserve: 0.5 },
        /terminalReserve .* got 0\.5/,
        RangeError,
      ],
      [
        'unknown policy',
        { capacity: 2, overflow: 'drop-newest' },
        /overflow must be .* got "drop-newest"/,
        TypeError,
      ],
      ['missing policy', { capacity: 2 }, /overflow must be .* got undefined/, TypeError],
      [
        'fake coalesce',
        { capacity: 2, overflow: { kind: 'coalesce' } },
        /overflow must be/,
        TypeError,
      ],
      [
        'classify not a function',
        { capacity: 2, overflow: 'error', classify: 'terminal' },
        /classify must be a function, got "terminal"/,
        TypeError,
      ],
      ['options null', null, /options must be an object, got null/, TypeError],
    ];
    it.each(cases)('%s', (_name, options, message, type) => {
      expect(() => new OverflowQueue(options as never)).toThrow(type);
      expect(() => new OverflowQueue(options as never)).toThrow(message);
    });

    it('coalesce checks its functions', () => {
      expect(() => coalesce('concat' as never)).toThrow(/merge must be a function, got "concat"/);
      expect(() => coalesce((a) => a, 3 as never)).toThrow(
        /coalesce: key must be a function, got 3/,
      );
    });
  });

  it('has the types a user relies on', () => {
    const queue = new OverflowQueue<{ n: number }>({ capacity: 1, overflow: 'drop-oldest' });
    expectTypeOf(queue.shift).returns.toEqualTypeOf<{ n: number }>();
    expectTypeOf(queue.push).returns.toEqualTypeOf<PushOutcome>();
    expectTypeOf(queue.takeNotice).returns.toEqualTypeOf<
      OverflowNotice<{ n: number }> | undefined
    >();
    expectTypeOf(coalesce((a: string, b: string) => a + b)).toMatchTypeOf<OverflowPolicy<string>>();
  });
});

describe('OverflowQueue against the reference model (property-based)', () => {
  type Op = { kind: 'push'; cls: EventClass; key: number } | { kind: 'shift' } | { kind: 'notice' };
  const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('push' as const),
        cls: fc.constantFrom<EventClass>('terminal', 'progress', 'progress', 'normal'),
        key: fc.integer({ min: 0, max: 3 }),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'shift' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'notice' as const }) },
  );

  it('delivers the same values and notices as the model, and keeps the invariants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...POLICY_CASES),
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.integer({ min: 0, max: 63 }), { nil: undefined }),
        fc.boolean(),
        fc.array(opArbitrary, { maxLength: 300 }),
        (policyName, capacity, reserveSeed, withClassifier, ops) => {
          const terminalReserve = reserveSeed === undefined ? undefined : reserveSeed % capacity;
          const options = {
            capacity,
            overflow: policyFor(policyName),
            classify: withClassifier || needsClassifier(policyName) ? classifyItem : undefined,
            terminalReserve,
          };
          const queue = new OverflowQueue<Item>(options);
          const model = new ReferenceQueue<Item>(options);
          const reserve = queue.terminalReserve;
          let nextId = 0;
          let lastDeliveredId = -1;
          for (const op of ops) {
            if (op.kind === 'push') {
              const id = nextId++;
              const item: Item = { id, cls: op.cls, key: op.key, parts: [id] };
              expect(queue.push(item)).toBe(model.push(item));
            } else if (op.kind === 'shift') {
              if (model.items.length === 0) {
                expect(queue.isEmpty).toBe(true);
                continue;
              }
              const notice = queue.takeNotice();
              expect(notice).toEqual(model.takeNotice());
              if (withClassifier && notice?.first !== undefined) {
                expect((notice.first as Item).cls).not.toBe('terminal');
                expect((notice.last as Item).cls).not.toBe('terminal');
              }
              const value = queue.shift();
              expect(value).toEqual(model.shift());
              expect(value.id).toBeGreaterThan(lastDeliveredId);
              lastDeliveredId = value.id;
            } else {
              expect(queue.takeNotice()).toEqual(model.takeNotice());
            }
            const stats = queue.stats();
            expect(stats).toEqual(model.stats());
            expect(queue.toArray()).toEqual(model.items.map((entry) => entry.value));
            expect(stats.nonTerminalDepth).toBeLessThanOrEqual(capacity - reserve);
            expect(stats.delivered + stats.dropped + stats.merged + stats.depth).toBe(stats.pushed);
            expect(stats.depth - stats.nonTerminalDepth).toBe(
              model.items.filter((entry) => entry.cls === 'terminal').length,
            );
          }
          // No terminal was ever lost: every terminal pushed is delivered or still queued.
          const terminalsPushed = ops.filter(
            (op) => op.kind === 'push' && op.cls === 'terminal',
          ).length;
          const terminalsSeen = queue.toArray().filter((item) => item.cls === 'terminal').length;
          expect(terminalsSeen).toBeLessThanOrEqual(terminalsPushed);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps every key chain right under keyed coalesce, small queues and few keys', () => {
    // Values of a key leave from anywhere in its chain (shifts, progress evicted behind a normal
    // value of the same key): each later merge must still find the key's newest queued value.
    const smallOps: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('push' as const),
          cls: fc.constantFrom<EventClass>('terminal', 'progress', 'progress', 'normal'),
          key: fc.integer({ min: 0, max: 1 }),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'shift' as const }) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom<PolicyCase>('coalesce-keyed', 'drop-progress'),
        fc.integer({ min: 1, max: 5 }),
        fc.array(smallOps, { maxLength: 120 }),
        (policyName, capacity, ops) => {
          const options = { capacity, overflow: policyFor(policyName), classify: classifyItem };
          const queue = new OverflowQueue<Item>(options);
          const model = new ReferenceQueue<Item>(options);
          let nextId = 0;
          for (const op of ops) {
            if (op.kind === 'push') {
              const id = nextId++;
              const item: Item = { id, cls: op.cls, key: op.key, parts: [id] };
              expect(queue.push(item)).toBe(model.push(item));
            } else if (model.items.length > 0) {
              expect(queue.takeNotice()).toEqual(model.takeNotice());
              expect(queue.shift()).toEqual(model.shift());
            }
            expect(queue.toArray()).toEqual(model.items.map((entry) => entry.value));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never loses a terminal value and merges without losing parts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...POLICY_CASES),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.constantFrom<EventClass>('terminal', 'progress', 'normal'), { maxLength: 200 }),
        fc.integer({ min: 1, max: 5 }),
        (policyName, capacity, classes, drainEvery) => {
          const queue = new OverflowQueue<Item>({
            capacity,
            overflow: policyFor(policyName),
            classify: classifyItem,
          });
          const seenParts: number[] = [];
          const droppedIds = new Set<number>();
          const collectDrops = (notice: OverflowNotice<Item> | undefined): void => {
            if (notice?.first !== undefined) droppedIds.add(notice.first.id);
            if (notice?.last !== undefined) droppedIds.add(notice.last.id);
          };
          classes.forEach((cls, id) => {
            queue.push({ id, cls, key: id % 3, parts: [id] });
            if (id % drainEvery === 0 && !queue.isEmpty) {
              collectDrops(queue.takeNotice());
              seenParts.push(...queue.shift().parts);
            }
          });
          while (!queue.isEmpty) {
            collectDrops(queue.takeNotice());
            seenParts.push(...queue.shift().parts);
          }
          classes.forEach((cls, id) => {
            if (cls === 'terminal') expect(seenParts).toContain(id);
          });
          // Merging never reorders a key's values; without a key function it never reorders at all.
          for (let key = 0; key < 3; key++) {
            const ofKey = seenParts.filter((id) => id % 3 === key);
            expect([...ofKey].sort((a, b) => a - b)).toEqual(ofKey);
          }
          if (!policyName.startsWith('coalesce-keyed')) {
            expect([...seenParts].sort((a, b) => a - b)).toEqual(seenParts);
          }
          const stats = queue.stats();
          expect(stats.delivered + stats.dropped + stats.merged).toBe(classes.length);
          expect(new Set(seenParts).size).toBe(seenParts.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('OverflowQueue edges', () => {
  it('names itself in option errors and in an empty shift', () => {
    expect(() => new OverflowQueue({ capacity: 0, overflow: 'error' })).toThrow(
      new RangeError('OverflowQueue: capacity must be a positive integer, got 0'),
    );
    const queue = new OverflowQueue<number>({ capacity: 1, overflow: 'error' });
    expect(() => queue.shift()).toThrow(new RangeError('OverflowQueue.shift: the queue is empty'));
  });

  it('an empty queue has no terminal head', () => {
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: 'drop-oldest',
      classify: () => 'terminal',
    });
    expect(queue.headIsTerminal()).toBe(false);
    queue.push('end');
    queue.shift();
    expect(queue.headIsTerminal()).toBe(false);
  });

  it('merges by key after clear as before it', () => {
    const queue = new OverflowQueue<{ key: string; n: number }>({
      capacity: 2,
      overflow: coalesce(
        (acc, next) => ({ key: acc.key, n: acc.n + next.n }),
        (value) => value.key,
      ),
      classify: () => 'progress',
      terminalReserve: 0,
    });
    const fill = () => {
      queue.push({ key: 'a', n: 1 });
      queue.push({ key: 'b', n: 10 });
      return queue.push({ key: 'a', n: 100 });
    };
    expect(fill()).toBe('merged');
    queue.clear();
    expect(fill()).toBe('merged');
    expect(queue.toArray()).toEqual([
      { key: 'a', n: 101 },
      { key: 'b', n: 10 },
    ]);
  });
});

describe('OverflowQueue: what a full queue reports', () => {
  const byLetter = (value: string): EventClass =>
    value === value.toUpperCase() ? 'terminal' : value.startsWith('p') ? 'progress' : 'normal';
  const concat = (acc: string, next: string): string => `${acc}+${next}`;

  it('states its usable capacity: capacity - terminalReserve, 1 less with a classifier', () => {
    const plain = new OverflowQueue<string>({ capacity: 4, overflow: 'drop-oldest' });
    expect(plain.stats()).toMatchObject({ capacity: 4, terminalReserve: 0, usableCapacity: 4 });
    const classified = new OverflowQueue<string>({
      capacity: 4,
      overflow: 'drop-oldest',
      classify: byLetter,
    });
    expect(classified.stats()).toMatchObject({
      capacity: 4,
      terminalReserve: 1,
      usableCapacity: 3,
    });
    for (const value of ['a', 'b', 'c', 'd']) classified.push(value);
    expect(classified.toArray()).toEqual(['b', 'c', 'd']);
    const reserved = new OverflowQueue<string>({
      capacity: 4,
      overflow: 'drop-oldest',
      terminalReserve: 3,
    });
    expect(reserved.stats().usableCapacity).toBe(1);
  });

  it('refuses a terminalReserve that leaves no room, naming capacity and terminalReserve', () => {
    expect(
      () =>
        new OverflowQueue<string>({
          capacity: 2,
          overflow: 'drop-oldest',
          classify: byLetter,
          terminalReserve: 2,
        }),
    ).toThrow(
      /^OverflowQueue: terminalReserve must be .*< capacity, which is 2 .*capacity - terminalReserve.*got 2$/,
    );
  });

  describe("coalesce's fallback for a newcomer it cannot merge", () => {
    // Full (capacity 3, no reserve) with a merged progress value, then a normal newcomer.
    function fill(fallback?: 'drop-progress' | 'drop-oldest' | 'drop-incoming' | 'error') {
      const queue = new OverflowQueue<string>({
        capacity: 3,
        overflow: coalesce(concat, undefined, fallback === undefined ? undefined : { fallback }),
        classify: byLetter,
        terminalReserve: 0,
      });
      for (const value of ['a', 'p1', 'b', 'p2']) queue.push(value);
      return queue;
    }

    it('merges what it can whatever the fallback', () => {
      const queue = fill('drop-incoming');
      expect(queue.toArray()).toEqual(['a', 'p1', 'b']);
      // p2's newest queued value is b (normal): not merged, so the fallback rejects p2.
      expect(queue.takeNotice()).toMatchObject({ policy: 'coalesce', dropped: 1, first: 'p2' });
      expect(queue.push('p3')).toBe('rejected');
      queue.shift();
      queue.push('p4');
      expect(queue.push('p5')).toBe('merged');
      expect(queue.toArray()).toEqual(['p1', 'b', 'p4+p5']);
    });

    it("'drop-progress' (the default) evicts the oldest progress value, merged or not", () => {
      const queue = new OverflowQueue<string>({
        capacity: 2,
        overflow: coalesce(concat),
        classify: byLetter,
        terminalReserve: 0,
      });
      queue.push('p1');
      queue.push('p2');
      expect(queue.toArray()).toEqual(['p1', 'p2']);
      expect(queue.push('p3')).toBe('merged');
      expect(queue.push('n')).toBe('evicted');
      expect(queue.toArray()).toEqual(['p2+p3', 'n']);
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, merged: 1, first: 'p1' });
      expect(fill().push('c')).toBe('evicted');
    });

    it("'drop-oldest' evicts the oldest non-terminal value", () => {
      const queue = fill('drop-oldest');
      // p2 could not be merged (b is newest): it evicted a.
      expect(queue.toArray()).toEqual(['p1', 'b', 'p2']);
      expect(queue.push('c')).toBe('evicted');
      expect(queue.toArray()).toEqual(['b', 'p2', 'c']);
      expect(queue.takeNotice()).toMatchObject({ dropped: 2, first: 'a', last: 'p1' });
    });

    it("'drop-incoming' rejects the newcomer and keeps every merged value", () => {
      const queue = fill('drop-incoming');
      expect(queue.push('c')).toBe('rejected');
      expect(queue.toArray()).toEqual(['a', 'p1', 'b']);
    });

    it("'error' overflows: the stream is to end with QueueOverflowError", () => {
      const queue = fill('error');
      expect(queue.push('c')).toBe('overflow');
      expect(queue.toArray()).toEqual(['a', 'p1', 'b']);
      expect(queue.overflowError('c').notice).toMatchObject({ first: 'c', dropped: 1 });
    });
  });

  describe('onDrop', () => {
    it('is called at once for each value dropped, with the reason, never for a merge', () => {
      const drops: Array<[string, string]> = [];
      const onDrop = (value: string, reason: string): void => {
        drops.push([value, reason]);
      };
      const oldest = new OverflowQueue<string>({ capacity: 2, overflow: 'drop-oldest', onDrop });
      for (const value of ['a', 'b', 'c']) oldest.push(value);
      expect(drops).toEqual([['a', 'evicted']]);
      const incoming = new OverflowQueue<string>({
        capacity: 1,
        overflow: 'drop-incoming',
        onDrop,
      });
      incoming.push('x');
      incoming.push('y');
      expect(drops.at(-1)).toEqual(['y', 'rejected']);
      const erring = new OverflowQueue<string>({ capacity: 1, overflow: 'error', onDrop });
      erring.push('x');
      expect(erring.push('z')).toBe('overflow');
      expect(drops.at(-1)).toEqual(['z', 'overflow']);
      const merging = new OverflowQueue<string>({
        capacity: 1,
        overflow: coalesce(concat),
        classify: byLetter,
        onDrop,
      });
      merging.push('p1');
      expect(merging.push('p2')).toBe('merged');
      expect(drops).toHaveLength(3);
      merging.clear();
      expect(drops).toHaveLength(3);
    });

    it('is called once the newcomer is placed: a throw leaves the queue consistent', () => {
      const queue = new OverflowQueue<string>({
        capacity: 2,
        overflow: 'drop-oldest',
        onDrop: () => {
          throw new Error('log down');
        },
      });
      queue.push('a');
      queue.push('b');
      expect(() => queue.push('c')).toThrow('log down');
      expect(queue.toArray()).toEqual(['b', 'c']);
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: 'a' });
    });

    it('reports the drops of a priority queue too', () => {
      const drops: string[] = [];
      const queue = new PriorityOverflowQueue<string>({
        capacity: 2,
        overflow: 'drop-incoming',
        priority: (value) => (value.endsWith('!') ? 1 : 0),
        onDrop: (value, reason) => drops.push(`${value} ${reason}`),
      });
      for (const value of ['a', 'b', 'c!', 'd']) queue.push(value);
      expect(drops).toEqual(['b evicted', 'd rejected']);
    });
  });
});
