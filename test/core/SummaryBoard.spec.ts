import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SummaryBoard, type SummaryBoardConfig } from '../../src/core/SummaryBoard.js';
import type { EventClass } from '../../src/core/types.js';

interface Item {
  key: number;
  cls: EventClass;
  ids: number[];
}

const mergeItems = (acc: Item, next: Item): Item => ({ ...acc, ids: [...acc.ids, ...next.ids] });

/** A clock the test moves by hand. */
class ManualClock {
  time = 0;
  now(): number {
    return this.time;
  }
}

function boardOf(
  options: Partial<SummaryBoardConfig<Item>> & { clock?: ManualClock } = {},
): SummaryBoard<Item> {
  return new SummaryBoard<Item>({
    classify: (item) => item.cls,
    merge: mergeItems,
    key: (item) => item.key,
    maxMerged: Number.POSITIVE_INFINITY,
    window: Number.POSITIVE_INFINITY,
    clock: new ManualClock(),
    owner: 'test',
    ...options,
  });
}

function drain(board: SummaryBoard<Item>): number[][] {
  const out: number[][] = [];
  while (!board.isEmpty) out.push(board.shift().ids);
  return out;
}

const progress = (key: number, id: number): Item => ({ key, cls: 'progress', ids: [id] });
const normal = (key: number, id: number): Item => ({ key, cls: 'normal', ids: [id] });

/**
 * The reference: pending summaries in an array kept in first-value order, scanned linearly; the
 * ready items in an array.
 */
class ReferenceBoard {
  readonly pending: Array<{ key: number; scope: number; item: Item; deadline: number }> = [];
  readonly ready: number[][] = [];

  constructor(
    private readonly scopeOf: ((item: Item) => number) | undefined,
    private readonly maxMerged: number,
    private readonly window: number,
  ) {}

  push(item: Item, now: number): void {
    if (item.cls === 'progress') {
      const found = this.pending.find((entry) => entry.key === item.key);
      if (found === undefined) {
        const scope = this.scopeOf?.(item) ?? item.key;
        this.pending.push({ key: item.key, scope, item, deadline: now + this.window });
      } else {
        found.item = mergeItems(found.item, item);
      }
      const entry = this.pending.find((candidate) => candidate.key === item.key)!;
      if (entry.item.ids.length >= this.maxMerged) this.releaseWhere((e) => e === entry);
      return;
    }
    const scope = this.scopeOf === undefined ? item.key : this.scopeOf(item);
    this.releaseWhere((entry) =>
      this.scopeOf === undefined ? entry.key === item.key : entry.scope === scope,
    );
    this.ready.push(item.ids);
  }

  closeDue(now: number): void {
    while (this.pending.length > 0 && this.pending[0]!.deadline <= now) {
      this.ready.push(this.pending.shift()!.item.ids);
    }
  }

  flushAll(): void {
    this.releaseWhere(() => true);
  }

  private releaseWhere(predicate: (entry: ReferenceBoard['pending'][number]) => boolean): void {
    for (let index = 0; index < this.pending.length; ) {
      const entry = this.pending[index]!;
      if (predicate(entry)) {
        this.pending.splice(index, 1);
        this.ready.push(entry.item.ids);
      } else {
        index++;
      }
    }
  }
}

