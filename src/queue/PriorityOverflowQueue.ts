import {
  type ClassCode,
  classCodeOf,
  NORMAL,
  POOL_LIMIT,
  PROGRESS,
  TERMINAL,
} from './classCodes.js';
import type { OverflowQueueOptions, PushOutcome, QueueStats } from './OverflowQueue.js';
import { policyNameOf, validateQueueConfig } from './OverflowQueue.js';
import {
  type Classifier,
  describe,
  type OverflowNotice,
  type OverflowPolicyName,
  QueueOverflowError,
} from './types.js';

/** The highest priority a value may have; priorities are integers from 0 to this. */
export const MAX_PRIORITY = 31;

/** The options of a {@link PriorityOverflowQueue}: an `OverflowQueue`'s, plus `priority`. */
export interface PriorityOverflowQueueOptions<T> extends OverflowQueueOptions<T> {
  /**
   * The priority class of a value: an integer from 0 to {@link MAX_PRIORITY}; higher is taken
   * first. Anything else makes `push` throw a `RangeError` naming the option and the value.
   * Default: every value has priority 0 (the queue is then a plain FIFO).
   */
  priority?: ((value: T) => number) | undefined;
}

/**
 * One queued value, threaded on the lists of its priority level: all values, non-terminal values
 * and progress values (each doubly linked, so any policy can take a value from either end), plus
 * the chain of its key for `coalesce`.
 */
interface Node<T> {
  value: T;
  cls: ClassCode;
  level: number;
  key: unknown;
  prev: Node<T> | null;
  next: Node<T> | null;
  prevNonTerminal: Node<T> | null;
  nextNonTerminal: Node<T> | null;
  prevProgress: Node<T> | null;
  nextProgress: Node<T> | null;
  prevSameKey: Node<T> | null;
  nextSameKey: Node<T> | null;
}

/** The FIFOs of one priority level. */
interface Level<T> {
  head: Node<T> | null;
  tail: Node<T> | null;
  nonTerminalHead: Node<T> | null;
  nonTerminalTail: Node<T> | null;
  progressHead: Node<T> | null;
  progressTail: Node<T> | null;
  /** Values of this level, non-terminal values, progress values. */
  size: number;
  nonTerminalSize: number;
  progressSize: number;
  /** The newest node of each key at this level; only for `coalesce` with a key function. */
  newestOfKey: Map<unknown, Node<T>> | undefined;
}

/** The highest set bit of a non-zero 32-bit mask. */
const highestBit = (mask: number): number => 31 - Math.clz32(mask);
/** The lowest set bit of a non-zero 32-bit mask. */
const lowestBit = (mask: number): number => 31 - Math.clz32(mask & -mask);

/**
 * A bounded queue with priority classes: the highest non-empty class is taken first, FIFO within
 * a class. Capacity, terminal reserve, policies, notices and stats are those of `OverflowQueue`;
 * what priorities add is which value a policy sacrifices:
 *
 * | policy            | on overflow, with priorities                                                |
 * | ----------------- | --------------------------------------------------------------------------- |
 * | `'drop-oldest'`   | evict the oldest non-terminal value of the lowest priority holding one;       |
 * |                   | a newcomer of even lower priority is rejected instead                       |
 * | `'drop-incoming'` | reject the newcomer, unless a non-terminal value of lower priority is queued:|
 * |                   | then the newest value of the lowest such priority is evicted instead         |
 * | `'drop-progress'` | evict the oldest progress value of the lowest priority holding one; a        |
 * |                   | progress newcomer of even lower priority is rejected; no progress: reject    |
 * | `'error'`         | the `'error'` overflow, as in `OverflowQueue`                                |
 * | `coalesce(m, k)`  | merge a progress newcomer into the newest value of its key at its own        |
 * |                   | priority when that is progress; otherwise behave as `'drop-progress'`        |
 *
 * With every value at one priority this is exactly `OverflowQueue`. Terminal values are never
 * dropped. Every operation is O(1): the levels holding values, non-terminal values and progress
 * values are kept as bit masks, so finding the highest or lowest such level is one instruction.
 *
 * @example
 * ```ts
 * const queue = new PriorityOverflowQueue<Job>({
 *   capacity: 100,
 *   overflow: 'drop-oldest',
 *   priority: (job) => (job.urgent ? 2 : job.background ? 0 : 1),
 * });
 * ```
 */
