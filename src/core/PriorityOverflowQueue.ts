import { checkFunction } from './checks.js';
import { type ClassCode, PROGRESS, TERMINAL } from './classCodes.js';
import type { OverflowQueueOptions, PushOutcome } from './OverflowQueue.js';
import { QueueCore } from './queueCore.js';
import { createNodeLists, NIL, type NodeLists, type Slot } from './slotStore.js';
import { type CoalesceFallback, describe } from './types.js';

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
  /**
   * The name a bad `priority` result's error starts with (the operator that owns the queue).
   * Default: `'PriorityOverflowQueue'`.
   */
  owner?: string | undefined;
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
export class PriorityOverflowQueue<T> extends QueueCore<T> {
  private readonly priorityOf: ((value: T) => number) | undefined;
  /** The lists of each priority level, made on first use. */
  private readonly levels: Array<NodeLists | undefined> = new Array(MAX_PRIORITY + 1).fill(
    undefined,
  );
  /** Bit l is set when level l holds a value / a non-terminal value / a progress value. */
  private occupiedMask = 0;
  private nonTerminalMask = 0;
  private progressMask = 0;
  private readonly owner: string;

  constructor(options: PriorityOverflowQueueOptions<T>) {
    super(options, 'PriorityOverflowQueue');
    const { priority } = options;
    checkFunction(priority, 'PriorityOverflowQueue', 'priority');
    this.priorityOf = priority;
    this.owner = options.owner ?? 'PriorityOverflowQueue';
  }

  /**
   * Offers a value. The classifier, `priority`, and under `coalesce` the key and merge functions
   * run here: whatever they throw propagates (a `RangeError` for a priority out of range), and
   * the queue is then exactly as it was before the call.
   */
  push(value: T): PushOutcome {
    const cls = this.classOf(value);
    const level =
      this.priorityOf === undefined ? 0 : checkedPriority(this.priorityOf(value), this.owner);
    const key = this.keyOf === undefined ? undefined : this.keyOf(value);
    if (this.hasRoomFor(cls)) {
      this.append(value, cls, level, key);
      this.pushed++;
      return 'queued';
    }
    const outcome = this.overflow(value, cls, level, key);
    this.pushed++;
    return outcome;
  }

  /** Takes the oldest value of the highest priority out. Throws a `RangeError` when empty. */
  shift(): T {
    if (this.occupiedMask === 0) {
      throw new RangeError('PriorityOverflowQueue.shift: the queue is empty');
    }
    this.delivered++;
    return this.remove(this.highestLevel().head);
  }

  /** The value {@link PriorityOverflowQueue.shift} would return, or `undefined` when empty. */
  peek(): T | undefined {
    if (this.occupiedMask === 0) return undefined;
    return this.valueAt(this.highestLevel().head);
  }

  /** Empties the queue (on unsubscribe), dropping references to every value and the notice. */
  clear(): void {
    this.forgetAll();
    this.levels.fill(undefined);
    this.occupiedMask = this.nonTerminalMask = this.progressMask = 0;
  }

  /** The queued values in the order `shift` would return them. O(n): for tests and debugging. */
  toArray(): T[] {
    const values: T[] = [];
    for (let level = MAX_PRIORITY; level >= 0; level--) {
      for (let slot = this.levels[level]?.head ?? NIL; slot !== NIL; slot = this.nextAt(slot)) {
        values.push(this.valueAt(slot));
      }
    }
    return values;
  }

  private overflow(value: T, cls: ClassCode, level: number, key: unknown): PushOutcome {
    if (this.policy === 'coalesce') {
      const own = this.levels[level];
      if (cls === PROGRESS && own !== undefined) {
        const newest = own.newestOfKey === undefined ? own.tail : (own.newestOfKey.get(key) ?? NIL);
        if (this.mergedInto(newest, value)) return 'merged';
      }
      return this.apply(this.fallback, value, cls, level, key);
    }
    return this.apply(this.policy, value, cls, level, key);
  }

  /** What a named policy (or `coalesce`'s fallback) does with a newcomer that has no room. */
  private apply(
    policy: CoalesceFallback,
    value: T,
    cls: ClassCode,
    level: number,
    key: unknown,
  ): PushOutcome {
    switch (policy) {
      case 'error':
        return this.overflowed(value);
      case 'drop-incoming': {
        if (this.nonTerminalMask === 0) return this.reject(value);
        const lowest = lowestBit(this.nonTerminalMask);
        if (level <= lowest) return this.reject(value);
        const victim = (this.levels[lowest] as NodeLists).nonTerminalTail;
        return this.replace(victim, value, cls, level, key);
      }
      case 'drop-oldest': {
        if (this.nonTerminalMask === 0) return this.reject(value);
        const lowest = lowestBit(this.nonTerminalMask);
        if (level < lowest) return this.reject(value);
        const victim = (this.levels[lowest] as NodeLists).nonTerminalHead;
        return this.replace(victim, value, cls, level, key);
      }
      case 'drop-progress':
        return this.dropProgress(value, cls, level, key);
    }
  }

  private dropProgress(value: T, cls: ClassCode, level: number, key: unknown): PushOutcome {
    if (this.progressMask === 0) return this.reject(value);
    const lowest = lowestBit(this.progressMask);
    if (cls === PROGRESS && level < lowest) return this.reject(value);
    const victim = (this.levels[lowest] as NodeLists).progressHead;
    return this.replace(victim, value, cls, level, key);
  }

  private replace(
    victim: Slot,
    value: T,
    cls: ClassCode,
    level: number,
    key: unknown,
  ): PushOutcome {
    if (victim === NIL) return this.reject(value);
    const lost = this.remove(victim);
    this.recordDrop(lost);
    this.append(value, cls, level, key);
    return this.evicted(lost);
  }

  /** The lists of the highest level holding a value; only while the queue is not empty. */
  private highestLevel(): NodeLists {
    return this.levels[highestBit(this.occupiedMask)] as NodeLists;
  }

  private append(value: T, cls: ClassCode, level: number, key: unknown): void {
    let lists = this.levels[level];
    if (lists === undefined) {
      lists = createNodeLists(this.keyOf !== undefined);
      this.levels[level] = lists;
    }
    this.place(lists, value, cls, level, key);
    const bit = 1 << level;
    this.occupiedMask |= bit;
    if (cls !== TERMINAL) {
      this.nonTerminalMask |= bit;
      if (cls === PROGRESS) this.progressMask |= bit;
    }
  }

  private remove(slot: Slot): T {
    const level = this.levelAt(slot);
    const lists = this.levels[level] as NodeLists;
    const bit = 1 << level;
    const value = this.take(lists, slot);
    if (lists.head === NIL) this.occupiedMask &= ~bit;
    if (lists.nonTerminalHead === NIL) this.nonTerminalMask &= ~bit;
    if (lists.progressHead === NIL) this.progressMask &= ~bit;
    return value;
  }
}

/** Checks what `priority` returned: an integer from 0 to {@link MAX_PRIORITY}. */
function checkedPriority(level: number, owner: string): number {
  if (Number.isInteger(level) && level >= 0 && level <= MAX_PRIORITY) return level;
  throw new RangeError(
    `${owner}: priority must return an integer from 0 to ${MAX_PRIORITY}, got ${describe(level)}`,
  );
}
