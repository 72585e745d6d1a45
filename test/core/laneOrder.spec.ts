import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  keyBefore,
  type Laned,
  LaneHeap,
  mergeSortedLanes,
  sortLaneIds,
  TimedFifo,
} from '../../src/core/laneOrder.js';
import { referenceOrder, type Stamped, sortedLanesArbitrary } from './laneReference.js';

const stampOf = (value: Stamped): number => value.ts;

describe('keyBefore and sortLaneIds', () => {
  it('orders by timestamp, then lane rank, then laneSeq', () => {
    expect(keyBefore(1, 5, 9, 2, 0, 0)).toBe(true);
    expect(keyBefore(2, 0, 9, 2, 1, 0)).toBe(true);
    expect(keyBefore(2, 1, 1, 2, 1, 2)).toBe(true);
    expect(keyBefore(2, 1, 2, 2, 1, 2)).toBe(false);
    expect(keyBefore(3, 0, 0, 2, 9, 9)).toBe(false);
  });

  it('sorts lane ids by code units, not by locale or number', () => {
    expect(sortLaneIds(['b', 'a', 'B', '9', '10', 'é'])).toEqual(['10', '9', 'B', 'a', 'b', 'é']);
  });
});

describe('LaneHeap', () => {
  it('matches a reference model under random inserts, moves and deletes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }).chain((lanes) =>
          fc.tuple(
            fc.constant(lanes),
            fc.array(
              fc.record({
                lane: fc.integer({ min: 0, max: lanes - 1 }),
                del: fc.boolean(),
                ts: fc.integer({ min: -3, max: 3 }),
                seq: fc.integer({ min: 0, max: 3 }),
              }),
              { maxLength: 60 },
            ),
          ),
        ),
        ([laneCount, ops]) => {
          const heap = new LaneHeap(laneCount);
          const model = new Map<number, [number, number]>();
          for (const op of ops) {
            if (op.del) {
              heap.delete(op.lane);
              model.delete(op.lane);
            } else {
              heap.set(op.lane, op.ts, op.seq);
              model.set(op.lane, [op.ts, op.seq]);
            }
            let best = -1;
            for (const [lane, [ts, seq]] of model) {
              if (best < 0) best = lane;
              else {
                const [bestTs, bestSeq] = model.get(best)!;
                if (keyBefore(ts, lane, seq, bestTs, best, bestSeq)) best = lane;
              }
            }
            expect(heap.peek()).toBe(best);
            expect(heap.size).toBe(model.size);
            for (let lane = 0; lane < laneCount; lane++) {
              expect(heap.has(lane)).toBe(model.has(lane));
            }
          }
          heap.clear();
          expect(heap.peek()).toBe(-1);
          expect(heap.size).toBe(0);
        },
      ),
    );
  });

  /** Pops every lane (peek, then delete), returning (lane, ts, seq) in the order popped. */
  const drain = (heap: LaneHeap): [number, number, number][] => {
    const popped: [number, number, number][] = [];
    for (let lane = heap.peek(); lane >= 0; lane = heap.peek()) {
      popped.push([lane, heap.tsOf(lane), heap.seqOf(lane)]);
      heap.delete(lane);
    }
    return popped;
  };
  /** The model's lanes sorted by (ts, lane): the order a correct heap pops them. */
  const modelOrder = (model: Map<number, [number, number]>): [number, number, number][] =>
    [...model]
      .map(([lane, [ts, seq]]): [number, number, number] => [lane, ts, seq])
      .sort((a, b) => a[1] - b[1] || a[0] - b[0]);

  const keyArbitrary = fc.record({
    ts: fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: -2, max: 2 })),
    seq: fc.integer({ min: 0, max: 1_000 }),
  });

  it('pops every lane in (ts, lane) order after inserts, moves and deletes anywhere in it', () => {
    // Deleting a lane from the middle moves the heap's last entry into its slot, from another
    // subtree: it may be smaller than its new parent (sift up) or larger than its new children
    // (sift down). Only deep heaps and distinct timestamps tell a wrong direction apart, and only
    // the whole pop order shows an entry left out of place below the top. A run of deletes comes
    // last, since a later move of the misplaced entry's lane would repair the heap.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((lanes) =>
          fc.record({
            lanes: fc.constant(lanes),
            initial: fc.array(keyArbitrary, { minLength: lanes, maxLength: lanes }),
            ops: fc.array(
              fc.record({
                lane: fc.integer({ min: 0, max: lanes - 1 }),
                del: fc.boolean(),
                key: keyArbitrary,
              }),
              { maxLength: 100 },
            ),
            deletes: fc.array(fc.integer({ min: 0, max: lanes - 1 }), { maxLength: lanes }),
          }),
        ),
        ({ lanes, initial, ops, deletes }) => {
          const heap = new LaneHeap(lanes);
          const model = new Map<number, [number, number]>();
          const set = (lane: number, { ts, seq }: { ts: number; seq: number }) => {
            heap.set(lane, ts, seq);
            model.set(lane, [ts, seq]);
          };
          const remove = (lane: number) => {
            heap.delete(lane);
            model.delete(lane);
          };
          for (const [lane, key] of initial.entries()) set(lane, key);
          for (const op of ops) {
            if (op.del) remove(op.lane);
            else set(op.lane, op.key);
          }
          for (const lane of deletes) remove(lane);
          expect(heap.size).toBe(model.size);
          expect(drain(heap)).toEqual(modelOrder(model));
          expect(heap.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('moves the last entry up when a deleted lane leaves it below a larger parent', () => {
    // Lane i sits in slot i. Deleting lane 4 (under lane 1, ts 100) moves lane 11 (ts 4, from
    // the other subtree) into slot 4: smaller than its new parent, so it must go up past it, or
    // lane 1 would come out before it once the smaller entries above are gone.
    const ts = [0, 100, 1, 101, 102, 2, 3, 103, 104, 105, 106, 4];
    const heap = new LaneHeap(ts.length);
    for (const [lane, key] of ts.entries()) heap.set(lane, key, lane + 1);
    heap.delete(4);
    expect(drain(heap).map(([lane]) => lane)).toEqual([0, 2, 5, 6, 11, 1, 3, 7, 8, 9, 10]);
  });

  it('moves the last entry up past a parent of equal ts and a larger lane', () => {
    // Lane 4 (ts 10) moves into slot 4 under lane 5 (ts 10): the tie is broken by the lane, the
    // parent's own, so lane 4 goes up, and comes out before lane 5.
    const keys: Array<[number, number]> = [
      [0, 0],
      [5, 10],
      [1, 1],
      [6, 11],
      [7, 12],
      [2, 2],
      [3, 3],
      [8, 13],
      [9, 14],
      [10, 15],
      [11, 16],
      [4, 10],
    ];
    const heap = new LaneHeap(keys.length);
    for (const [lane, ts] of keys) heap.set(lane, ts, 1);
    heap.delete(7);
    expect(drain(heap).map(([lane]) => lane)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11]);
  });

  it('moves a lane down or up when its key grows or shrinks, ties broken by lane', () => {
    const heap = new LaneHeap(5);
    for (let lane = 0; lane < 5; lane++) heap.set(lane, lane * 10, 1);
    heap.set(0, 25, 2); // grows: below lanes 1 and 2
    heap.set(4, 5, 2); // shrinks: above lane 1
    heap.set(3, 10, 2); // ties lane 1 at 10: after it
    heap.set(2, 25, 3); // ties lane 0 at 25: after it
    expect(drain(heap)).toEqual([
      [4, 5, 2],
      [1, 10, 1],
      [3, 10, 2],
      [0, 25, 2],
      [2, 25, 3],
    ]);
  });

  it('ignores deleting a lane it does not hold, and holds a lane again after clear', () => {
    const heap = new LaneHeap(3);
    heap.delete(1);
    expect(heap.size).toBe(0);
    heap.set(1, 5, 1);
    heap.set(2, 3, 1);
    heap.delete(0);
    expect(heap.size).toBe(2);
    expect(heap.peek()).toBe(2);
    heap.clear();
    expect([heap.has(1), heap.has(2), heap.peek()]).toEqual([false, false, -1]);
    heap.set(1, 9, 4);
    expect([heap.has(1), heap.size, heap.peek(), heap.tsOf(1), heap.seqOf(1)]).toEqual([
      true,
      1,
      1,
      9,
      4,
    ]);
  });

  it('reports the key of a held lane', () => {
    const heap = new LaneHeap(2);
    heap.set(1, 7, 3);
    expect([heap.tsOf(1), heap.seqOf(1)]).toEqual([7, 3]);
  });
});

