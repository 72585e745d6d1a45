import { type ClassCode, PROGRESS, TERMINAL } from './classCodes.js';
import { QueueCore } from './queueCore.js';
import { createNodeLists, NIL, type NodeLists, type Slot } from './slotStore.js';
import type { Classifier, CoalesceFallback, DropReason, OverflowPolicy } from './types.js';

export { policyNameOf, validateQueueConfig } from './checks.js';

/** The options of an {@link OverflowQueue}: those of `QueueConfig` that the data structure uses. */
export interface OverflowQueueOptions<T> {
  /** Total slots: a positive integer. No default. */
  capacity: number;
  /** What happens to a non-terminal newcomer that has no room. Required. */
  overflow: OverflowPolicy<T>;
  /** Tells the classes apart. Default: every value is `'normal'`. */
  classify?: Classifier<T> | undefined;
  /** Slots only terminals may use. Default: 1 with a classifier (when capacity > 1), else 0. */
  terminalReserve?: number | undefined;
  /** Called for each value the policy drops, with why. Default: none. */
  onDrop?: ((value: T, reason: DropReason) => void) | undefined;
  /**
   * Under a keyed `coalesce`: a merged value moves to the tail, where its newest part arrived,
   * instead of staying where its oldest part stood. Values then leave in the order their newest
   * parts arrived, so content never moves ahead of a value that arrived before it (the bus keeps
   * seq order this way). Default `false`: merged in place.
   */
  mergeAtNewest?: boolean | undefined;
}

/**
 * What {@link OverflowQueue.push} did with a value.
 *
 * - `'queued'`: admitted into free room.
 * - `'evicted'`: admitted after evicting an older value (counted in the pending notice).
 * - `'merged'`: folded into a queued value by `coalesce` (counted in the pending notice).
 * - `'rejected'`: not admitted (counted in the pending notice).
 * - `'overflow'`: the `'error'` policy's overflow: not admitted, and the stream must end with
 *   {@link OverflowQueue.overflowError} once the queued values are delivered.
 */
export type PushOutcome = 'queued' | 'evicted' | 'merged' | 'rejected' | 'overflow';

/** A snapshot of a queue's counters. */
export interface QueueStats {
  /** The configured capacity. */
  capacity: number;
  /** The effective terminal reserve. */
  terminalReserve: number;
  /**
   * Room for non-terminal values: `capacity - terminalReserve`. With a classifier the reserve
   * defaults to 1, so a queue of capacity 4 holds at most 3 non-terminal values.
   */
  usableCapacity: number;
  /** Values queued now. */
  depth: number;
  /** Non-terminal values queued now (never above `capacity - terminalReserve`). */
  nonTerminalDepth: number;
  /** The largest depth ever reached. */
  highWater: number;
  /** Values offered to `push` that were classified (whatever became of them). */
  pushed: number;
  /** Values taken out by `shift`. */
  delivered: number;
  /** Values lost: evicted, rejected, or the value that overflowed under `'error'`. */
  dropped: number;
  /** Values folded into others by `coalesce`. */
  merged: number;
  /** Values removed by `clear` (unsubscribe): neither delivered nor dropped by a policy. */
  cleared: number;
  /** Terminal values admitted while the queue was already at (or above) capacity. */
  terminalOvercommits: number;
}

/**
 * A bounded FIFO with an explicit overflow policy and per-class bookkeeping.
 *
 * Terminal values are always admitted (even beyond capacity, which the stats count). A
 * non-terminal newcomer has room only while the queue holds fewer than `capacity` values and
 * fewer than `capacity - terminalReserve` non-terminal values; otherwise the policy decides.
 * Drops and merges accumulate into one {@link OverflowNotice} per gap, taken with
 * {@link OverflowQueue.takeNotice} just before the next value is delivered.
 *
 * Every operation is O(1) amortized whatever the capacity and the mix of classes, and the
 * per-value path allocates nothing once the queue's slot arrays have grown to its depth.
 *
 * @example
 * ```ts
 * const queue = new OverflowQueue<string>({ capacity: 2, overflow: 'drop-oldest' });
 * queue.push('a'); queue.push('b'); queue.push('c'); // 'a' is evicted
 * queue.takeNotice(); // { policy: 'drop-oldest', dropped: 1, merged: 0, first: 'a', last: 'a', ... }
 * queue.shift();      // 'b'
 * ```
 */
