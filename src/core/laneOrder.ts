/**
 * The ordering shared by `mergeLanes` (live) and {@link mergeSortedLanes} (after the fact): values
 * of several lanes ordered by (timestamp, lane id, laneSeq). Nothing here imports RxJS.
 *
 * @packageDocumentation
 */
import { describe } from './types.js';

/**
 * A value tagged with the lane it came from and its place in that lane.
 *
 * `laneSeq` is dense from 1 per lane in the merged output: the n-th value of lane `lane` that the
 * consumer receives has `laneSeq` n. `late` is present (and `true`) only on a value that arrived
 * after values with a later (timestamp, lane id) had already been released.
 */
export interface Laned<T> {
  /** The id of the lane (the key of the lanes object). */
  lane: string;
  /** Dense from 1 per lane, in the order the lane's values are released. */
  laneSeq: number;
  /** The lane's value, untouched. */
  value: T;
  /** `true` when the value came too late to be put in order; absent otherwise. */
  late?: boolean;
}

/**
 * Lane ids in the order ties are broken: JavaScript string order (UTF-16 code units, the order of
 * `<`), not the locale's. Returns a new array.
 */
export function sortLaneIds(ids: readonly string[]): string[] {
  // Stryker disable next-line EqualityOperator,ConditionalExpression: lane ids are unique (checked), so no two compare equal
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Whether key (tsA, laneA, seqA) sorts before key (tsB, laneB, seqB). Lanes are compared by their
 * rank in {@link sortLaneIds} order.
 */
export function keyBefore(
  tsA: number,
  laneA: number,
  seqA: number,
  tsB: number,
  laneB: number,
  seqB: number,
): boolean {
  // Stryker disable next-line EqualityOperator: under tsA !== tsB, < and <= agree
  if (tsA !== tsB) return tsA < tsB;
  // Stryker disable next-line EqualityOperator: under laneA !== laneB, < and <= agree
  if (laneA !== laneB) return laneA < laneB;
  return seqA < seqB;
}

/**
 * A binary min-heap of lanes (by rank `0 .. laneCount - 1`), each held at most once under a key
 * (timestamp, lane rank, laneSeq). A k-way merge keeps one entry per lane with values pending
 * (keyed by the lane's next value), so each value costs O(log lanes)
 * whatever the number of values held. Since a lane is held at most once, two entries never tie
 * on (timestamp, lane): laneSeq rides along for the caller (and orders values within a lane,
 * which the lane's own FIFO already does). Keys may move either way; a lane's slot is tracked,
 * so updating or removing any lane is O(log lanes) too. Allocates only at construction.
 */
export class LaneHeap {
  /** Per heap slot: the lane there and its key, kept side by side for the sift loops. */
  private readonly slotLane: Int32Array;
  private readonly slotTs: Float64Array;
  private readonly slotSeq: Float64Array;
  /** Per lane: its slot, or -1 when not held. */
  private readonly position: Int32Array;
  private count = 0;

  constructor(readonly laneCount: number) {
    this.slotLane = new Int32Array(laneCount);
    this.slotTs = new Float64Array(laneCount);
    this.slotSeq = new Float64Array(laneCount);
    this.position = new Int32Array(laneCount).fill(-1);
  }

  /** Lanes held now. */
  get size(): number {
    return this.count;
  }

  /** Whether `lane` is held. */
  has(lane: number): boolean {
    return this.position[lane]! >= 0;
  }

  /** The lane with the smallest key, or -1 when the heap is empty. */
  peek(): number {
    return this.count === 0 ? -1 : this.slotLane[0]!;
  }

  /** The timestamp part of a held lane's key. */
  tsOf(lane: number): number {
    return this.slotTs[this.position[lane]!]!;
  }

  /** The laneSeq part of a held lane's key. */
  seqOf(lane: number): number {
    return this.slotSeq[this.position[lane]!]!;
  }

  /** Inserts `lane` with the key (ts, lane, seq), or moves it there when already held. */
  set(lane: number, ts: number, seq: number): void {
    const at = this.position[lane]!;
    if (at < 0) {
      this.siftUp(this.count++, lane, ts, seq);
    } else if (ts > this.slotTs[at]! || (ts === this.slotTs[at]! && seq >= this.slotSeq[at]!)) {
      this.siftDown(at, lane, ts, seq);
    } else {
      this.siftUp(at, lane, ts, seq);
    }
  }

  /** Removes `lane` when held. */
  delete(lane: number): void {
    const at = this.position[lane]!;
    if (at < 0) return;
    this.position[lane] = -1;
    const last = --this.count;
    if (at === last) return;
    const moved = this.slotLane[last]!;
    const ts = this.slotTs[last]!;
    const seq = this.slotSeq[last]!;
    if (
      at > 0 &&
      keyBefore(ts, moved, seq, this.slotTs[(at - 1) >> 1]!, this.slotLane[(at - 1) >> 1]!, 0)
    ) {
      this.siftUp(at, moved, ts, seq);
    } else {
      this.siftDown(at, moved, ts, seq);
    }
  }

  /** Empties the heap. */
  clear(): void {
    for (let slot = 0; slot < this.count; slot++) this.position[this.slotLane[slot]!] = -1;
    this.count = 0;
  }

  /** Moves the hole at `start` up until (ts, lane) fits, then puts the lane there. */
  private siftUp(start: number, lane: number, ts: number, seq: number): void {
    const { slotLane, slotTs, slotSeq, position } = this;
    let slot = start;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      const parentTs = slotTs[parent]!;
      const parentLane = slotLane[parent]!;
      // Stryker disable next-line EqualityOperator: a lane is held at most once, so two keys never tie on (ts, lane)
      if (ts > parentTs || (ts === parentTs && lane > parentLane)) break;
      slotLane[slot] = parentLane;
      slotTs[slot] = parentTs;
      slotSeq[slot] = slotSeq[parent]!;
      position[parentLane] = slot;
      slot = parent;
    }
    slotLane[slot] = lane;
    slotTs[slot] = ts;
    slotSeq[slot] = seq;
    position[lane] = slot;
  }

  /** Moves the hole at `start` down until (ts, lane) fits, then puts the lane there. */
  private siftDown(start: number, lane: number, ts: number, seq: number): void {
    const { slotLane, slotTs, slotSeq, position } = this;
    const count = this.count;
    let slot = start;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= count) break;
      let childTs = slotTs[child]!;
      let childLane = slotLane[child]!;
      const right = child + 1;
      if (right < count) {
        const rightTs = slotTs[right]!;
        const rightLane = slotLane[right]!;
        // Stryker disable next-line EqualityOperator: a lane is held at most once, so two keys never tie on (ts, lane)
        if (rightTs < childTs || (rightTs === childTs && rightLane < childLane)) {
          child = right;
          childTs = rightTs;
          childLane = rightLane;
        }
      }
      // Stryker disable next-line EqualityOperator: a lane is held at most once, so two keys never tie on (ts, lane)
      if (ts < childTs || (ts === childTs && lane < childLane)) break;
      slotLane[slot] = childLane;
      slotTs[slot] = childTs;
      slotSeq[slot] = slotSeq[child]!;
      position[childLane] = slot;
      slot = child;
    }
    slotLane[slot] = lane;
    slotTs[slot] = ts;
    slotSeq[slot] = seq;
    position[lane] = slot;
  }
}

