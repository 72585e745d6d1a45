import {
  asapScheduler,
  type MonoTypeOperatorFunction,
  Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import { checkDeliveryOptions, validateQueueConfig } from '../core/checks.js';
import { OverflowQueue, type QueueStats } from '../core/OverflowQueue.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import type { DrainEngine, DrainSchedule } from '../internal/DrainEngine.js';
import { drainSource } from '../internal/drainSource.js';
import { subscribeTriggers } from '../internal/queueTriggers.js';
import { SubscriberSink } from '../internal/SubscriberSink.js';
/**
 * The options of {@link boundedQueue}: a {@link QueueConfig} plus what triggers delivery.
 *
 * Delivery is driven by exactly one of: `demand` (credits), `flushOn` (ticks), or else the
 * `scheduler` (each burst is delivered in one task).
 */
export interface BoundedQueueConfig<T> extends QueueConfig<T> {
  /**
   * Credits: each emission grants `n` more values (`undefined`, i.e. `void`, grants 1; `Infinity`
   * grants all). Credits accumulate, and a value that arrives while credits remain is delivered at
   * once. An emission that is not a non-negative integer (or `Infinity`) errors the stream; an
   * error of `demand` errors the stream at once. Default: none (the `scheduler` drives delivery).
   * Cannot be combined with `flushOn`.
   *
   * Nothing is delivered before the first credit. A consumer that requests only after it has
   * received a value (`ready$.next(1)` in its subscriber) must be given a first credit, or it
   * waits for ever: use `initialDemand`, or a `BehaviorSubject` as `demand`.
   */
  demand?: ObservableInput<number | void> | undefined;
  /**
   * Credits granted at each subscription, before `demand` first emits: a non-negative integer or
   * `Infinity`, and only with `demand` (else a `RangeError` at creation). With
   * `initialDemand: n` a consumer can take `n` values at once and then request one more per
   * value it has handled. Default: 0 (nothing is delivered until `demand` emits).
   */
  initialDemand?: number | undefined;
  /**
   * Ticks: each emission delivers everything queued at that moment (values that arrive during the
   * flush wait for the next tick). An error of `flushOn` errors the stream at once.
   * Default: none. Cannot be combined with `demand`.
   */
  flushOn?: ObservableInput<unknown> | undefined;
  /**
   * With neither `demand` nor `flushOn`: a burst of values is queued, then delivered in one task
   * on this scheduler. Default: `asapScheduler` (a microtask after the burst).
   */
  scheduler?: SchedulerLike | undefined;
  /**
   * Receives, at each subscription, a function that reads that subscription's queue counters
   * (depth, high water, dropped, merged, ...) at any time: for metrics and dashboards. Reading
   * costs one small object; nothing is computed unless it is called. Default: none.
   */
  inspect?: ((readStats: () => QueueStats) => void) | undefined;
}

/**
 * Puts a bounded queue with an explicit overflow policy between a producer and a slower
 * consumer.
 *
 * Values wait in an {@link OverflowQueue} until `demand` grants credit, `flushOn` ticks, or the
 * `scheduler` runs. When the queue is full, `overflow` decides what is lost; terminal values
 * (by `classify`), `complete` and `error` are never lost and never reordered: `complete` and
 * `error` arrive after every value queued before them, without needing credit. Each gap (values
 * dropped or merged) is reported to `onOverflow` just before the next delivered value.
 *
 * ```text
 * capacity 2, overflow 'drop-oldest', demand:
 * source:  -a-b-c-d-------|
 * demand:  ---------1---2---
 * result:  ---------c---d-|      onOverflow before c: { dropped: 2, first: a, last: b }
 * ```
 *
 * Under the `'error'` policy, the values queued before the overflow are delivered, then the
 * stream errors with a `QueueOverflowError` whose notice names the value that did not fit.
 * Unsubscribing stops delivery at once, even in the middle of a drain, and frees the queue. A
 * consumer that pushes back into the source while receiving a value neither reorders nor
 * duplicates values.
 *
 * Every case of marbles/boundedQueue.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/boundedQueue.md in the repository.
 *
 * The operator keeps the source's value type, even with a classifier typed more loosely
 * (`(value: unknown) => EventClass`).
 *
 * @example
 * ```ts
 * const ready$ = new Subject<number>();
 * deltas$
 *   .pipe(
 *     boundedQueue({ capacity: 64, overflow: 'drop-progress', classify, demand: ready$, initialDemand: 8 }),
 *   )
 *   .subscribe(async (event) => { await render(event); ready$.next(1); });
 * // the consumer takes 8 values at once, then one more for each value it has rendered
 * ```
 *
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function boundedQueue<T>(
  config: BoundedQueueConfig<NoInfer<T>>,
): MonoTypeOperatorFunction<T>;
export function boundedQueue<T>(config: BoundedQueueConfig<T>): MonoTypeOperatorFunction<T>;
export function boundedQueue<T>(config: BoundedQueueConfig<T>): MonoTypeOperatorFunction<T> {
  validateQueueConfig(config, OWNER);
  const { demand, flushOn, scheduler = asapScheduler, onOverflow, inspect } = config;
  const initialDemand = checkDeliveryOptions({ ...config, scheduler }, OWNER);
  const schedule: DrainSchedule =
    demand !== undefined ? 'now' : flushOn !== undefined ? 'tick' : scheduler;

  return (source) =>
    new Observable<T>((subscriber) => {
      const queue = new OverflowQueue<T>(config);
      if (inspect !== undefined) inspect(() => queue.stats());
      const sink = new SubscriberSink<T, OverflowNotice<T>>(subscriber, onOverflow);
      drainSource(source, subscriber, queue, sink, { schedule, credits: initialDemand }, (engine) =>
        subscribeTriggers(engine as DrainEngine<unknown, unknown>, subscriber, config, OWNER),
      );
    });
}

const OWNER = 'boundedQueue';