describe('SummaryBoard', () => {
  it('merges progress per key and lets a normal value release its key first, then itself', () => {
    const board = boardOf();
    board.push(progress(1, 0));
    board.push(progress(2, 1));
    board.push(progress(1, 2));
    expect(board.isEmpty).toBe(true);
    expect(board.hasPending).toBe(true);
    board.push(normal(1, 3));
    expect(board.size).toBe(2);
    expect(drain(board)).toEqual([[0, 2], [3]]);
    board.flushAll();
    expect(drain(board)).toEqual([[1]]);
    expect(board.hasPending).toBe(false);
  });

  it('reads the clock only when a key opens, and closes due summaries oldest first', () => {
    const clock = new ManualClock();
    let reads = 0;
    const counting = {
      now: () => {
        reads++;
        return clock.now();
      },
    };
    const board = boardOf({ window: 10, clock: counting as unknown as ManualClock });
    board.push(progress(1, 0));
    clock.time = 4;
    board.push(progress(2, 1));
    board.push(progress(1, 2));
    board.push(progress(2, 3));
    expect(reads).toBe(2);
    expect(board.firstDeadline).toBe(10);
    board.closeDue(9);
    expect(board.isEmpty).toBe(true);
    board.closeDue(10);
    expect(drain(board)).toEqual([[0, 2]]);
    expect(board.firstDeadline).toBe(14);
    board.closeDue(14);
    expect(drain(board)).toEqual([[1, 3]]);
    expect(board.firstDeadline).toBe(Number.POSITIVE_INFINITY);
  });

  it('releases a summary the moment it stands for maxMerged values', () => {
    const board = boardOf({ maxMerged: 2 });
    board.push(progress(1, 0));
    expect(board.isEmpty).toBe(true);
    board.push(progress(1, 1));
    expect(drain(board)).toEqual([[0, 1]]);
    const single = boardOf({ maxMerged: 1 });
    single.push(progress(1, 2));
    expect(drain(single)).toEqual([[2]]);
    expect(single.hasPending).toBe(false);
  });

  it('with a scope, a normal value releases every pending key of its scope, oldest first', () => {
    const board = boardOf({ scope: (item) => item.key % 2 });
    board.push(progress(1, 0));
    board.push(progress(2, 1));
    board.push(progress(3, 2));
    board.push(normal(5, 3));
    expect(drain(board)).toEqual([[0], [2], [3]]);
    board.push(normal(5, 4));
    expect(drain(board)).toEqual([[4]]);
    board.flushAll();
    expect(drain(board)).toEqual([[1]]);
  });

  it('unlinks a summary released by maxMerged from the middle of its scope', () => {
    const board = boardOf({ scope: () => 'one scope', maxMerged: 2 });
    board.push(progress(1, 0));
    board.push(progress(2, 1));
    board.push(progress(3, 2));
    board.push(progress(2, 3));
    expect(drain(board)).toEqual([[1, 3]]);
    board.push(normal(9, 4));
    expect(drain(board)).toEqual([[0], [2], [4]]);
    expect(board.hasPending).toBe(false);
  });

  it('leaves itself as it was when a callback throws, and throws it to the caller', () => {
    const failure = new Error('merge failed');
    const board = boardOf({
      merge: (acc, next) => {
        if (next.ids[0] === 1) throw failure;
        return mergeItems(acc, next);
      },
    });
    board.push(progress(1, 0));
    expect(() => board.push(progress(1, 1))).toThrow(failure);
    board.push(progress(1, 2));
    board.flushAll();
    expect(drain(board)).toEqual([[0, 2]]);
  });

  it('refuses a class that is not one, naming the owner', () => {
    const board = boardOf({ classify: () => 'bogus' as EventClass });
    expect(() => board.push(progress(1, 0))).toThrow(
      new TypeError(`test: classify must return 'terminal', 'progress' or 'normal', got "bogus"`),
    );
    expect(board.isEmpty).toBe(true);
  });

  it('keeps FIFO order across the growth of a wrapped ready ring, and forgets all on clear', () => {
    const board = boardOf();
    let next = 0;
    const expected: number[][] = [];
    for (let round = 0; round < 5; round++) {
      for (let index = 0; index < 6 + round * 7; index++) {
        board.push(normal(index, next));
        expected.push([next++]);
      }
      for (let index = 0; index < 3; index++) expect(board.shift().ids).toEqual(expected.shift());
    }
    expect(board.takeNotice()).toBeUndefined();
    expect(drain(board)).toEqual(expected);
    board.push(normal(1, 99));
    board.push(progress(1, 100));
    board.clear();
    expect([board.isEmpty, board.size, board.hasPending]).toEqual([true, 0, false]);
  });

  it('offers the steps of a drain queue, typed by its value', () => {
    expectTypeOf(boardOf().shift()).toEqualTypeOf<Item>();
    expectTypeOf(boardOf().takeNotice()).toEqualTypeOf<undefined>();
  });

  it('emits what a simple reference model emits, for any sequence of operations', () => {
    const push = fc.record({
      kind: fc.constant('push' as const),
      key: fc.integer({ min: 0, max: 4 }),
      cls: fc.constantFrom<EventClass>('progress', 'progress', 'normal', 'terminal'),
      gap: fc.constantFrom(0, 0, 1, 3),
    });
    const operation = fc.oneof(
      { arbitrary: push, weight: 8 },
      { arbitrary: fc.record({ kind: fc.constant('close' as const) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('flush' as const) }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant('shift' as const),
          count: fc.integer({ min: 1, max: 5 }),
        }),
        weight: 2,
      },
    );
    fc.assert(
      fc.property(
        fc.array(operation, { minLength: 10, maxLength: 150 }),
        fc.boolean(),
        fc.constantFrom(1, 2, 3, Number.POSITIVE_INFINITY),
        fc.constantFrom(0, 2, 5, Number.POSITIVE_INFINITY),
        (operations, scoped, maxMerged, window) => {
          const clock = new ManualClock();
          const scopeOf = scoped ? (item: Item) => item.key % 2 : undefined;
          const board = boardOf({ scope: scopeOf, maxMerged, window, clock });
          const reference = new ReferenceBoard(scopeOf, maxMerged, window);
          const taken: number[][] = [];
          let id = 0;
          for (const op of operations) {
            if (op.kind === 'push') {
              clock.time += op.gap;
              const item = { key: op.key, cls: op.cls, ids: [id++] };
              board.push(item);
              reference.push(item, clock.time);
            } else if (op.kind === 'close') {
              board.closeDue(clock.time);
              reference.closeDue(clock.time);
            } else if (op.kind === 'flush') {
              board.flushAll();
              reference.flushAll();
            } else {
              for (let index = 0; index < op.count && !board.isEmpty; index++) {
                taken.push(board.shift().ids);
              }
            }
            expect(board.size).toBe(reference.ready.length - taken.length);
            expect(board.hasPending).toBe(reference.pending.length > 0);
          }
          board.flushAll();
          reference.flushAll();
          taken.push(...drain(board));
          expect(taken).toEqual(reference.ready);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('SummaryBoard with leading', () => {
  it('defaults to no leading: the first progress value waits for its window', () => {
    const board = boardOf();
    board.push(progress(1, 1));
    expect(drain(board)).toEqual([]);
    expect(board.hasPending).toBe(true);
  });

  it('the first progress value of a key leaves at once; the next ones are merged', () => {
    const clock = new ManualClock();
    const board = boardOf({ leading: true, window: 10, clock });
    board.push(progress(1, 1));
    expect(drain(board)).toEqual([[1]]);
    expect([board.hasPending, board.firstDeadline]).toEqual([true, 10]);
    board.push(progress(1, 2));
    board.push(progress(1, 3));
    expect(drain(board)).toEqual([]);
    clock.time = 10;
    board.closeDue(10);
    expect(drain(board)).toEqual([[2, 3]]);
    expect(board.hasPending).toBe(false);
    // The window closed: the next value leads again.
    board.push(progress(1, 4));
    expect(drain(board)).toEqual([[4]]);
  });

  it('a window that closes with nothing merged emits nothing', () => {
    const board = boardOf({ leading: true, window: 10 });
    board.push(progress(1, 1));
    drain(board);
    board.closeDue(10);
    expect([drain(board), board.hasPending]).toEqual([[], false]);
    board.push(progress(2, 2));
    drain(board);
    board.flushAll();
    expect(drain(board)).toEqual([]);
  });

  it('a non-progress value closes its key’s open window without emitting anything for it', () => {
    const board = boardOf({ leading: true });
    board.push(progress(1, 1));
    board.push(normal(1, 2));
    board.push(progress(1, 3));
    expect(drain(board)).toEqual([[1], [2], [3]]);
  });

  it('with maxMerged 1, every progress value leaves at once, the first and the next', () => {
    const board = boardOf({ leading: true, maxMerged: 1 });
    for (const id of [1, 2, 3]) board.push(progress(1, id));
    expect(drain(board)).toEqual([[1], [2], [3]]);
  });

  it('a summary released by maxMerged closes the window: the next value leads', () => {
    const board = boardOf({ leading: true, maxMerged: 2 });
    for (const id of [1, 2, 3, 4, 5]) board.push(progress(1, id));
    expect(drain(board)).toEqual([[1], [2, 3], [4]]);
    expect(board.hasPending).toBe(true);
  });
});
