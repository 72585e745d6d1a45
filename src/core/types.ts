/**
 * The vocabulary shared by every queue in the library. Nothing here imports RxJS: the queue is a
 * plain data structure, reused by every operator, the bus and the pull bridge.
 *
 * @packageDocumentation
 */
import { checkFallback, checkFunction, checkOptions } from './checks.js';

export { describe } from './checks.js';

/**
 * How much a value matters when a queue is full.
 *
 * - `'terminal'`: ends something (a run finished, a run failed). Never dropped by any policy.
 * - `'progress'`: high-rate and individually unimportant (token deltas, usage ticks). Dropped or
 *   merged first.
 * - `'normal'`: everything else.
 */
export type EventClass = 'terminal' | 'progress' | 'normal';

/**
 * Tells the class of a value. Without a classifier every value is `'normal'`.
 *
 * A classifier that throws, or returns anything but the three classes, errors the stream.
 */
export type Classifier<T> = (value: T) => EventClass;

/** The name of an overflow policy, as reported in {@link OverflowNotice.policy}. */
export type OverflowPolicyName =
  | 'drop-oldest'
  | 'drop-incoming'
  | 'drop-progress'
  | 'error'
  | 'coalesce';

/**
 * What `coalesce` does with a newcomer it cannot merge (a normal value, or a progress value whose
 * key has no progress value newest in the queue) when the queue is full: one of the named
 * policies. Every one of them may lose a value, and says so in the notice:
 *
 * - `'drop-progress'` (the default): evict the oldest queued progress value, which may be a merged
 *   one standing for many; with no progress queued, reject the newcomer;
 * - `'drop-oldest'`: evict the oldest non-terminal value;
 * - `'drop-incoming'`: reject the newcomer, keeping every merged value;
 * - `'error'`: end the stream with {@link QueueOverflowError} after delivering what is queued.
 */
export type CoalesceFallback = 'drop-progress' | 'drop-oldest' | 'drop-incoming' | 'error';

/** The options of {@link coalesce}. */
export interface CoalesceOptions {
  /** What a full queue does with a newcomer that cannot be merged. Default: `'drop-progress'`. */
  fallback?: CoalesceFallback | undefined;
}

/**
 * The `coalesce` policy: built by {@link coalesce}, never by hand.
 */
export interface CoalescePolicy<T> {
  /** Discriminates this policy from the named ones. */
  readonly kind: 'coalesce';
  /** Folds a progress newcomer (`next`) into the newest queued progress value of its key (`acc`). */
  readonly merge: (acc: T, next: T) => T;
  /** Only values with the same key are merged. Omitted: one key for all values. */
  readonly key?: ((value: T) => unknown) | undefined;
  /** What a full queue does with a newcomer that cannot be merged. Omitted: `'drop-progress'`. */
  readonly fallback?: CoalesceFallback | undefined;
}

/**
 * What a queue does with a non-terminal newcomer when its class has no room.
 *
 * | policy            | on overflow                                                             |
 * | ----------------- | ----------------------------------------------------------------------- |
 * | `'drop-oldest'`   | evict the oldest non-terminal value, admit the newcomer                  |
 * | `'drop-incoming'` | reject the newcomer (the value arriving now, never a queued one)        |
 * | `'drop-progress'` | evict the oldest progress value and admit the newcomer; if none, reject |
 * | `'error'`         | error with {@link QueueOverflowError} after delivering what is queued    |
 * | `coalesce(m, k)`  | merge a progress newcomer into the newest queued value of its key when  |
 * |                   | that value is progress; otherwise apply its `fallback` (default          |
 * |                   | `'drop-progress'`, which may evict a merged value)                      |
 *
 * Terminal values are always admitted, whatever the policy. `'drop-progress'` and `coalesce` need
 * a `classify` (without one no value is progress): a queue refuses them without it.
 */
export type OverflowPolicy<T> =
  | 'drop-oldest'
  | 'drop-incoming'
  | 'drop-progress'
  | 'error'
  | CoalescePolicy<T>;

/**
 * One gap: every value dropped or merged since the previous delivered value. Reported just
 * before the next value delivered after the gap, so a consumer learns of a gap before it sees
 * anything that came after it.
 */
export interface OverflowNotice<T> {
  /** The policy that made the gap. */
  policy: OverflowPolicyName;
  /** Values lost in this gap. */
  dropped: number;
  /** Values folded into others by `coalesce`: not lost, but no longer separate. */
  merged: number;
  /** The first value lost in this gap (absent when nothing was lost, only merged). */
  first?: T;
  /** The last value lost in this gap. */
  last?: T;
  /**
   * On the bus, always: the first seq of the gap (repair from `fromSeq - 1`). For a notice that
   * only merged, the first seq of the frames folded together.
   */
  fromSeq?: number;
  /**
   * On the bus, always: the last seq of the gap (of the frames folded, for merges only). Two gaps
   * reported as one span both, frames between them included: `dropped` counts only those lost.
   */
  toSeq?: number;
  /**
   * `true` from every queue: terminal values are never dropped. `false` only on the bus's notice
   * for a cursor older than history and archive, where the bus cannot tell what the gone frames were.
   */
  terminalPreserved: boolean;
}

