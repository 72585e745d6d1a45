import {
  asyncScheduler,
  isObservable,
  Observable,
  type Observer,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import {
  checkFunction,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
  typeError,
  validateQueueConfig,
} from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import { PriorityOverflowQueue } from '../core/PriorityOverflowQueue.js';
import type { QueueConfig } from '../core/types.js';
import { drainSource } from '../internal/drainSource.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { type DrainStats, StatsReporter } from './drainStats.js';
import { type DrainHandler, type FailurePlan, HandlerPool } from './HandlerPool.js';

/** How {@link drainWith} retries a value whose handler failed. */
export interface DrainRetryConfig {
  /**
   * Attempts per value, the first included: a positive integer, or `Infinity` (until one
   * succeeds). Required.
   */
  maxAttempts: number;
  /**
   * The wait in ms before the next attempt, given the number of the attempt that just failed
   * (1, 2, ...), on the operator's `scheduler`; it must return a finite non-negative number. A
   * throw or a bad answer errors the output. Default: `() => 0` (again at once, on the scheduler).
   */
  backoff?: ((attempt: number) => number) | undefined;
}

/**
 * The options of {@link drainWith}: the {@link QueueConfig} of the values waiting for a free
 * slot, how many handlers run at once, which waiting value goes first, what happens when a
 * handler fails, and where the pool's figures go.
 */
export interface DrainWithConfig<T> extends QueueConfig<T> {
  /**
   * How many values may hold a slot at once (each from its first attempt until its work completes
   * or it is dead-lettered): a positive integer, or `Infinity` (no waiting, as `mergeMap`).
   * An Observable of them makes it reactive: raising it starts waiting values at once, lowering it
   * lets the work in flight finish and starts nothing until fewer values than the new concurrency
   * are in flight. Until that Observable first emits, nothing starts; an emission that is not a
   * positive integer or `Infinity`, or an error of it, errors the output; its completion keeps
   * the last value. Feed it {@link autoscale} to follow the load. Default: 1.
   */
  concurrency?: number | Observable<number> | undefined;
  /**
   * The priority class of a value: an integer from 0 to 31 (see `MAX_PRIORITY`); a waiting value
   * of a higher class is handled first, FIFO within a class, and under the drop policies an
   * overflow sacrifices the lowest class first. Any other answer, or a throw, errors the stream.
   * Default: none (every value waits in arrival order).
   */
  priority?: ((value: T) => number) | undefined;
  /**
   * Retries a value whose handler throws, whose work errors, or whose attempt times out: the
   * handler is called again after `backoff`, with the attempt number as its third argument, and
   * the value keeps its slot meanwhile. Default: none (one attempt).
   */
  retry?: DrainRetryConfig | undefined;
  /**
   * Receives a value whose last attempt failed, with that failure and the number of attempts made;
   * its slot is then freed and the output goes on. A throw errors the output. Default: none (the
   * last failure errors the output, cancelling the work in flight).
   */
  deadLetter?: ((value: T, error: unknown, attempts: number) => void) | undefined;
  /**
   * Ms an attempt may run before it fails with a `HandlerTimeoutError` (its work is cancelled):
   * a positive number, or `Infinity`. Default: `Infinity` (no limit).
   */
  timeout?: number | undefined;
  /**
   * Receives a {@link DrainStats} snapshot when the figures changed, at most once per task of
   * `scheduler` (and a last one just before the output completes). Only `next` is called: a
   * Subject shared between subscriptions stays open. A throw errors the output. Default: none.
   */
  stats?: Pick<Observer<DrainStats>, 'next'> | undefined;
  /**
   * The clock of the backoff waits, the timeouts and the stats reports. Default: `asyncScheduler`.
   */
  scheduler?: SchedulerLike | undefined;
}

/**
 * A bounded `mergeMap`: calls `handler` for each value with at most `concurrency` values in
 * flight, and emits what the handlers' work emits.
 *
 * Values that arrive while every slot is busy wait in a queue of `capacity` with the `overflow`
 * policy, so memory stays bounded however fast the source is. With `priority`, the highest
 * waiting class is handled first (FIFO within a class) and an overflow drops from the lowest
 * class first; terminal values (by `classify`) are never dropped. Each gap is reported to
 * `onOverflow` just before the next value is handed to the handler. `concurrency` may be an
 * Observable (see {@link autoscale}); `stats` reports the pool's figures.
 *
 * The output completes when the source has completed and every accepted value was handled. A
 * source error, a throwing `classify` or `priority`, and the `'error'` policy's overflow stop
 * the source and error the output once the values accepted before them were handled. A handler
 * that fails (throws, errors, or outlives `timeout`) is called again under `retry`, and its value
 * goes to `deadLetter` after the last attempt; without them the failure errors the output at
 * once, cancelling the work in flight. A throwing `onOverflow`, `deadLetter`, `backoff` or
 * `stats` errors the output at once. Unsubscribing cancels the work in flight, the timers, and
 * empties the queue.
 *
 * ```text
 * concurrency 1, capacity 2, overflow 'drop-oldest'; each handler call: ---v| (emits its value)
 * source: -abcd---|
 * result: ----a---c---d|      onOverflow as c starts: { dropped: 1, first: b, last: b }
 *
 * retry { maxAttempts: 2, backoff: () => 2 }; a's first attempt: -#, its second: -v|
 * source: -a----|
 * result: -----a|             (attempt 1 fails at 2, attempt 2 starts at 4)
 * ```
 *
 * Every case of marbles/drainWith.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/drainWith.md in the repository.
 *
 * @example
 * ```ts
 * rows$
 *   .pipe(
 *     drainWith((row) => db.insert(row), {
 *       concurrency: 4,
 *       capacity: 1_000,
 *       overflow: 'drop-oldest',
 *       priority: (row) => (row.kind === 'audit' ? 2 : row.kind === 'event' ? 1 : 0),
 *       retry: { maxAttempts: 3, backoff: (attempt) => 100 * 2 ** attempt },
 *       deadLetter: (row, error) => log.error('insert failed', row, error),
 *       onOverflow: (gap) => log.warn(`skipped ${gap.dropped} rows`),
 *     }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param handler - maps a value, its index (0 for the first value handed out, then 1, 2...; a
 *   retry keeps its value's index) and the attempt number (1, then 2... under `retry`) to the
 *   work to do.
 * @param options - the waiting queue, `concurrency`, `priority`, failure handling and `stats`.
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function drainWith<T, R>(
  handler: DrainHandler<T, R>,
  options: DrainWithConfig<T>,
): OperatorFunction<T, R> {
  checkFunction(handler, OWNER, 'handler', true);
  validateQueueConfig(options, OWNER);
  const { concurrency = 1, priority, stats, scheduler = asyncScheduler } = options;
  if (!isObservable(concurrency)) checkPositiveInteger(concurrency, OWNER, 'concurrency', true);
  checkFunction(priority, OWNER, 'priority');
  if (options.scheduler !== undefined) checkScheduler(scheduler, OWNER);
  if (stats !== undefined && typeof stats?.next !== 'function') {
    throw typeError(OWNER, 'stats', 'an Observer (with next)', stats);
  }
  const plan = failurePlanOf(options, scheduler);

  return (source) =>
    new Observable<R>((subscriber) => {
      const queue =
        priority === undefined
          ? new OverflowQueue<T>(options)
          : new PriorityOverflowQueue<T>({ ...options, owner: OWNER });
      const reactive = isObservable(concurrency);
      const pool = new HandlerPool<T, R>(
        subscriber,
        handler,
        options.onOverflow,
        queue,
        reactive ? 0 : concurrency,
        plan,
      );
      subscriber.add(() => pool.dispose());
      drainSource(
        source,
        subscriber,
        queue,
        pool,
        {
          schedule: 'now',
          credits: pool.concurrency,
          settled: () => pool.inFlight === 0,
          afterDrain: stats === undefined ? undefined : () => pool.stats?.changed(),
        },
        (engine) => {
          pool.attach(engine);
          if (stats !== undefined) {
            pool.stats = new StatsReporter(stats, pool, scheduler, (error) => engine.fail(error));
            pool.stats.changed();
          }
          if (reactive) {
            const fail = (error: unknown): void => engine.fail(error);
            const limits = new OperatorSubscriber<number>(
              (limit) => pool.setConcurrency(limit),
              fail,
              () => {},
              fail,
            );
            subscribeWithin(subscriber, concurrency, limits);
          }
        },
      );
    });
}

const OWNER = 'drainWith';

export type { DrainStats } from './drainStats.js';
export type { DrainHandler } from './HandlerPool.js';

/** The failure handling the options ask for, checked; `undefined` when they ask for none. */
function failurePlanOf<T>(
  options: DrainWithConfig<T>,
  scheduler: SchedulerLike,
): FailurePlan<T> | undefined {
  const { retry, deadLetter, timeout } = options;
  checkFunction(deadLetter, OWNER, 'deadLetter');
  if (timeout !== undefined)
    checkPositiveNumber(timeout, OWNER, 'timeout', true, ' of ms or Infinity');
  if (retry !== undefined) {
    if (retry === null || typeof retry !== 'object') {
      throw typeError(OWNER, 'retry', 'an object ({ maxAttempts, backoff? })', retry);
    }
    checkPositiveInteger(retry.maxAttempts, OWNER, 'retry.maxAttempts', true);
    checkFunction(retry.backoff, OWNER, 'retry.backoff');
  }
  const limit = timeout ?? Number.POSITIVE_INFINITY;
  // With stats, every value is a job (its attempts are timed); a failure then still errors the
  // output at once, as on the plain path.
  if (
    retry === undefined &&
    deadLetter === undefined &&
    limit === Number.POSITIVE_INFINITY &&
    options.stats === undefined
  ) {
    return undefined;
  }
  return {
    maxAttempts: retry?.maxAttempts ?? 1,
    backoff: retry?.backoff ?? noWait,
    deadLetter,
    timeout: limit,
    scheduler,
  };
}

const noWait = (): number => 0;
