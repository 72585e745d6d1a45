/**
 * The lane merger behind `mergeLanes`: every lane's pending values, the order they leave in, and
 * the gaps of each lane's isolation queue. Nothing here imports RxJS; the operator feeds it and a
 * drain engine takes from it.
 *
 * @packageDocumentation
 */
import { type Laned, LaneHeap, TimedFifo } from './laneOrder.js';
import { OverflowQueue, type PushOutcome } from './OverflowQueue.js';
import {
  type CoalescePolicy,
  coalesce,
  type OverflowNotice,
  type OverflowPolicy,
  type QueueConfig,
  QueueOverflowError,
} from './types.js';

/** A gap of one lane's isolation queue, with the lane it is in. */
export interface LaneGap<T> {
  readonly lane: string;
  readonly notice: OverflowNotice<T>;
}

/** What a lane's isolation queue is made of: a `QueueConfig` without its callback. */
export type LaneQueueOptions<T> = Omit<QueueConfig<T>, 'onOverflow'>;

/** The options of a {@link LaneMerger}. */
export interface LaneMergerOptions<T> {
  /** The lane ids in tie-break order; a lane is known by its rank here. */
  readonly ids: readonly string[];
  /** `'arrival'`: first come, first out. `'timestamp'`: the k-way merge. */
  readonly order: 'arrival' | 'timestamp';
  /** Under `'timestamp'`: how long a value may wait for an idle lane. Default: `Infinity`. */
  readonly maxSkew?: number | undefined;
  /** The clock `maxSkew` is measured on (only read when `maxSkew` is finite). */
  readonly now?: (() => number) | undefined;
  /** One bounded queue per lane with these options. Default: unbounded lanes. */
  readonly lane?: LaneQueueOptions<T> | undefined;
}

/** What {@link LaneMerger.push} did: a queue's outcome, or `'backwards'` (refused, nothing changed). */
export type LanePushOutcome = PushOutcome | 'backwards';

/** A value held in a lane's isolation queue, with the key it was given on arrival. */
interface Held<T> {
  value: T;
  ts: number;
  arrival: number;
}

/**
 * Holds the values of several lanes and hands them out one at a time in merge order, offering a
 * drain engine's queue steps (`isEmpty`, `size`, `shift`, `takeNotice`, `clear`).
 *
 * Each lane with values pending sits in a {@link LaneHeap} under the key of its oldest value:
 * (timestamp, lane rank) in `'timestamp'` order, an arrival counter in `'arrival'` order. Under
 * `'timestamp'`, a live lane holding nothing is idle: it could still send something smaller, so
 * while any lane is idle the smallest value waits, until it has waited `maxSkew` (then it goes, and
 * whatever sorts before it afterwards is late). Late values go out before anything held. Once
 * ending (a lane failed), nothing waits: everything held goes out in merge order.
 *
 * Each value costs O(log lanes); nothing per value is allocated but the `Laned` record handed out
 * (and, with isolation, the record holding the value's key).
 */
export class LaneMerger<T> {
  private readonly ids: readonly string[];
  private readonly byTimestamp: boolean;
  private readonly maxSkew: number;
  private readonly skewed: boolean;
  private readonly now: () => number;
  /** Per lane without isolation: its values with their keys. */
  private readonly fifos: TimedFifo<T>[] | undefined;
  /** Per lane with isolation: its bounded queue. */
  private readonly queues: OverflowQueue<Held<T>>[] | undefined;
  /** The lanes holding values, keyed by their oldest value. */
  private readonly heap: LaneHeap;
  /** Per lane: laneSeq of its last value handed out (late values count when queued). */
  private readonly released: Float64Array;
  /** Per lane: the timestamp of its newest in-order value (`-Infinity` before any). */
  private readonly lastTs: Float64Array;
  /** Per lane: 1 once it completed. */
  private readonly done: Uint8Array;
  /** Per lane: 1 while it is live and holds nothing (counted in `idleLanes`). */
  private readonly idle: Uint8Array;
  private idleLanes = 0;
  private held = 0;
  private arrivals = 0;
  /** Late values waiting to go out, oldest at `lateHead`. */
  private late: Laned<T>[] = [];
  private lateHead = 0;
  private ending = false;
  /** The key of the last value `maxSkew` let go: whatever sorts before it comes too late. */
  private skewReleased = false;
  private skewTs = 0;
  private skewRank = 0;
  /** The lane of the value just handed out, whose gap `takeNotice` reports; -1 for none. */
  private taken = -1;