/**
 * The error a stream ends with under the `'error'` policy, after the values queued before the
 * overflow were delivered. `notice.first` is the value that did not fit.
 */
export class QueueOverflowError extends Error {
  /** The overflow that ended the stream: `first` and `last` are the value that did not fit. */
  readonly notice: OverflowNotice<unknown>;

  constructor(notice: OverflowNotice<unknown>, capacity?: number) {
    super(
      capacity === undefined
        ? 'Queue overflow: a value did not fit'
        : `Queue overflow: a value did not fit in a queue of capacity ${capacity}`,
    );
    this.name = 'QueueOverflowError';
    this.notice = notice;
  }
}

/**
 * Why a value was dropped, as {@link QueueConfig.onDrop} receives it:
 *
 * - `'evicted'`: it was queued, and made room for a newer value;
 * - `'rejected'`: it arrived at a full queue and was not admitted;
 * - `'overflow'`: it did not fit under the `'error'` policy (or `coalesce`'s `'error'`
 *   fallback); the stream then errors with {@link QueueOverflowError}.
 */
export type DropReason = 'evicted' | 'rejected' | 'overflow';

/**
 * The options every bounded queue in the library takes: `boundedQueue`, `drainWith`,
 * `toAsyncIterable`, `mergeLanes` lanes and bus subscribers.
 */
export interface QueueConfig<T> {
  /** Total slots: a positive integer, else a `RangeError` at creation. No default. */
  capacity: number;
  /**
   * What happens when a non-terminal value has no room. Required: there is no silent default.
   * `'drop-progress'` and `coalesce(...)` need `classify`, else a `TypeError` at creation.
   */
  overflow: OverflowPolicy<T>;
  /** Tells terminal, progress and normal values apart. Default: every value is `'normal'`. */
  classify?: Classifier<T> | undefined;
  /**
   * Slots only terminal values may use, `0 <= terminalReserve < capacity`, else a `RangeError`
   * naming both. Non-terminal values have room for `capacity - terminalReserve` (the
   * `usableCapacity` of the stats). Default: 1 when a classifier is given and capacity > 1 (so a
   * classified queue of capacity 4 holds at most 3 non-terminal values), else 0.
   */
  terminalReserve?: number | undefined;
  /**
   * Receives each gap's notice just before the next delivered value. A throw errors the stream
   * with what was thrown. Default: none (the gap is still counted in the stats).
   */
  onOverflow?: ((notice: OverflowNotice<T>) => void) | undefined;
  /**
   * Called at once for every value the policy drops, with why (see {@link DropReason}): for
   * logging, metrics or a dead-letter store. Merged values are not dropped and are not reported
   * here. A throw stops the source: the stream errors with it after the values already queued,
   * as with a throwing `classify`. Default: none (nothing is done per drop).
   */
  onDrop?: ((value: T, reason: DropReason) => void) | undefined;
}

/**
 * Builds the `coalesce` policy: on overflow, a progress newcomer is merged into the newest queued
 * value of its key when that value is progress; otherwise the queue applies `fallback`.
 *
 * What can be lost: merged values are not lost (the notice counts them in `merged`). A newcomer
 * that cannot be merged (a normal value, or progress whose key's newest queued value is not
 * progress) arriving at a full queue is handled by the fallback, which drops a value: by default
 * (`'drop-progress'`) the oldest queued progress value, possibly a merged one standing for many;
 * `'drop-incoming'` drops the newcomer instead and keeps every merged value; `'error'` ends the
 * stream. Terminal values are never lost. The queue needs a `classify` (it refuses `coalesce`
 * without one).
 *
 * @param merge - folds `next` into `acc` and returns the merged value; a throw errors the stream.
 * @param key - only values with equal keys (SameValueZero) are merged. Default: one key for all.
 * @param options - `fallback`: what a full queue does with a newcomer it cannot merge. Default
 *   `'drop-progress'`.
 *
 * @example
 * ```ts
 * boundedQueue({
 *   capacity: 64,
 *   overflow: coalesce((a, b) => ({ ...b, text: a.text + b.text }), (e) => e.runId),
 *   classify: (e) => (e.kind === 'delta' ? 'progress' : 'normal'),
 * })
 * ```
 */
export function coalesce<T>(
  merge: (acc: T, next: T) => T,
  key?: ((value: T) => unknown) | undefined,
  options?: CoalesceOptions,
): CoalescePolicy<T> {
  checkFunction(merge, 'coalesce', 'merge', true);
  checkFunction(key, 'coalesce', 'key');
  if (options !== undefined) checkOptions(options, 'coalesce');
  const fallback = checkFallback(options?.fallback, 'coalesce');
  return Object.freeze({ kind: 'coalesce' as const, merge, key, fallback });
}