/**
 * Checks one lane's timestamp: a number that is not NaN. Returns an error to end with, or
 * `undefined`. Shared so `mergeLanes` and {@link mergeSortedLanes} word it the same.
 */
export function badTimestamp(owner: string, lane: string, ts: unknown): TypeError | undefined {
  if (typeof ts === 'number' && !Number.isNaN(ts)) return undefined;
  return new TypeError(
    `${owner}: timestamp must return a number (not NaN), got ${describe(ts)} in lane ${describe(lane)}`,
  );
}

/** The error for a lane whose timestamps go backwards. */
export function backwardsTimestamp(
  owner: string,
  lane: string,
  previous: number,
  ts: number,
): TypeError {
  return new TypeError(
    `${owner}: timestamps of lane ${describe(lane)} went backwards: ${ts} after ${previous}`,
  );
}

/**
 * Checks the lanes object of `mergeLanes` / {@link mergeSortedLanes}: a non-null, non-array
 * object whose keys are non-empty. Returns its lane ids (own enumerable keys, in object order).
 */
export function validateLaneIds(lanes: unknown, owner: string): string[] {
  if (lanes === null || typeof lanes !== 'object' || Array.isArray(lanes)) {
    throw new TypeError(
      `${owner}: lanes must be an object mapping lane ids to lanes, got ${describe(lanes)}`,
    );
  }
  const ids = Object.keys(lanes);
  for (const id of ids) {
    if (id === '') throw new TypeError(`${owner}: a lane id must be a non-empty string, got ""`);
  }
  return ids;
}

/**
 * Merges finished lanes into one array ordered by (timestamp, lane id, position in the lane): a
 * k-way merge with the same heap and tie-breaks as `mergeLanes` in `'timestamp'` order, so for
 * the same data both give the same order. Each lane must already be in non-decreasing timestamp
 * order. O(n log lanes) time, O(lanes) memory besides the result.
 *
 * ```text
 * a: [1, 4, 4]          (values are their own timestamps)
 * b: [2, 4]
 * => a1 b2 a4 a4 b4     ties at 4: lane a before lane b, then a's order
 * ```
 *
 * @param lanes - lane id to the lane's values, oldest first. Ids must be non-empty.
 * @param timestamp - the value's time; must return a number that is not NaN.
 * @returns every value once, tagged `{ lane, laneSeq, value }` with laneSeq dense from 1 per lane.
 * @throws TypeError when `lanes` is not an object of arrays, a lane id is empty, `timestamp` is
 * not a function, throws, or returns NaN or a non-number, or a lane's timestamps go backwards
 * (the message names the lane).
 *
 * @example
 * ```ts
 * const log = mergeSortedLanes({ planner: plannerEvents, coder: coderEvents }, (e) => e.ts);
 * for (const { lane, laneSeq, value } of log) store(lane, laneSeq, value);
 * ```
 */