export class PriorityOverflowQueue<T> {
  /** Total slots. */
  readonly capacity: number;
  /** Slots only terminal values may use. */
  readonly terminalReserve: number;
  /** The policy's name, as notices report it. */
  readonly policy: OverflowPolicyName;

  private readonly nonTerminalCapacity: number;
  private readonly classify: Classifier<T> | undefined;
  private readonly priorityOf: ((value: T) => number) | undefined;
  private readonly merge: ((acc: T, next: T) => T) | undefined;
  private readonly keyOf: ((value: T) => unknown) | undefined;
  private readonly levels: Array<Level<T> | undefined> = new Array(MAX_PRIORITY + 1).fill(
    undefined,
  );
  /** Bit l is set when level l holds a value / a non-terminal value / a progress value. */
  private occupiedMask = 0;
  private nonTerminalMask = 0;
  private progressMask = 0;
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

  constructor(options: PriorityOverflowQueueOptions<T>) {
    this.terminalReserve = validateQueueConfig(options, 'PriorityOverflowQueue');
    this.capacity = options.capacity;
    this.policy = policyNameOf(options.overflow, 'PriorityOverflowQueue');
    this.nonTerminalCapacity = this.capacity - this.terminalReserve;
    this.classify = options.classify;
    const { priority } = options;
    if (priority !== undefined && typeof priority !== 'function') {
      throw new TypeError(
        `PriorityOverflowQueue: priority must be a function, got ${describe(priority)}`,
      );
    }
    this.priorityOf = priority;
    if (typeof options.overflow === 'object') {
      this.merge = options.overflow.merge;
      this.keyOf = options.overflow.key;
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

  /** Whether drops or merges happened since the last {@link PriorityOverflowQueue.takeNotice}. */
  get hasNotice(): boolean {
    return this.notice !== undefined;
  }

  /**
   * Offers a value. The classifier, `priority`, and under `coalesce` the key and merge functions
   * run here: whatever they throw propagates (a `RangeError` for a priority out of range), and
   * the queue is then exactly as it was before the call.
   */
  push(value: T): PushOutcome {
    const cls = this.classify === undefined ? NORMAL : classCodeOf(this.classify(value));
    const level = this.priorityOf === undefined ? 0 : checkedPriority(this.priorityOf(value));
    const key = this.keyOf === undefined ? undefined : this.keyOf(value);
    if (
      cls === TERMINAL ||
      (this.depth < this.capacity && this.nonTerminalDepth < this.nonTerminalCapacity)
    ) {
      if (cls === TERMINAL && this.depth >= this.capacity) this.terminalOvercommits++;
      this.pushed++;
      this.append(value, cls, level, key);
      return 'queued';
    }
    return this.overflow(value, cls, level, key);
  }

  /** Takes the oldest value of the highest priority out. Throws a `RangeError` when empty. */
  shift(): T {
    if (this.occupiedMask === 0) {
      throw new RangeError('PriorityOverflowQueue.shift: the queue is empty');
    }
    const node = (this.levels[highestBit(this.occupiedMask)] as Level<T>).head as Node<T>;
    this.unlink(node);
    this.delivered++;
    return this.release(node);
  }

  /** The value {@link PriorityOverflowQueue.shift} would return, or `undefined` when empty. */
  peek(): T | undefined {
    if (this.occupiedMask === 0) return undefined;
    return ((this.levels[highestBit(this.occupiedMask)] as Level<T>).head as Node<T>).value;
  }

  /** Returns the notice of the gap since the last call and starts a new one; see `OverflowQueue`. */
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
    this.levels.fill(undefined);
    this.occupiedMask = this.nonTerminalMask = this.progressMask = 0;
    this.depth = this.nonTerminalDepth = 0;
    this.notice = undefined;
    this.pool = null;
    this.poolSize = 0;
  }

  /** The queued values in the order `shift` would return them. O(n): for tests and debugging. */
  toArray(): T[] {
    const values: T[] = [];
    for (let level = MAX_PRIORITY; level >= 0; level--) {
      for (let node = this.levels[level]?.head ?? null; node !== null; node = node.next) {
        values.push(node.value);
      }
    }
    return values;
  }

  /** A snapshot of the counters, as `OverflowQueue.stats()`. */
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

  private overflow(value: T, cls: ClassCode, level: number, key: unknown): PushOutcome {
    switch (this.policy) {
      case 'error':
        this.pushed++;
        this.dropped++;
        return 'overflow';
      case 'drop-incoming': {
        if (this.nonTerminalMask === 0) return this.reject(value);
        const lowest = lowestBit(this.nonTerminalMask);
        if (level <= lowest) return this.reject(value);
        return this.replace(
          (this.levels[lowest] as Level<T>).nonTerminalTail,
          value,
          cls,
          level,
          key,
        );
      }
      case 'drop-oldest': {
        if (this.nonTerminalMask === 0) return this.reject(value);
        const lowest = lowestBit(this.nonTerminalMask);
        if (level < lowest) return this.reject(value);
        return this.replace(
          (this.levels[lowest] as Level<T>).nonTerminalHead,
          value,
          cls,
          level,
          key,
        );
      }
      case 'drop-progress':
        return this.dropProgress(value, cls, level, key);
      case 'coalesce': {
        if (cls === PROGRESS) {
          const own = this.levels[level];
          const target =
            own === undefined
              ? null
              : own.newestOfKey === undefined
                ? own.tail
                : (own.newestOfKey.get(key) ?? null);
          if (target !== null && target.cls === PROGRESS) {
            // merge may throw: nothing is changed before it returns.
            target.value = (this.merge as (acc: T, next: T) => T)(target.value, value);
            this.pushed++;
            this.merged++;
            this.gap().merged++;
            return 'merged';
          }
        }
        return this.dropProgress(value, cls, level, key);
      }
    }
  }

  private dropProgress(value: T, cls: ClassCode, level: number, key: unknown): PushOutcome {
    if (this.progressMask === 0) return this.reject(value);
    const lowest = lowestBit(this.progressMask);
    if (cls === PROGRESS && level < lowest) return this.reject(value);
    return this.replace((this.levels[lowest] as Level<T>).progressHead, value, cls, level, key);
  }

  private reject(value: T): PushOutcome {
    this.pushed++;
    this.recordDrop(value);
    return 'rejected';
  }

  private replace(
    victim: Node<T> | null,
    value: T,
    cls: ClassCode,
    level: number,
    key: unknown,
  ): PushOutcome {
    if (victim === null) return this.reject(value);
    this.unlink(victim);
    this.recordDrop(this.release(victim));
    this.pushed++;
    this.append(value, cls, level, key);
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

  private levelAt(level: number): Level<T> {
    let found = this.levels[level];
    if (found === undefined) {
      found = {
        head: null,
        tail: null,
        nonTerminalHead: null,
        nonTerminalTail: null,
        progressHead: null,
        progressTail: null,
        size: 0,
        nonTerminalSize: 0,
        progressSize: 0,
        newestOfKey: this.keyOf === undefined ? undefined : new Map(),
      };
      this.levels[level] = found;
    }
    return found;
  }

  private append(value: T, cls: ClassCode, level: number, key: unknown): void {
    const node = this.acquire(value, cls, level, key);
    const lane = this.levelAt(level);
    const bit = 1 << level;
    node.prev = lane.tail;
    if (lane.tail === null) lane.head = node;
    else lane.tail.next = node;
    lane.tail = node;
    lane.size++;
    this.occupiedMask |= bit;
    if (cls !== TERMINAL) {
      node.prevNonTerminal = lane.nonTerminalTail;
      if (lane.nonTerminalTail === null) lane.nonTerminalHead = node;
      else lane.nonTerminalTail.nextNonTerminal = node;
      lane.nonTerminalTail = node;
      lane.nonTerminalSize++;
      this.nonTerminalMask |= bit;
      this.nonTerminalDepth++;
      if (cls === PROGRESS) {
        node.prevProgress = lane.progressTail;
        if (lane.progressTail === null) lane.progressHead = node;
        else lane.progressTail.nextProgress = node;
        lane.progressTail = node;
        lane.progressSize++;
        this.progressMask |= bit;
      }
    }
    if (lane.newestOfKey !== undefined) {
      const newest = lane.newestOfKey.get(key);
      if (newest !== undefined) {
        newest.nextSameKey = node;
        node.prevSameKey = newest;
      }
      lane.newestOfKey.set(key, node);
    }
    if (++this.depth > this.highWater) this.highWater = this.depth;
  }

  private unlink(node: Node<T>): void {
    const lane = this.levels[node.level] as Level<T>;
    const bit = 1 << node.level;
    const { prev, next } = node;
    if (prev === null) lane.head = next;
    else prev.next = next;
    if (next === null) lane.tail = prev;
    else next.prev = prev;
    if (--lane.size === 0) this.occupiedMask &= ~bit;
    if (node.cls !== TERMINAL) {
      const before = node.prevNonTerminal;
      const after = node.nextNonTerminal;
      if (before === null) lane.nonTerminalHead = after;
      else before.nextNonTerminal = after;
      if (after === null) lane.nonTerminalTail = before;
      else after.prevNonTerminal = before;
      if (--lane.nonTerminalSize === 0) this.nonTerminalMask &= ~bit;
      this.nonTerminalDepth--;
      if (node.cls === PROGRESS) {
        const earlier = node.prevProgress;
        const later = node.nextProgress;
        if (earlier === null) lane.progressHead = later;
        else earlier.nextProgress = later;
        if (later === null) lane.progressTail = earlier;
        else later.prevProgress = earlier;
        if (--lane.progressSize === 0) this.progressMask &= ~bit;
      }
    }
    if (lane.newestOfKey !== undefined) {
      const before = node.prevSameKey;
      const after = node.nextSameKey;
      if (before !== null) before.nextSameKey = after;
      if (after !== null) after.prevSameKey = before;
      else if (before !== null) lane.newestOfKey.set(node.key, before);
      else lane.newestOfKey.delete(node.key);
    }
    this.depth--;
  }

  private acquire(value: T, cls: ClassCode, level: number, key: unknown): Node<T> {
    const node = this.pool;
    if (node === null) {
      return {
        value,
        cls,
        level,
        key,
        prev: null,
        next: null,
        prevNonTerminal: null,
        nextNonTerminal: null,
        prevProgress: null,
        nextProgress: null,
        prevSameKey: null,
        nextSameKey: null,
      };
    }
    this.pool = node.next;
    this.poolSize--;
    node.value = value;
    node.cls = cls;
    node.level = level;
    node.key = key;
    node.next = null;
    return node;
  }

  private release(node: Node<T>): T {
    const value = node.value;
    node.value = undefined as T;
    node.key = undefined;
    node.prev = node.prevNonTerminal = node.nextNonTerminal = null;
    node.prevProgress = node.nextProgress = node.prevSameKey = node.nextSameKey = null;
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

/** Checks what `priority` returned: an integer from 0 to {@link MAX_PRIORITY}. */
function checkedPriority(level: number): number {
  if (typeof level === 'number' && Number.isInteger(level) && level >= 0 && level <= MAX_PRIORITY) {
    return level;
  }
  throw new RangeError(
    `priority must return an integer from 0 to ${MAX_PRIORITY}, got ${describe(level)}`,
  );
}