  constructor(options: LaneMergerOptions<T>) {
    const { ids, lane } = options;
    const count = ids.length;
    this.ids = ids;
    this.byTimestamp = options.order === 'timestamp';
    this.maxSkew = options.maxSkew ?? Number.POSITIVE_INFINITY;
    this.skewed = this.byTimestamp && this.maxSkew !== Number.POSITIVE_INFINITY;
    this.now = options.now ?? Date.now;
    if (lane === undefined) {
      this.fifos = Array.from({ length: count }, () => new TimedFifo<T>());
    } else {
      const heldOptions = heldQueueOptions(lane);
      this.queues = Array.from({ length: count }, () => new OverflowQueue(heldOptions));
    }
    this.heap = new LaneHeap(count);
    this.released = new Float64Array(count);
    this.lastTs = new Float64Array(count).fill(Number.NEGATIVE_INFINITY);
    this.done = new Uint8Array(count);
    this.idle = new Uint8Array(count);
    if (this.byTimestamp) for (let rank = 0; rank < count; rank++) this.place(rank);
  }

  /** Whether nothing may go out now: nothing held, or the smallest value waits for idle lanes. */
  get isEmpty(): boolean {
    if (this.lateHead < this.late.length) return false;
    const rank = this.heap.peek();
    if (rank < 0) return true;
    if (this.idleLanes === 0 || this.ending) return false;
    return !this.skewed || this.now() < this.arrivalOf(rank) + this.maxSkew;
  }

  /** Values held or waiting to go out late. */
  get size(): number {
    return this.held + this.late.length - this.lateHead;
  }

  /** The id of the lane of rank `rank`. */
  idOf(rank: number): string {
    return this.ids[rank] as string;
  }

  /** The timestamp of the newest in-order value of lane `rank`. */
  lastTsOf(rank: number): number {
    return this.lastTs[rank] as number;
  }

  /**
   * Holds a value of lane `rank`. Under `'timestamp'`, `ts` is its timestamp (a number, not NaN)
   * and `arrival` when it arrived on the `maxSkew` clock; a timestamp below the lane's previous
   * one is refused (`'backwards'`). Under `'arrival'` both are ignored. With isolation, the lane's
   * queue decides (and its classifier, key or merge may throw, leaving everything as it was).
   */
  push(rank: number, value: T, ts: number, arrival: number): LanePushOutcome {
    let key = ts;
    if (this.byTimestamp) {
      if (ts < (this.lastTs[rank] as number)) return 'backwards';
      this.lastTs[rank] = ts;
    } else {
      key = ++this.arrivals;
    }
    const fifos = this.fifos;
    if (fifos !== undefined) {
      const fifo = fifos[rank] as TimedFifo<T>;
      fifo.push(value, key, arrival);
      this.held++;
      if (fifo.size === 1) this.place(rank);
      return 'queued';
    }
    const outcome = (this.queues as OverflowQueue<Held<T>>[])[rank]!.push({
      value,
      ts: key,
      arrival,
    });
    if (outcome === 'queued') this.held++;
    // An eviction may have taken the head.
    this.place(rank);
    return outcome;
  }

  /**
   * Whether a value of lane `rank` with timestamp `ts` sorts before a value `maxSkew` already let
   * go, and so cannot be put in order any more.
   */
  isLate(rank: number, ts: number): boolean {
    if (!this.skewReleased) return false;
    return ts < this.skewTs || (ts === this.skewTs && rank < this.skewRank);
  }

  /** A late value of lane `rank` as it would go out, with the lane's next laneSeq. */
  lateValue(rank: number, value: T): Laned<T> {
    return { lane: this.ids[rank] as string, laneSeq: this.released[rank]! + 1, value, late: true };
  }

  /** Queues a late value (from {@link lateValue}) to go out before anything held. */
  pushLate(rank: number, late: Laned<T>): void {
    this.released[rank] = late.laneSeq;
    this.late.push(late);
  }

  /** Lane `rank` completed: it holds nothing back any more. */
  endLane(rank: number): void {
    this.done[rank] = 1;
    this.place(rank);
  }

  /** A lane failed: from now on nothing waits, and everything held goes out in merge order. */
  beginEnding(): void {
    this.ending = true;
  }

  /**
   * When the smallest held value may go although lanes are idle (its arrival plus `maxSkew`), or
   * NaN when nothing waits for that.
   */
  releaseDue(): number {
    if (!this.skewed || this.ending || this.idleLanes === 0) return Number.NaN;
    const rank = this.heap.peek();
    return rank < 0 ? Number.NaN : this.arrivalOf(rank) + this.maxSkew;
  }

  /** Takes the next value out: a late one first, else the smallest held. Only when not empty. */
  shift(): Laned<T> {
    const late = this.late;
    if (this.lateHead < late.length) {
      const value = late[this.lateHead] as Laned<T>;
      late[this.lateHead++] = undefined as unknown as Laned<T>;
      if (this.lateHead === late.length) {
        this.late = [];
        this.lateHead = 0;
      }
      this.taken = -1;
      return value;
    }
    const heap = this.heap;
    const rank = heap.peek();
    if (this.idleLanes > 0 && !this.ending) {
      // Only maxSkew lets a value go while a lane is idle.
      this.skewReleased = true;
      this.skewTs = heap.tsOf(rank);
      this.skewRank = rank;
    }
    const laneSeq = this.released[rank]! + 1;
    this.released[rank] = laneSeq;
    this.held--;
    this.taken = rank;
    const fifos = this.fifos;
    let value: T;
    if (fifos === undefined) {
      value = (this.queues as OverflowQueue<Held<T>>[])[rank]!.shift().value;
      this.place(rank);
    } else {
      const fifo = fifos[rank] as TimedFifo<T>;
      value = fifo.shift();
      // The common case, inlined: the lane still holds values, so only its key moves.
      if (fifo.size > 0) heap.set(rank, fifo.headTs(), 0);
      else this.place(rank);
    }
    return { lane: this.ids[rank] as string, laneSeq, value };
  }