export function mergeSortedLanes<T>(
  lanes: Record<string, readonly T[]>,
  timestamp: (value: T) => number,
): Laned<T>[] {
  const owner = 'mergeSortedLanes';
  const ids = sortLaneIds(validateLaneIds(lanes, owner));
  if (typeof timestamp !== 'function') {
    throw new TypeError(`${owner}: timestamp must be a function, got ${describe(timestamp)}`);
  }
  const arrays: (readonly T[])[] = ids.map((id) => {
    const values = lanes[id];
    if (!Array.isArray(values)) {
      throw new TypeError(
        `${owner}: lane ${describe(id)} must be an array of values, got ${describe(values)}`,
      );
    }
    return values;
  });
  const heap = new LaneHeap(ids.length);
  const next = new Array<number>(ids.length).fill(0);
  const timeOf = (lane: number, index: number): number => {
    const ts = timestamp(arrays[lane]![index] as T);
    const bad = badTimestamp(owner, ids[lane]!, ts);
    if (bad !== undefined) throw bad;
    return ts;
  };
  let total = 0;
  for (let lane = 0; lane < ids.length; lane++) {
    const length = arrays[lane]!.length;
    total += length;
    if (length > 0) heap.set(lane, timeOf(lane, 0), 1);
  }
  // Stryker disable next-line ArrayDeclaration: presizing only
  const result = new Array<Laned<T>>(total);
  for (let out = 0; out < total; out++) {
    const lane = heap.peek();
    const index = next[lane]!;
    const values = arrays[lane]!;
    result[out] = { lane: ids[lane]!, laneSeq: index + 1, value: values[index] as T };
    next[lane] = index + 1;
    if (index + 1 < values.length) {
      const previous = heap.tsOf(lane);
      const ts = timeOf(lane, index + 1);
      if (ts < previous) throw backwardsTimestamp(owner, ids[lane]!, previous, ts);
      heap.set(lane, ts, index + 2);
    } else {
      heap.delete(lane);
    }
  }
  return result;
}

/**
 * An unbounded FIFO of values, each with its timestamp and arrival time: one lane's values
 * waiting for their turn. Values sit in one ring array and their (timestamp, arrival) pairs in a
 * parallel `Float64Array`, both doubling when full, so holding a value allocates nothing once the
 * ring has grown to the lane's high-water mark.
 */
export class TimedFifo<T> {
  // Stryker disable next-line ArrayDeclaration: presizing only
  private values: (T | undefined)[] = new Array(16);
  /** Per ring slot `i`: the timestamp at `2 * i`, the arrival time at `2 * i + 1`. */
  private stamps = new Float64Array(32);
  private head = 0;
  private count = 0;

  /** Values held now. */
  get size(): number {
    return this.count;
  }

  /**
   * Appends a value with its timestamp and the time it arrived (any clock; `0` when the caller
   * has no use for it).
   */
  push(value: T, ts: number, arrival = 0): void {
    if (this.count === this.values.length) this.grow();
    const at = (this.head + this.count) & (this.values.length - 1);
    this.values[at] = value;
    this.stamps[2 * at] = ts;
    this.stamps[2 * at + 1] = arrival;
    this.count++;
  }

  /** The oldest value's timestamp; only when not empty. */
  headTs(): number {
    return this.stamps[2 * this.head] as number;
  }

  /** The oldest value's arrival time; only when not empty. */
  headArrival(): number {
    return this.stamps[2 * this.head + 1] as number;
  }

  /** Takes the oldest value out; only when not empty. */
  shift(): T {
    const values = this.values;
    const value = values[this.head] as T;
    values[this.head] = undefined;
    this.head = (this.head + 1) & (values.length - 1);
    this.count--;
    return value;
  }

  /** Drops every value. */
  clear(): void {
    // Stryker disable next-line ArrayDeclaration: presizing only
    this.values = new Array(16);
    this.stamps = new Float64Array(32);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const oldValues = this.values;
    const oldStamps = this.stamps;
    const mask = oldValues.length - 1;
    const values = new Array<T | undefined>(oldValues.length * 2);
    const stamps = new Float64Array(oldStamps.length * 2);
    for (let index = 0; index < this.count; index++) {
      const from = (this.head + index) & mask;
      values[index] = oldValues[from];
      stamps[2 * index] = oldStamps[2 * from] as number;
      stamps[2 * index + 1] = oldStamps[2 * from + 1] as number;
    }
    this.values = values;
    this.stamps = stamps;
    this.head = 0;
  }
}