describe('TimedFifo', () => {
  it('is a FIFO of (value, timestamp, arrival) through growth and wrap-around', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer(), { nil: undefined }), { maxLength: 200 }),
        (ops) => {
          const fifo = new TimedFifo<number>();
          const model: number[] = [];
          for (const op of ops) {
            if (op === undefined) {
              if (model.length === 0) continue;
              expect(fifo.headTs()).toBe(model[0]! * 2);
              expect(fifo.headArrival()).toBe(model[0]! * 3 + 0.5);
              expect(fifo.shift()).toBe(model.shift());
            } else {
              fifo.push(op, op * 2, op * 3 + 0.5);
              model.push(op);
            }
            expect(fifo.size).toBe(model.length);
          }
          fifo.clear();
          expect(fifo.size).toBe(0);
          fifo.push(7, Number.NEGATIVE_INFINITY);
          expect([fifo.headTs(), fifo.headArrival(), fifo.shift()]).toEqual([
            Number.NEGATIVE_INFINITY,
            0,
            7,
          ]);
        },
      ),
    );
  });
});

describe('TimedFifo growth', () => {
  it('keeps order, timestamps and arrivals when it grows with its head wrapped around', () => {
    const fifo = new TimedFifo<number>();
    const model: number[] = [];
    let next = 0;
    for (const [pushes, shifts] of [
      [10, 7],
      [20, 5],
      [40, 30],
      [100, 0],
    ] as const) {
      for (let count = 0; count < pushes; count++) {
        fifo.push(next, next * 2, next * 3);
        model.push(next++);
      }
      for (let count = 0; count < shifts; count++) {
        const expected = model.shift() as number;
        expect([fifo.headTs(), fifo.headArrival(), fifo.shift()]).toEqual([
          expected * 2,
          expected * 3,
          expected,
        ]);
      }
      expect(fifo.size).toBe(model.length);
    }
    const rest: number[] = [];
    while (fifo.size > 0) {
      expect(fifo.headTs()).toBe((model[rest.length] as number) * 2);
      rest.push(fifo.shift());
    }
    expect(rest).toEqual(model);
  });
});

