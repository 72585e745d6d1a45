import { policyNameOf, validateQueueConfig } from './checks.js';
import { type ClassCode, classCodeOf, NORMAL, PROGRESS, TERMINAL } from './classCodes.js';
import type { OverflowQueueOptions, PushOutcome, QueueStats } from './OverflowQueue.js';
import { NIL, type Slot, SlotStore } from './slotStore.js';
import {
  type Classifier,
  type CoalesceFallback,
  type DropReason,
  type OverflowNotice,
  type OverflowPolicyName,
  QueueOverflowError,
} from './types.js';

export { createNodeLists, NIL, type NodeLists, type Slot } from './slotStore.js';

/**
 * What `OverflowQueue` and `PriorityOverflowQueue` share: the options, the admission rule, the
 * counters, the notice of the current gap and the slots holding the values. A subclass decides
 * which lists a value goes on and which value a policy sacrifices; it calls `place` and `take` of
 * the {@link SlotStore} below so that depth, stats and the slots stay right whatever it decides.
 */
export abstract class QueueCore<T> extends SlotStore<T> {
  /** Total slots. */
  readonly capacity: number;
  /** Slots only terminal values may use. */
  readonly terminalReserve: number;
  /** The policy's name, as notices report it. */
  readonly policy: OverflowPolicyName;

  /** The classifier, when given. @internal */
  protected readonly classify: Classifier<T> | undefined;
  /** `coalesce`'s merge function. @internal */
  protected readonly merge: ((acc: T, next: T) => T) | undefined;
  /** `coalesce`'s key function, when it has one. @internal */
  protected readonly keyOf: ((value: T) => unknown) | undefined;
  /** What `coalesce` does with a newcomer it cannot merge. @internal */
  protected readonly fallback: CoalesceFallback;
  /** Called for each value dropped, when given. @internal */
  protected readonly onDrop: ((value: T, reason: DropReason) => void) | undefined;
  private readonly nonTerminalCapacity: number;

  /**
   * Counted by the subclass once a push has an outcome (a push whose callback threw has none).
   * @internal
   */
  protected pushed = 0;
  /** Counted by the subclass's `shift`. @internal */
  protected delivered = 0;
  private dropped = 0;
  private merged = 0;
  private cleared = 0;
  private terminalOvercommits = 0;
  private notice: OverflowNotice<T> | undefined = undefined;

  /** Validates the options (naming `owner` in errors) and keeps what every queue uses. @internal */
  protected constructor(options: OverflowQueueOptions<T>, owner: string) {
    const terminalReserve = validateQueueConfig(options, owner);
    const policy = policyNameOf(options.overflow, owner);
    const overflow = typeof options.overflow === 'object' ? options.overflow : undefined;
    super(options.capacity, overflow?.key !== undefined);
    this.terminalReserve = terminalReserve;
    this.capacity = options.capacity;
    this.policy = policy;
    this.nonTerminalCapacity = this.capacity - terminalReserve;
    this.classify = options.classify;
    this.merge = overflow?.merge;
    this.keyOf = overflow?.key;
    this.fallback = overflow?.fallback ?? 'drop-progress';
    this.onDrop = options.onDrop;
  }

  /** Values queued now. */
  get size(): number {
    return this.depth;
  }

  /** Non-terminal values queued now (never above `capacity - terminalReserve`). */
  get nonTerminalSize(): number {
    return this.nonTerminalDepth;
  }

  /** Whether nothing is queued. */
  get isEmpty(): boolean {
    return this.depth === 0;
  }

  /** Whether drops or merges happened since the last `takeNotice()`. */
  get hasNotice(): boolean {
    return this.notice !== undefined;
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

  /** A snapshot of the counters. */
  stats(): QueueStats {
    return {
      capacity: this.capacity,
      terminalReserve: this.terminalReserve,
      usableCapacity: this.nonTerminalCapacity,
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

  /** The class code of a value; whatever the classifier throws propagates. @internal */
  protected classOf(value: T): ClassCode {
    return this.classify === undefined ? NORMAL : classCodeOf(this.classify(value));
  }

  /**
   * Whether a newcomer of class `cls` is admitted without the policy: a terminal always is (and
   * is counted as an overcommit when the queue is already full).
   * @internal
   */
  protected hasRoomFor(cls: ClassCode): boolean {
    if (cls === TERMINAL) {
      if (this.depth >= this.capacity) this.terminalOvercommits++;
      return true;
    }
    return this.depth < this.capacity && this.nonTerminalDepth < this.nonTerminalCapacity;
  }

  /**
   * Under `coalesce`, folds a progress newcomer into `target` when that is a progress value.
   * `merge` may throw: nothing is changed before it returns.
   * @internal
   */
  protected mergedInto(target: Slot, value: T): boolean {
    if (target === NIL || this.classAt(target) !== PROGRESS) return false;
    const merged = (this.merge as (acc: T, next: T) => T)(this.valueAt(target), value);
    this.setValueAt(target, merged);
    this.merged++;
    this.gap().merged++;
    return true;
  }

  /** Counts a value lost to the policy in the current gap. @internal */
  protected recordDrop(value: T): void {
    this.dropped++;
    const notice = this.gap();
    if (notice.dropped === 0) notice.first = value;
    notice.last = value;
    notice.dropped++;
  }

  /** The `'error'` policy's overflow: the newcomer is lost, and the stream must end. @internal */
  protected overflowed(value: T): PushOutcome {
    this.dropped++;
    if (this.onDrop !== undefined) this.onDrop(value, 'overflow');
    return 'overflow';
  }

  /** Rejects the newcomer. @internal */
  protected reject(value: T): PushOutcome {
    this.recordDrop(value);
    if (this.onDrop !== undefined) this.onDrop(value, 'rejected');
    return 'rejected';
  }

  /**
   * Reports a value evicted for a newcomer, once the newcomer is placed (so a throwing `onDrop`
   * leaves the queue consistent). @internal
   */
  protected evicted(value: T): PushOutcome {
    if (this.onDrop !== undefined) this.onDrop(value, 'evicted');
    return 'evicted';
  }

  /** Forgets every value, the notice and the slots; the subclass empties its lists. @internal */
  protected forgetAll(): void {
    this.cleared += this.releaseAll();
    this.notice = undefined;
  }

  private gap(): OverflowNotice<T> {
    if (this.notice === undefined) {
      this.notice = { policy: this.policy, dropped: 0, merged: 0, terminalPreserved: true };
    }
    return this.notice;
  }
}
