import {
  type ClassCode,
  classCodeOf,
  NORMAL,
  POOL_LIMIT,
  PROGRESS,
  TERMINAL,
} from './classCodes.js';
import {
  type Classifier,
  type CoalescePolicy,
  describe,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  QueueOverflowError,
} from './types.js';

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
 * One queued value, threaded on up to three lists at once: the FIFO of all values, the FIFO of
 * non-terminal values (for drop-oldest) and the FIFO of progress values (for drop-progress), plus
 * the chain of its key (for coalesce). Keeping every list linked is what makes each policy O(1):
 * no operation ever scans for "the oldest progress value" or "the newest value of a key".
 */
interface Node<T> {
  value: T;
  cls: ClassCode;
  key: unknown;
  prev: Node<T> | null;
  next: Node<T> | null;
  prevNonTerminal: Node<T> | null;
  nextNonTerminal: Node<T> | null;
  /** Progress values only ever leave from the front of their list, so one link suffices. */
  nextProgress: Node<T> | null;
  prevSameKey: Node<T> | null;
  nextSameKey: Node<T> | null;
}

const VALID_POLICIES: readonly string[] = [
  'drop-oldest',
  'drop-incoming',
  'drop-progress',
  'error',
];

/**
 * Checks the options shared by every queue and returns the effective terminal reserve. Throws a
 * `RangeError` or `TypeError` whose message names `owner`, the option and the value.
 */
export function validateQueueConfig<T>(
  config: OverflowQueueOptions<T> & { onOverflow?: unknown },
  owner: string,
): number {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`${owner}: options must be an object, got ${describe(config)}`);
  }
  const { capacity, overflow, classify, terminalReserve, onOverflow } = config;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(
      `${owner}: capacity must be a positive integer, got ${describe(capacity)}`,
    );
  }
  policyNameOf(overflow, owner);
  if (classify !== undefined && typeof classify !== 'function') {
    throw new TypeError(`${owner}: classify must be a function, got ${describe(classify)}`);
  }
  if (onOverflow !== undefined && typeof onOverflow !== 'function') {
    throw new TypeError(`${owner}: onOverflow must be a function, got ${describe(onOverflow)}`);
  }
  if (terminalReserve === undefined) return classify !== undefined && capacity > 1 ? 1 : 0;
  if (
    typeof terminalReserve !== 'number' ||
    !Number.isInteger(terminalReserve) ||
    terminalReserve < 0 ||
    terminalReserve >= capacity
  ) {
    throw new RangeError(
      `${owner}: terminalReserve must be an integer with 0 <= terminalReserve < capacity (${capacity}), got ${describe(terminalReserve)}`,
    );
  }
  return terminalReserve;
}

