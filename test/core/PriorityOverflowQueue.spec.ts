import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { PushOutcome, QueueStats } from '../../src/core/OverflowQueue.js';
import {
  MAX_PRIORITY,
  PriorityOverflowQueue,
  type PriorityOverflowQueueOptions,
} from '../../src/core/PriorityOverflowQueue.js';
import {
  coalesce,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  QueueOverflowError,
} from '../../src/core/types.js';
import { needsClassifier, POLICY_CASES, type PolicyCase, policyOfCase } from './policyCases.js';
import { ReferencePriorityQueue } from './referencePriorityQueue.js';
import { ReferenceQueue } from './referenceQueue.js';

interface Job {
  id: string;
  cls: EventClass;
  level: number;
  key: number;
}

const job = (id: string, level: number, cls: EventClass = 'normal', key = 0): Job => ({
  id,
  cls,
  level,
  key,
});
const ids = (jobs: Job[]): string[] => jobs.map((item) => item.id);
const byJob = {
  classify: (item: Job): EventClass => item.cls,
  priority: (item: Job): number => item.level,
};
const drainIds = (queue: PriorityOverflowQueue<Job>): string[] => {
  const out: string[] = [];
  while (!queue.isEmpty) out.push(queue.shift().id);
  return out;
};

describe('PriorityOverflowQueue', () => {
  describe('order', () => {
    it('takes the highest priority first, FIFO within a priority', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 10,
        overflow: 'error',
        ...byJob,
      });
      for (const item of [job('a', 0), job('b', 2), job('c', 1), job('d', 2), job('e', 0)]) {
        expect(queue.push(item)).toBe('queued');
      }
      expect(queue.peek()?.id).toBe('b');
      expect(ids(queue.toArray())).toEqual(['b', 'd', 'c', 'a', 'e']);
      expect(drainIds(queue)).toEqual(['b', 'd', 'c', 'a', 'e']);
    });

    it('uses the whole range 0..31, including the top bit', () => {
      const queue = new PriorityOverflowQueue<Job>({ capacity: 4, overflow: 'error', ...byJob });
      queue.push(job('low', 0));
      queue.push(job('top', MAX_PRIORITY));
      queue.push(job('mid', 16));
      expect(drainIds(queue)).toEqual(['top', 'mid', 'low']);
    });

    it('without priority is a plain FIFO', () => {
      const queue = new PriorityOverflowQueue<string>({ capacity: 3, overflow: 'drop-oldest' });
      for (const value of ['a', 'b', 'c', 'd']) queue.push(value);
      expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(['b', 'c', 'd']);
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: 'a', last: 'a' });
    });
  });

  describe('overflow drops from the lowest priority first', () => {
    it('drop-oldest evicts the oldest value of the lowest priority', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 3,
        overflow: 'drop-oldest',
        terminalReserve: 0,
        ...byJob,
      });
      queue.push(job('hi1', 2));
      queue.push(job('lo1', 0));
      queue.push(job('lo2', 0));
      expect(queue.push(job('hi2', 2))).toBe('evicted');
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: { id: 'lo1' } });
      expect(queue.push(job('lower', 0))).toBe('evicted');
      expect(ids(queue.toArray())).toEqual(['hi1', 'hi2', 'lower']);
    });

    it('drop-oldest rejects a newcomer of lower priority than everything queued', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 2,
        overflow: 'drop-oldest',
        terminalReserve: 0,
        ...byJob,
      });
      queue.push(job('a', 3));
      queue.push(job('b', 1));
      expect(queue.push(job('c', 0))).toBe('rejected');
      expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: { id: 'c' } });
    });

    it('drop-incoming rejects the newcomer unless lower priorities are queued', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 3,
        overflow: 'drop-incoming',
        terminalReserve: 0,
        ...byJob,
      });
      queue.push(job('lo1', 0));
      queue.push(job('lo2', 0));
      queue.push(job('mid', 1));
      expect(queue.push(job('lo3', 0))).toBe('rejected');
      expect(queue.push(job('mid2', 1))).toBe('evicted');
      expect(queue.takeNotice()).toMatchObject({
        dropped: 2,
        first: { id: 'lo3' },
        last: { id: 'lo2' },
      });
      expect(ids(queue.toArray())).toEqual(['mid', 'mid2', 'lo1']);
    });

    it('drop-progress evicts progress of the lowest priority, before any normal value', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 4,
        overflow: 'drop-progress',
        terminalReserve: 0,
        ...byJob,
      });
      queue.push(job('n0', 0));
      queue.push(job('p2', 2, 'progress'));
      queue.push(job('p1', 1, 'progress'));
      queue.push(job('p1b', 1, 'progress'));
      expect(queue.push(job('n5', 5))).toBe('evicted');
      expect(queue.push(job('p0', 0, 'progress'))).toBe('rejected');
      expect(queue.push(job('p3', 3, 'progress'))).toBe('evicted');
      expect(queue.takeNotice()).toMatchObject({
        dropped: 3,
        first: { id: 'p1' },
        last: { id: 'p1b' },
      });
      expect(ids(queue.toArray())).toEqual(['n5', 'p3', 'p2', 'n0']);
    });

    it('never drops terminal values, whatever their priority', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 2,
        overflow: 'drop-oldest',
        ...byJob,
      });
      queue.push(job('T', 0, 'terminal'));
      queue.push(job('a', 0));
      expect(queue.push(job('b', 5))).toBe('evicted');
      expect(queue.push(job('U', 0, 'terminal'))).toBe('queued');
      expect(ids(queue.toArray())).toEqual(['b', 'T', 'U']);
      expect(queue.stats()).toMatchObject({ depth: 3, terminalOvercommits: 1, dropped: 1 });
    });

    it('coalesce merges only within the newcomer priority', () => {
      const queue = new PriorityOverflowQueue<Job>({
        capacity: 2,
        overflow: coalesce((acc: Job, next: Job) => ({ ...acc, id: `${acc.id}+${next.id}` })),
        terminalReserve: 0,
        ...byJob,
      });
      queue.push(job('p', 1, 'progress'));
      queue.push(job('q', 0, 'progress'));
      expect(queue.push(job('r', 1, 'progress'))).toBe('merged');
      expect(queue.push(job('s', 2, 'progress'))).toBe('evicted');
      expect(ids(queue.toArray())).toEqual(['s', 'p+r']);
      expect(queue.takeNotice()).toMatchObject({ merged: 1, dropped: 1, first: { id: 'q' } });
    });

    it("'error' reports the overflow and builds the error", () => {
      const queue = new PriorityOverflowQueue<Job>({ capacity: 1, overflow: 'error', ...byJob });
      queue.push(job('a', 0));
      const extra = job('b', 9);
      expect(queue.push(extra)).toBe('overflow');
      const error = queue.overflowError(extra);
      expect(error).toBeInstanceOf(QueueOverflowError);
      expect(error.notice).toMatchObject({ policy: 'error', first: extra, last: extra });
      expect(error.message).toContain('capacity 1');
    });
  });

  describe('errors', () => {
    it.each([
      ['-1', -1],
      ['32', 32],
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['"2"', '2'],
    ])('push rejects a priority of %s, naming the option, and changes nothing', (shown, bad) => {
      const queue = new PriorityOverflowQueue<number>({
        capacity: 2,
        overflow: 'drop-oldest',
        priority: (value) => (value === 0 ? (bad as number) : 1),
      });
      queue.push(1);
      expect(() => queue.push(0)).toThrow(RangeError);
      expect(() => queue.push(0)).toThrow(
        `PriorityOverflowQueue: priority must return an integer from 0 to 31, got ${shown}`,
      );
      expect(queue.stats()).toMatchObject({ depth: 1, pushed: 1 });
    });

    it('checks its options, naming the option and the value', () => {
      expect(
        () =>
          new PriorityOverflowQueue({
            capacity: 2,
            overflow: 'error',
            priority: 3 as never,
          }),
      ).toThrow(/PriorityOverflowQueue: priority must be a function, got 3/);
      expect(() => new PriorityOverflowQueue({ capacity: 0, overflow: 'error' })).toThrow(
        /PriorityOverflowQueue: capacity must be a positive integer, got 0/,
      );
      expect(() => new PriorityOverflowQueue({ capacity: 1, overflow: 'x' as never })).toThrow(
        TypeError,
      );
    });

    it('a throwing classifier or a bad class leaves the queue untouched', () => {
      const queue = new PriorityOverflowQueue<string>({
        capacity: 2,
        overflow: 'drop-oldest',
        classify: (value) => {
          if (value === 'boom') throw new Error('classify failed');
          return value as EventClass;
        },
      });
      queue.push('normal');
      expect(() => queue.push('boom')).toThrow('classify failed');
      expect(() => queue.push('weird')).toThrow(/classify must return .* got "weird"/);
      expect(queue.toArray()).toEqual(['normal']);
    });

    it('shift on an empty queue is a RangeError; peek is undefined', () => {
      const queue = new PriorityOverflowQueue<number>({ capacity: 1, overflow: 'error' });
      expect(() => queue.shift()).toThrow(RangeError);
      expect(queue.peek()).toBeUndefined();
    });
  });

  it('clear empties every level and counts what it removed', () => {
    const queue = new PriorityOverflowQueue<Job>({
      capacity: 4,
      overflow: 'drop-oldest',
      ...byJob,
    });
    queue.push(job('a', 0));
    queue.push(job('b', 3));
    queue.clear();
    expect(queue.isEmpty).toBe(true);
    expect(queue.stats()).toMatchObject({ depth: 0, cleared: 2 });
    queue.push(job('c', 1));
    expect(drainIds(queue)).toEqual(['c']);
  });

  it('has the types a user relies on', () => {
    const queue = new PriorityOverflowQueue<Job>({ capacity: 1, overflow: 'error', ...byJob });
    expectTypeOf(queue.shift).returns.toEqualTypeOf<Job>();
    expectTypeOf(queue.push).returns.toEqualTypeOf<PushOutcome>();
    expectTypeOf(queue.stats).returns.toEqualTypeOf<QueueStats>();
    expectTypeOf<PriorityOverflowQueueOptions<Job>['priority']>().toEqualTypeOf<
      ((value: Job) => number) | undefined
    >();
  });

  describe('properties', () => {
    type Op = { push: Job } | 'shift' | 'notice';
    const mergeJobs = (acc: Job, next: Job): Job => ({ ...acc, id: `${acc.id}+${next.id}` });
    const policyFor = (name: PolicyCase): OverflowPolicy<Job> =>
      policyOfCase(name, mergeJobs, (item: Job) => item.key);
    const opsArbitrary = (maxLevel: number): fc.Arbitrary<Op[]> =>
      fc
        .array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc
                .record({
                  cls: fc.constantFrom<EventClass>('terminal', 'progress', 'progress', 'normal'),
                  level: fc.integer({ min: 0, max: maxLevel }),
                  key: fc.integer({ min: 0, max: 2 }),
                })
                .map((fields) => ({ push: { id: '', ...fields } }) as Op),
            },
            { weight: 2, arbitrary: fc.constant<Op>('shift') },
            { weight: 1, arbitrary: fc.constant<Op>('notice') },
          ),
          { maxLength: 80 },
        )
        .map((ops) => {
          let next = 0;
          for (const op of ops) if (typeof op === 'object') op.push.id = `j${next++}`;
          return ops;
        });

    /** Runs the same operations on the queue and a model; compares every answer and the order. */
    function compare(
      options: PriorityOverflowQueueOptions<Job>,
      ops: Op[],
      model: {
        push(value: Job): PushOutcome;
        shift(): Job;
        takeNotice(): OverflowNotice<Job> | undefined;
        stats(): QueueStats;
        items: unknown[];
      },
      order: () => Job[],
    ): void {
      const queue = new PriorityOverflowQueue<Job>(options);
      for (const op of ops) {
        if (op === 'shift') {
          if (model.items.length === 0) expect(queue.isEmpty).toBe(true);
          else expect(queue.shift()).toEqual(model.shift());
        } else if (op === 'notice') {
          expect(queue.takeNotice()).toEqual(model.takeNotice());
        } else {
          expect(queue.push(op.push)).toBe(model.push(op.push));
        }
        expect(queue.size).toBe(model.items.length);
        expect(queue.stats()).toEqual(model.stats());
      }
      expect(queue.toArray()).toEqual(order());
      expect(queue.stats().pushed).toBe(ops.filter((op) => typeof op === 'object').length);
    }

    it('with priorities, matches the reference model of the documented rules', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...POLICY_CASES),
          fc.integer({ min: 1, max: 6 }),
          fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
          fc.boolean(),
          opsArbitrary(3),
          (policy, capacity, reserve, classified, ops) => {
            const options: PriorityOverflowQueueOptions<Job> = {
              capacity,
              overflow: policyFor(policy),
              terminalReserve: reserve === undefined ? undefined : reserve % capacity,
              classify: classified || needsClassifier(policy) ? byJob.classify : undefined,
              priority: byJob.priority,
            };
            const model = new ReferencePriorityQueue<Job>(options);
            compare(options, ops, model, () => model.toArray());
          },
        ),
        { numRuns: 500 },
      );
    });

    it('with one priority, behaves exactly as the OverflowQueue reference', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...POLICY_CASES),
          fc.integer({ min: 1, max: 6 }),
          fc.boolean(),
          opsArbitrary(0),
          (policy, capacity, classified, ops) => {
            const options: PriorityOverflowQueueOptions<Job> = {
              capacity,
              overflow: policyFor(policy),
              classify: classified || needsClassifier(policy) ? byJob.classify : undefined,
            };
            const model = new ReferenceQueue<Job>(options);
            compare(options, ops, model, () => model.items.map((entry) => entry.value));
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

describe('PriorityOverflowQueue edges', () => {
  it('names itself in an empty shift', () => {
    const queue = new PriorityOverflowQueue<number>({ capacity: 1, overflow: 'error' });
    expect(() => queue.shift()).toThrow(
      new RangeError('PriorityOverflowQueue.shift: the queue is empty'),
    );
  });

  it("'drop-oldest' rejects a newcomer when only terminals are queued", () => {
    const queue = new PriorityOverflowQueue<string>({
      capacity: 2,
      overflow: 'drop-oldest',
      classify: (value) => (value.startsWith('end') ? 'terminal' : 'normal'),
      terminalReserve: 0,
      priority: (value) => (value.endsWith('!') ? 2 : 0),
    });
    queue.push('end1');
    queue.push('end2');
    expect(queue.push('x!')).toBe('rejected');
    expect(queue.toArray()).toEqual(['end1', 'end2']);
    expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: 'x!', last: 'x!' });
  });

  it("'drop-oldest' looks past a lower level that holds only terminals", () => {
    const queue = new PriorityOverflowQueue<string>({
      capacity: 2,
      overflow: 'drop-oldest',
      classify: (value) => (value.startsWith('end') ? 'terminal' : 'normal'),
      terminalReserve: 0,
      priority: (value) => (value.endsWith('!') ? 1 : 0),
    });
    queue.push('end');
    queue.push('a!');
    expect(queue.push('b!')).toBe('evicted');
    expect(queue.toArray()).toEqual(['b!', 'end']);
    expect(queue.takeNotice()).toMatchObject({ dropped: 1, first: 'a!' });
  });

  it('coalesce never merges a normal newcomer into a progress value', () => {
    const queue = new PriorityOverflowQueue<string>({
      capacity: 2,
      overflow: coalesce((acc, next) => `${acc}+${next}`),
      classify: (value) => (value.startsWith('p') ? 'progress' : 'normal'),
      terminalReserve: 0,
      priority: (value) => (value.endsWith('!') ? 1 : 0),
    });
    queue.push('p1');
    queue.push('p2');
    expect(queue.push('n')).toBe('evicted');
    expect(queue.toArray()).toEqual(['p2', 'n']);
    expect(queue.push('n2!')).toBe('evicted');
    expect(queue.toArray()).toEqual(['n2!', 'n']);
  });
});
