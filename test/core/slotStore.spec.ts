import { describe, expect, it } from 'vitest';
import { OverflowQueue } from '../../src/core/OverflowQueue.js';
import { PriorityOverflowQueue } from '../../src/core/PriorityOverflowQueue.js';
import { coalesce, type EventClass } from '../../src/core/types.js';

/*
 * The memory side of the slot storage, which no answer of the queues shows: a queue that never
 * holds a value allocates no slot arrays, the arrays double up to exactly the capacity (only
 * terminal overcommits take them past it), a deep burst's arrays are given back once it is
 * delivered, and key arrays exist only under a keyed coalesce. These read the storage's private
 * fields on purpose: the sizes are the behaviour under test.
 */

interface SlotInternals {
  slotCount: number;
  values: unknown[];
  links: Int32Array;
  tags: Uint8Array;
  keys: unknown[] | undefined;
  keyLinks: Int32Array | undefined;
}

const internals = (queue: object): SlotInternals => queue as unknown as SlotInternals;

/** The sizes of the slot arrays, per slot (links hold 6 entries a slot, key links 2). */
function sizes(queue: object) {
  const store = internals(queue);
  return {
    slots: store.slotCount,
    links: store.links.length / 6,
    tags: store.tags.length,
    keyLinks: store.keyLinks === undefined ? undefined : store.keyLinks.length / 2,
  };
}

const classOf = (value: number): EventClass => (value < 0 ? 'terminal' : 'normal');

describe('slot arrays', () => {
  it('are not allocated before the first value', () => {
    const queue = new OverflowQueue<number>({ capacity: 100, overflow: 'drop-oldest' });
    expect(sizes(queue)).toEqual({ slots: 0, links: 0, tags: 0, keyLinks: undefined });
    queue.push(1);
    expect(sizes(queue)).toEqual({ slots: 8, links: 8, tags: 8, keyLinks: undefined });
  });

  it('double up to exactly the capacity, and past it only for terminal overcommits', () => {
    const queue = new OverflowQueue<number>({
      capacity: 20,
      overflow: 'drop-oldest',
      classify: classOf,
      terminalReserve: 0,
    });
    const grownTo: number[] = [];
    for (let value = 0; value < 40; value++) {
      queue.push(value);
      const { slots } = sizes(queue);
      if (grownTo[grownTo.length - 1] !== slots) grownTo.push(slots);
    }
    expect(grownTo).toEqual([8, 16, 20]);
    expect(queue.size).toBe(20);
    queue.push(-1); // a terminal with the queue full: admitted past capacity
    expect(queue.size).toBe(21);
    expect(sizes(queue)).toEqual({ slots: 40, links: 40, tags: 40, keyLinks: undefined });
  });

  it('a capacity below the first size gets arrays of the capacity', () => {
    const queue = new OverflowQueue<number>({ capacity: 3, overflow: 'drop-oldest' });
    for (let value = 0; value < 10; value++) queue.push(value);
    expect(sizes(queue).slots).toBe(3);
  });

  it('are kept when a shallow queue empties, and reused', () => {
    const queue = new OverflowQueue<number>({ capacity: 2_000, overflow: 'drop-oldest' });
    for (let value = 0; value < 1_000; value++) queue.push(value);
    const links = internals(queue).links;
    expect(sizes(queue).slots).toBe(1_024);
    while (!queue.isEmpty) queue.shift();
    expect(internals(queue).links).toBe(links);
    for (let value = 0; value < 1_000; value++) queue.push(value);
    expect(internals(queue).links).toBe(links);
  });

  it('are given back down to 1024 slots when a deeper burst has been delivered', () => {
    const queue = new OverflowQueue<number>({ capacity: 5_000, overflow: 'drop-oldest' });
    for (let value = 0; value < 3_000; value++) queue.push(value);
    expect(sizes(queue).slots).toBe(4_096);
    for (let value = 0; value < 2_999; value++) queue.shift();
    expect(sizes(queue).slots).toBe(4_096);
    expect(queue.shift()).toBe(2_999);
    expect(sizes(queue)).toEqual({ slots: 1_024, links: 1_024, tags: 1_024, keyLinks: undefined });
    expect(internals(queue).values).toEqual([]);
  });

  it('clear gives every array back', () => {
    const queue = new PriorityOverflowQueue<number>({
      capacity: 100,
      overflow: coalesce(
        (acc, next) => acc + next,
        (value) => value % 3,
      ),
      classify: () => 'progress',
      priority: (value) => value % 2,
    });
    for (let value = 0; value < 50; value++) queue.push(value);
    expect(sizes(queue)).toEqual({ slots: 64, links: 64, tags: 64, keyLinks: 64 });
    queue.clear();
    expect(sizes(queue)).toEqual({ slots: 0, links: 0, tags: 0, keyLinks: 0 });
    expect(internals(queue).keys).toEqual([]);
  });

  it('hold keys only under a keyed coalesce, and drop each key with its value', () => {
    const unkeyed = new OverflowQueue<number>({
      capacity: 4,
      overflow: coalesce((acc, next) => acc + next),
      classify: () => 'progress',
    });
    unkeyed.push(1);
    expect(internals(unkeyed).keys).toBeUndefined();
    expect(internals(unkeyed).keyLinks).toBeUndefined();
    const keyed = new OverflowQueue<{ id: number; key: string }>({
      capacity: 4,
      overflow: coalesce(
        (acc) => acc,
        (value) => value.key,
      ),
      classify: () => 'normal',
    });
    keyed.push({ id: 1, key: 'a' });
    keyed.push({ id: 2, key: 'b' });
    expect(internals(keyed).keys?.slice(0, 2)).toEqual(['a', 'b']);
    keyed.shift();
    expect(internals(keyed).keys?.slice(0, 2)).toEqual([undefined, 'b']);
    expect(internals(keyed).values.slice(0, 2)).toEqual([undefined, { id: 2, key: 'b' }]);
  });
});