/** The name of a policy, validating it. */
export function policyNameOf<T>(overflow: OverflowPolicy<T>, owner: string): OverflowPolicyName {
  if (typeof overflow === 'string') {
    if (VALID_POLICIES.includes(overflow)) return overflow;
    throw new TypeError(
      `${owner}: overflow must be 'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?), got ${describe(overflow)}`,
    );
  }
  if (
    overflow !== null &&
    typeof overflow === 'object' &&
    (overflow as CoalescePolicy<T>).kind === 'coalesce' &&
    typeof (overflow as CoalescePolicy<T>).merge === 'function'
  ) {
    return 'coalesce';
  }
  throw new TypeError(
    `${owner}: overflow must be 'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?), got ${describe(overflow)}`,
  );
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
 * per-value path allocates nothing once the node pool is warm.
 *
 * @example
 * ```ts
 * const queue = new OverflowQueue<string>({ capacity: 2, overflow: 'drop-oldest' });
 * queue.push('a'); queue.push('b'); queue.push('c'); // 'a' is evicted
 * queue.takeNotice(); // { policy: 'drop-oldest', dropped: 1, merged: 0, first: 'a', last: 'a', ... }
 * queue.shift();      // 'b'
 * ```
 */
export class OverflowQueue<T> {
  /** Total slots. */
  readonly capacity: number;
  /** Slots only terminal values may use. */
  readonly terminalReserve: number;
  /** The policy's name, as notices report it. */
  readonly policy: OverflowPolicyName;

  private readonly nonTerminalCapacity: number;
  private readonly classify: Classifier<T> | undefined;
  private readonly merge: ((acc: T, next: T) => T) | undefined;
  private readonly keyOf: ((value: T) => unknown) | undefined;
  /** The newest queued node of each key; kept only for `coalesce` with a key function. */
  private readonly newestOfKey: Map<unknown, Node<T>> | undefined;

  private head: Node<T> | null = null;
  private tail: Node<T> | null = null;
  private nonTerminalHead: Node<T> | null = null;
  private nonTerminalTail: Node<T> | null = null;
  private progressHead: Node<T> | null = null;
  private progressTail: Node<T> | null = null;
  private pool: Node<T> | null = null;
  private poolSize = 0;

  private depth = 0;
  private nonTerminalDepth = 0;
  private highWater = 0;
  private pushed = 0;
  private delivered = 0;
  private dropped = 0;
  private merged = 0;
  private cleared = 0;
  private terminalOvercommits = 0;
  private notice: OverflowNotice<T> | undefined = undefined;

  constructor(options: OverflowQueueOptions<T>) {
    this.terminalReserve = validateQueueConfig(options, 'OverflowQueue');
    this.capacity = options.capacity;
    this.policy = policyNameOf(options.overflow, 'OverflowQueue');
    this.nonTerminalCapacity = this.capacity - this.terminalReserve;
    this.classify = options.classify;
    if (typeof options.overflow === 'object') {
      this.merge = options.overflow.merge;
      this.keyOf = options.overflow.key;
      this.newestOfKey = this.keyOf === undefined ? undefined : new Map();
    }
  }

  /** Values queued now. */
  get size(): number {
    return this.depth;
  }

  /** Whether nothing is queued. */
  get isEmpty(): boolean {
    return this.depth === 0;
  }

  /** Whether drops or merges happened since the last {@link OverflowQueue.takeNotice}. */
  get hasNotice(): boolean {
    return this.notice !== undefined;
  }

  /**
   * Offers a value. The classifier, and under `coalesce` the key and merge functions, run here:
   * whatever they throw propagates, and the queue is then exactly as it was before the call.
   */
  push(value: T): PushOutcome {
    const cls = this.classify === undefined ? NORMAL : classCodeOf(this.classify(value));
    const key = this.newestOfKey === undefined ? undefined : this.keyOf?.(value);
    if (
      cls === TERMINAL ||
      (this.depth < this.capacity && this.nonTerminalDepth < this.nonTerminalCapacity)
    ) {
      if (cls === TERMINAL && this.depth >= this.capacity) this.terminalOvercommits++;
      this.pushed++;
      this.append(value, cls, key);
      return 'queued';
    }
    return this.overflow(value, cls, key);
  }

  /** Takes the oldest value out. Throws a `RangeError` when the queue is empty. */
  shift(): T {
    const node = this.head;
    if (node === null) throw new RangeError('OverflowQueue.shift: the queue is empty');
    this.unlink(node);
    this.delivered++;
    return this.release(node);
  }

  /** The oldest value without taking it out, or `undefined` when empty. */
  peek(): T | undefined {
    return this.head === null ? undefined : this.head.value;
  }

  /** Whether the oldest queued value is terminal (`false` when empty). */
  headIsTerminal(): boolean {
    return this.head !== null && this.head.cls === TERMINAL;
  }

  /**
   * Returns the notice of the gap accumulated since the last call, and starts a new one; or
   * `undefined` when nothing was dropped or merged. Call it just before delivering a value.
   */
  takeNotice(): OverflowNotice<T> | undefined {
    const notice = this.notice;
    this.notice = undefined;
    return notice;
  }

  /** The error that ends a stream under the `'error'` policy: `value` is the one that did not fit. */
  overflowError(value: T): QueueOverflowError {
    return new QueueOverflowError(
      {
        policy: 'error',
        dropped: 1,
        merged: 0,
        first: value,
        last: value,
        terminalPreserved: true,
      },
      this.capacity,
    );
  }

  /** Empties the queue (on unsubscribe), dropping references to every value and the notice. */
  clear(): void {
    this.cleared += this.depth;
    this.head = this.tail = null;
    this.nonTerminalHead = this.nonTerminalTail = null;
    this.progressHead = this.progressTail = null;
    this.newestOfKey?.clear();
    this.depth = this.nonTerminalDepth = 0;
    this.notice = undefined;
    this.pool = null;
    this.poolSize = 0;
  }

  /** The queued values, oldest first. O(n): for tests and debugging, not for per-value paths. */
  toArray(): T[] {
    const values: T[] = [];
    for (let node = this.head; node !== null; node = node.next) values.push(node.value);
    return values;
  }

  /** A snapshot of the counters. */
  stats(): QueueStats {
    return {
      capacity: this.capacity,
      terminalReserve: this.terminalReserve,
      depth: this.depth,
      nonTerminalDepth: this.nonTerminalDepth,
      highWater: this.highWater,
      pushed: this.pushed,
      delivered: this.delivered,
      dropped: this.dropped,
      merged: this.merged,
      cleared: this.cleared,
      terminalOvercommits: this.terminalOvercommits,
    };
  }

  private overflow(value: T, cls: ClassCode, key: unknown): PushOutcome {
    switch (this.policy) {
      case 'drop-incoming':
        return this.reject(value);
      case 'error':
        this.pushed++;
        this.dropped++;
        return 'overflow';
      case 'drop-oldest':
        return this.replace(this.nonTerminalHead, value, cls, key);
      case 'drop-progress':
        return this.replace(this.progressHead, value, cls, key);
      case 'coalesce': {
        if (cls === PROGRESS) {
          const target =
            this.newestOfKey === undefined ? this.tail : (this.newestOfKey.get(key) ?? null);
          if (target !== null && target.cls === PROGRESS) {
            // merge may throw: nothing is changed before it returns.
            target.value = (this.merge as (acc: T, next: T) => T)(target.value, value);
            this.pushed++;
            this.merged++;
            this.gap().merged++;
            return 'merged';
          }
        }
        return this.replace(this.progressHead, value, cls, key);
      }
    }
  }

  private reject(value: T): PushOutcome {
    this.pushed++;
    this.recordDrop(value);
    return 'rejected';
  }

  /** Evicts `victim` (when there is one) to make room for the newcomer, else rejects it. */
  private replace(victim: Node<T> | null, value: T, cls: ClassCode, key: unknown): PushOutcome {
    if (victim === null) return this.reject(value);
    this.unlink(victim);
    this.recordDrop(this.release(victim));
    this.pushed++;
    this.append(value, cls, key);
    return 'evicted';
  }

  private gap(): OverflowNotice<T> {
    if (this.notice === undefined) {
      this.notice = { policy: this.policy, dropped: 0, merged: 0, terminalPreserved: true };
    }
    return this.notice;
  }

  private recordDrop(value: T): void {
    this.dropped++;
    const notice = this.gap();
    if (notice.dropped === 0) notice.first = value;
    notice.last = value;
    notice.dropped++;
  }

  private append(value: T, cls: ClassCode, key: unknown): void {
    const node = this.acquire(value, cls, key);
    const tail = this.tail;
    node.prev = tail;
    if (tail === null) this.head = node;
    else tail.next = node;
    this.tail = node;
    if (cls !== TERMINAL) {
      const ntTail = this.nonTerminalTail;
      node.prevNonTerminal = ntTail;
      if (ntTail === null) this.nonTerminalHead = node;
      else ntTail.nextNonTerminal = node;
      this.nonTerminalTail = node;
      this.nonTerminalDepth++;
      if (cls === PROGRESS) {
        if (this.progressTail === null) this.progressHead = node;
        else this.progressTail.nextProgress = node;
        this.progressTail = node;
      }
    }
    if (this.newestOfKey !== undefined) {
      const newest = this.newestOfKey.get(key);
      if (newest !== undefined) {
        newest.nextSameKey = node;
        node.prevSameKey = newest;
      }
      this.newestOfKey.set(key, node);
    }
    if (++this.depth > this.highWater) this.highWater = this.depth;
  }

  /**
   * Removes a node from every list it is on. Progress nodes only ever leave from the front of
   * the progress list: a dequeue takes the oldest value of all, drop-oldest the oldest
   * non-terminal, drop-progress the oldest progress value, and each of those, when progress, is
   * the oldest progress value.
   */
  private unlink(node: Node<T>): void {
    const { prev, next } = node;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    if (node.cls !== TERMINAL) {
      const before = node.prevNonTerminal;
      const after = node.nextNonTerminal;
      if (before === null) this.nonTerminalHead = after;
      else before.nextNonTerminal = after;
      if (after === null) this.nonTerminalTail = before;
      else after.prevNonTerminal = before;
      this.nonTerminalDepth--;
      if (node.cls === PROGRESS) {
        this.progressHead = node.nextProgress;
        if (this.progressHead === null) this.progressTail = null;
      }
    }
    if (this.newestOfKey !== undefined) {
      const before = node.prevSameKey;
      const after = node.nextSameKey;
      if (before !== null) before.nextSameKey = after;
      if (after !== null) after.prevSameKey = before;
      else if (before !== null) this.newestOfKey.set(node.key, before);
      else this.newestOfKey.delete(node.key);
    }
    this.depth--;
  }

  private acquire(value: T, cls: ClassCode, key: unknown): Node<T> {
    const node = this.pool;
    if (node === null) {
      return {
        value,
        cls,
        key,
        prev: null,
        next: null,
        prevNonTerminal: null,
        nextNonTerminal: null,
        nextProgress: null,
        prevSameKey: null,
        nextSameKey: null,
      };
    }
    this.pool = node.next;
    this.poolSize--;
    node.value = value;
    node.cls = cls;
    node.key = key;
    node.next = null;
    return node;
  }

  /** Returns a node's value and recycles the node, dropping its references. */
  private release(node: Node<T>): T {
    const value = node.value;
    node.value = undefined as T;
    node.key = undefined;
    node.prev = node.prevNonTerminal = node.nextNonTerminal = null;
    node.nextProgress = node.prevSameKey = node.nextSameKey = null;
    if (this.poolSize < POOL_LIMIT) {
      node.next = this.pool;
      this.pool = node;
      this.poolSize++;
    } else {
      node.next = null;
    }
    return value;
  }
}
