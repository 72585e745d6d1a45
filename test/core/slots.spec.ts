import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OverflowQueue } from '../../src/core/OverflowQueue.js';
import { PriorityOverflowQueue } from '../../src/core/PriorityOverflowQueue.js';
import { coalesce, type EventClass } from '../../src/core/types.js';
import { needsClassifier, POLICY_CASES, policyOfCase } from './policyCases.js';
import { ReferencePriorityQueue } from './referencePriorityQueue.js';
import { ReferenceQueue } from './referenceQueue.js';

/*
 * The queues keep their values in slot arrays that double as the queue deepens and are given
 * back when a deep queue empties. The other specs use small queues; these run bursts of
 * thousands of values, so that growth, slot reuse and the release after a deep burst happen
 * with every policy and class mix, and compare each answer with the reference models.
 */

interface Item {
  id: number;
  cls: EventClass;
  key: number;
  level: number;
}

const CLASSES: readonly EventClass[] = ['terminal', 'progress', 'normal'];
const classifyItem = (item: Item): EventClass => item.cls;
const priorityOf = (item: Item): number => item.level;
const keyOf = (item: Item): number => item.key;
const mergeItems = (acc: Item, next: Item): Item => ({ ...acc, id: acc.id * 1_000_000 + next.id });

/** A burst of `push` values, then `shift` values taken (as many as are queued at most). */
interface Phase {
  push: number;
  shift: number;
}

const phasesArbitrary = fc.array(
  fc.record({
    push: fc.integer({ min: 0, max: 2_000 }),
    shift: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  }),
  { minLength: 1, maxLength: 6 },
);

/** A repeating pattern of classes, keys and levels, so that a long burst stays cheap to draw. */
const patternArbitrary = fc.array(
  fc.record({
    cls: fc.integer({ min: 0, max: 2 }),
    key: fc.integer({ min: 0, max: 3 }),
    level: fc.integer({ min: 0, max: 3 }),
  }),
  { minLength: 1, maxLength: 17 },
);

interface QueueLike {
  push(value: Item): string;
  shift(): Item;
  takeNotice(): unknown;
  toArray(): Item[];
  readonly size: number;
}

interface ModelLike {
  push(value: Item): string;
  shift(): Item;
  takeNotice(): unknown;
  readonly items: unknown[];
}

function runPhases(
  queue: QueueLike,
  model: ModelLike,
  phases: Phase[],
  pattern: Array<{ cls: number; key: number; level: number }>,
  modelOrder: () => Item[],
): void {
  let nextId = 0;
  for (const phase of phases) {
    for (let count = 0; count < phase.push; count++) {
      const id = nextId++;
      const shape = pattern[id % pattern.length] as { cls: number; key: number; level: number };
      const item: Item = {
        id,
        cls: CLASSES[shape.cls] as EventClass,
        key: shape.key,
        level: shape.level,
      };
      const outcome = queue.push(item);
      if (outcome !== model.push(item)) expect(outcome).toBe('the model outcome');
    }
    expect(queue.toArray()).toEqual(modelOrder());
    for (let count = 0; count < phase.shift && model.items.length > 0; count++) {
      const notice = queue.takeNotice();
      const expectedNotice = model.takeNotice();
      if (notice !== expectedNotice) expect(notice).toEqual(expectedNotice);
      const value = queue.shift();
      const expected = model.shift();
      // Merged values are built apart by the queue and the model: their ids tell them apart.
      if (value.id !== expected.id) expect(value).toEqual(expected);
    }
    expect(queue.size).toBe(model.items.length);
    expect(queue.toArray()).toEqual(modelOrder());
  }
}

/** A queue's options and the bursts to run through it (the priority queue adds `priority`). */
const deepBurstCase = fc.record({
  policyName: fc.constantFrom(...POLICY_CASES),
  capacity: fc.integer({ min: 1, max: 3_000 }),
  classified: fc.boolean(),
  phases: phasesArbitrary,
  pattern: patternArbitrary,
});

function queueOptions({
  policyName,
  capacity,
  classified,
}: {
  policyName: (typeof POLICY_CASES)[number];
  capacity: number;
  classified: boolean;
}) {
  return {
    capacity,
    overflow: policyOfCase(policyName, mergeItems, keyOf),
    classify: classified || needsClassifier(policyName) ? classifyItem : undefined,
  };
}

describe('slot arrays across deep bursts', () => {
  it('OverflowQueue answers as the reference model through growth, reuse and release', () => {
    fc.assert(
      fc.property(deepBurstCase, (burst) => {
        const { phases, pattern } = burst;
        const options = queueOptions(burst);
        const model = new ReferenceQueue<Item>(options);
        runPhases(new OverflowQueue<Item>(options), model, phases, pattern, () =>
          model.items.map((entry) => entry.value),
        );
      }),
      { numRuns: 25 },
    );
  });

  it('PriorityOverflowQueue answers as the reference model through growth, reuse and release', () => {
    fc.assert(
      fc.property(deepBurstCase, (burst) => {
        const { phases, pattern } = burst;
        const options = { ...queueOptions(burst), priority: priorityOf };
        const model = new ReferencePriorityQueue<Item>(options);
        runPhases(new PriorityOverflowQueue<Item>(options), model, phases, pattern, () =>
          model.toArray(),
        );
      }),
      { numRuns: 25 },
    );
  });

  it('a deep queue that empties starts over with every counter kept', () => {
    const queue = new OverflowQueue<number>({
      capacity: 1_100,
      overflow: coalesce(
        (acc, next) => acc + next,
        (value) => value % 3,
      ),
      classify: () => 'progress',
      terminalReserve: 0,
    });
    const expected = Array.from({ length: 1_100 }, (_, value) => (value === 1_097 ? 2_197 : value));
    for (let round = 0; round < 3; round++) {
      for (let value = 0; value < 1_100; value++) expect(queue.push(value)).toBe('queued');
      // Full: 1,100 has key 2, whose newest value is 1,097.
      expect(queue.push(1_100)).toBe('merged');
      const taken: number[] = [];
      while (!queue.isEmpty) taken.push(queue.shift());
      expect(taken).toEqual(expected);
    }
    expect(queue.stats()).toMatchObject({
      pushed: 3 * 1_101,
      delivered: 3 * 1_100,
      merged: 3,
      depth: 0,
      highWater: 1_100,
    });
  });

  it('clear in the middle of a deep queue leaves a queue that works from empty', () => {
    const queue = new PriorityOverflowQueue<number>({
      capacity: 3_000,
      overflow: 'drop-oldest',
      priority: (value) => value % 4,
    });
    for (let value = 0; value < 2_000; value++) queue.push(value);
    queue.shift();
    queue.clear();
    expect(queue.isEmpty).toBe(true);
    expect(queue.toArray()).toEqual([]);
    for (let value = 0; value < 8; value++) queue.push(value);
    expect(queue.toArray()).toEqual([3, 7, 2, 6, 1, 5, 0, 4]);
    expect(queue.stats()).toMatchObject({ cleared: 1_999, depth: 8, delivered: 1 });
  });
});