  /**
   * The gap before the value just taken, in its lane; `undefined` when none. A lane's queue holds
   * a gap only while it holds a value after it (an empty queue admits any value), so every gap
   * goes with a value: none is left trailing when a lane ends.
   */
  takeNotice(): LaneGap<T> | undefined {
    const rank = this.taken;
    if (rank < 0 || this.queues === undefined) return undefined;
    this.taken = -1;
    const notice = this.queues[rank]!.takeNotice();
    return notice === undefined
      ? undefined
      : { lane: this.ids[rank] as string, notice: unwrapNotice(notice) };
  }

  /**
   * The error of the `'error'` policy's overflow in lane `rank`: `value` did not fit. Only with
   * isolation.
   */
  overflowError(rank: number, value: T): QueueOverflowError {
    const queue = (this.queues as OverflowQueue<Held<T>>[])[rank]!;
    const { notice } = queue.overflowError({ value, ts: 0, arrival: 0 });
    return new QueueOverflowError(unwrapNotice(notice as OverflowNotice<Held<T>>), queue.capacity);
  }

  /** Forgets every value (on unsubscribe). */
  clear(): void {
    if (this.fifos !== undefined) for (const fifo of this.fifos) fifo.clear();
    if (this.queues !== undefined) for (const queue of this.queues) queue.clear();
    this.heap.clear();
    this.held = 0;
    this.late = [];
    this.lateHead = 0;
  }

  /** When the oldest value of a lane holding values arrived. */
  private arrivalOf(rank: number): number {
    return this.fifos !== undefined
      ? (this.fifos[rank] as TimedFifo<T>).headArrival()
      : ((this.queues as OverflowQueue<Held<T>>[])[rank]!.peek() as Held<T>).arrival;
  }

  /**
   * Puts a lane where it belongs in the heap, and in the idle count, after any change. The heap
   * orders by (key, lane) alone, which is enough with one entry per lane: no laneSeq rides along.
   */
  private place(rank: number): void {
    let size: number;
    if (this.fifos !== undefined) {
      const fifo = this.fifos[rank] as TimedFifo<T>;
      size = fifo.size;
      if (size > 0) this.heap.set(rank, fifo.headTs(), 0);
    } else {
      const queue = (this.queues as OverflowQueue<Held<T>>[])[rank]!;
      size = queue.size;
      if (size > 0) this.heap.set(rank, (queue.peek() as Held<T>).ts, 0);
    }
    if (size === 0) this.heap.delete(rank);
    if (this.byTimestamp) {
      const idle = size === 0 && this.done[rank] === 0 ? 1 : 0;
      if (idle !== this.idle[rank]) {
        this.idle[rank] = idle;
        this.idleLanes += idle === 1 ? 1 : -1;
      }
    }
  }
}

/** The isolation queue's options over held values: the user's callbacks see only values. */
function heldQueueOptions<T>(options: LaneQueueOptions<T>): QueueConfig<Held<T>> {
  const { capacity, overflow, classify, terminalReserve, onDrop } = options;
  let heldOverflow: OverflowPolicy<Held<T>>;
  if (typeof overflow === 'string') {
    heldOverflow = overflow;
  } else {
    const { merge, key, fallback } = overflow as CoalescePolicy<T>;
    heldOverflow = coalesce<Held<T>>(
      (acc, next) => {
        // The merged value keeps the older key: it takes the place of the value queued first.
        acc.value = merge(acc.value, next.value);
        return acc;
      },
      key === undefined ? undefined : (held) => key(held.value),
      { fallback },
    );
  }
  return {
    capacity,
    overflow: heldOverflow,
    classify: classify === undefined ? undefined : (held) => classify(held.value),
    terminalReserve,
    onDrop: onDrop === undefined ? undefined : (held, reason) => onDrop(held.value, reason),
  };
}

/** A notice about held values, as the user sees it: about values. */
function unwrapNotice<T>(notice: OverflowNotice<Held<T>>): OverflowNotice<T> {
  const result: OverflowNotice<T> = {
    policy: notice.policy,
    dropped: notice.dropped,
    merged: notice.merged,
    terminalPreserved: notice.terminalPreserved,
  };
  if (notice.first !== undefined) result.first = notice.first.value;
  if (notice.last !== undefined) result.last = notice.last.value;
  return result;
}