describe('mergeSortedLanes', () => {
  it('merges by timestamp, breaking ties by lane id, then by position', () => {
    const merged = mergeSortedLanes({ b: [2, 4], a: [1, 4, 4] }, (value) => value);
    expect(merged).toEqual([
      { lane: 'a', laneSeq: 1, value: 1 },
      { lane: 'b', laneSeq: 1, value: 2 },
      { lane: 'a', laneSeq: 2, value: 4 },
      { lane: 'a', laneSeq: 3, value: 4 },
      { lane: 'b', laneSeq: 2, value: 4 },
    ]);
  });

  it('returns an empty array for no lanes or empty lanes', () => {
    expect(mergeSortedLanes({}, Number)).toEqual([]);
    expect(mergeSortedLanes({ a: [], b: [] }, Number)).toEqual([]);
  });

  it('equals a stable sort by (timestamp, lane id, laneSeq)', () => {
    fc.assert(
      fc.property(sortedLanesArbitrary, (lanes) => {
        expect(mergeSortedLanes(lanes, stampOf)).toEqual(referenceOrder(lanes, stampOf));
      }),
    );
  });

  it('rejects bad input with errors naming it', () => {
    const ts = (value: number): number => value;
    expect(() => mergeSortedLanes(null as never, ts)).toThrow(
      new TypeError(
        'mergeSortedLanes: lanes must be an object mapping lane ids to lanes, got null',
      ),
    );
    expect(() => mergeSortedLanes([[1]] as never, ts)).toThrow(/lanes must be an object.*an array/);
    expect(() => mergeSortedLanes(5 as never, ts)).toThrow(
      new TypeError('mergeSortedLanes: lanes must be an object mapping lane ids to lanes, got 5'),
    );
    expect(() => mergeSortedLanes('ab' as never, ts)).toThrow(/lanes must be an object.*"ab"/);
    expect(() => mergeSortedLanes({ '': [1] }, ts)).toThrow(
      new TypeError('mergeSortedLanes: a lane id must be a non-empty string, got ""'),
    );
    expect(() => mergeSortedLanes({ a: 5 as never }, ts)).toThrow(
      new TypeError('mergeSortedLanes: lane "a" must be an array of values, got 5'),
    );
    expect(() => mergeSortedLanes({ a: [1] }, 'ts' as never)).toThrow(
      new TypeError('mergeSortedLanes: timestamp must be a function, got "ts"'),
    );
    expect(() => mergeSortedLanes({ a: [1], q: [Number.NaN] }, ts)).toThrow(
      new TypeError(
        'mergeSortedLanes: timestamp must return a number (not NaN), got NaN in lane "q"',
      ),
    );
    expect(() => mergeSortedLanes({ a: ['1'] as never }, ts)).toThrow(/got "1" in lane "a"/);
    expect(() => mergeSortedLanes({ a: [1, 3], slow: [1, 5, 2] }, ts)).toThrow(
      new TypeError('mergeSortedLanes: timestamps of lane "slow" went backwards: 2 after 5'),
    );
  });

  it('propagates what a throwing timestamp throws', () => {
    const boom = new Error('boom');
    expect(() =>
      mergeSortedLanes({ a: [1] }, () => {
        throw boom;
      }),
    ).toThrow(boom);
  });

  it('is typed as an array of Laned values', () => {
    expectTypeOf(mergeSortedLanes({ a: ['x'] }, () => 0)).toEqualTypeOf<Laned<string>[]>();
  });
});