export class OverflowQueue<T> extends QueueCore<T> {
  private lists: NodeLists;
  private readonly mergeAtNewest: boolean;

  constructor(options: OverflowQueueOptions<T>) {
    super(options, 'OverflowQueue');
    this.lists = createNodeLists(this.keyOf !== undefined);
    this.mergeAtNewest = options.mergeAtNewest === true && this.keyOf !== undefined;
  }

  /**
   * Offers a value. The classifier, and under `coalesce` the key and merge functions, run here:
   * whatever they throw propagates, and the queue is then exactly as it was before the call.
   */
  push(value: T): PushOutcome {
    const cls = this.classOf(value);
    const key = this.keyOf === undefined ? undefined : this.keyOf(value);
    if (this.hasRoomFor(cls)) {
      this.place(this.lists, value, cls, 0, key);
      this.pushed++;
      return 'queued';
    }
    const outcome = this.overflow(value, cls, key);
    this.pushed++;
    return outcome;
  }

  /** Takes the oldest value out. Throws a `RangeError` when the queue is empty. */
  shift(): T {
    const head = this.lists.head;
    if (head === NIL) throw new RangeError('OverflowQueue.shift: the queue is empty');
    this.delivered++;
    return this.takeHead(this.lists);
  }

  /** The oldest value without taking it out, or `undefined` when empty. */
  peek(): T | undefined {
    const head = this.lists.head;
    return head === NIL ? undefined : this.valueAt(head);
  }

  /** Whether the oldest queued value is terminal (`false` when empty). */
  headIsTerminal(): boolean {
    const head = this.lists.head;
    return head !== NIL && this.classAt(head) === TERMINAL;
  }

  /** Empties the queue (on unsubscribe), dropping references to every value and the notice. */
  clear(): void {
    this.forgetAll();
    this.lists = createNodeLists(this.keyOf !== undefined);
  }

  /** The queued values, oldest first. O(n): for tests and debugging, not for per-value paths. */
  toArray(): T[] {
    const values: T[] = [];
    for (let slot = this.lists.head; slot !== NIL; slot = this.nextAt(slot)) {
      values.push(this.valueAt(slot));
    }
    return values;
  }

  private overflow(value: T, cls: ClassCode, key: unknown): PushOutcome {
    if (this.policy === 'coalesce') {
      if (cls === PROGRESS) {
        const lists = this.lists;
        const newest =
          lists.newestOfKey === undefined ? lists.tail : (lists.newestOfKey.get(key) ?? NIL);
        if (this.mergedInto(newest, value)) {
          if (this.mergeAtNewest && newest !== lists.tail) {
            this.place(lists, this.take(lists, newest), PROGRESS, 0, key);
          }
          return 'merged';
        }
      }
      return this.apply(this.fallback, value, cls, key);
    }
    return this.apply(this.policy, value, cls, key);
  }

  /** What a named policy (or `coalesce`'s fallback) does with a newcomer that has no room. */
  private apply(policy: CoalesceFallback, value: T, cls: ClassCode, key: unknown): PushOutcome {
    switch (policy) {
      case 'drop-incoming':
        return this.reject(value);
      case 'error':
        return this.overflowed(value);
      case 'drop-oldest':
        return this.replace(this.lists.nonTerminalHead, value, cls, key);
      case 'drop-progress':
        return this.replace(this.lists.progressHead, value, cls, key);
    }
  }

  /** Evicts `victim` (when there is one) to make room for the newcomer, else rejects it. */
  private replace(victim: Slot, value: T, cls: ClassCode, key: unknown): PushOutcome {
    if (victim === NIL) return this.reject(value);
    const lost = this.take(this.lists, victim);
    this.recordDrop(lost);
    this.place(this.lists, value, cls, 0, key);
    return this.evicted(lost);
  }
}
