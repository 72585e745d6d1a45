import {
  asapScheduler,
  from,
  type MonoTypeOperatorFunction,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { OverflowQueue, type QueueStats, validateQueueConfig } from '../core/OverflowQueue.js';
import { describe, type QueueConfig } from '../core/types.js';
import { QueuedSource } from '../internal/QueuedSource.js';
import { SourceSubscriber } from '../internal/SourceSubscriber.js';

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
   */
  demand?: ObservableInput<number | void> | undefined;
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
 * @example
 * ```ts
 * const ready$ = new Subject<number>();
 * deltas$
 *   .pipe(boundedQueue({ capacity: 64, overflow: 'drop-progress', classify, demand: ready$ }))
 *   .subscribe(async (event) => { await render(event); ready$.next(1); });
 * ready$.next(8); // the consumer can take 8 values now
 * ```
 *
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function boundedQueue<T>(config: BoundedQueueConfig<T>): MonoTypeOperatorFunction<T> {
  validateQueueConfig(config, 'boundedQueue');
  const { demand, flushOn, scheduler = asapScheduler, onOverflow, inspect } = config;
  if (demand !== undefined && flushOn !== undefined) {
    throw new RangeError('boundedQueue: demand and flushOn cannot be combined; give one of them');
  }
  if (demand !== undefined && demand === null) {
    throw new TypeError('boundedQueue: demand must be an ObservableInput, got null');
  }
  if (flushOn !== undefined && flushOn === null) {
    throw new TypeError('boundedQueue: flushOn must be an ObservableInput, got null');
  }
  if (
    scheduler === null ||
    typeof scheduler !== 'object' ||
    typeof scheduler.schedule !== 'function'
  ) {
    throw new TypeError(
      `boundedQueue: scheduler must be a SchedulerLike, got ${describe(scheduler)}`,
    );
  }

  return (source) =>
    new Observable<T>((subscriber) => {
      const queue = new OverflowQueue<T>(config);
      if (inspect !== undefined) {
        try {
          inspect(() => queue.stats());
        } catch (error) {
          subscriber.error(error);
          return;
        }
      }
      // Values the consumer may receive now: granted by demand, set per flush tick or per task.
      let credits = 0;
      let draining = false;
      let scheduledDrain: Subscription | undefined;

      /** Ends the stream at once: for errors of the consumer side (onOverflow, notifiers). */
      const fail = (error: unknown): void => {
        subscriber.error(error);
      };

      /** Reports the pending gap, if any. Returns false when onOverflow threw. */
      const reportGap = (): boolean => {
        const notice = queue.takeNotice();
        if (notice !== undefined && onOverflow !== undefined) {
          try {
            onOverflow(notice);
          } catch (error) {
            fail(error);
            return false;
          }
        }
        return true;
      };

      const finishIfDone = (): void => {
        if (!input.done || !queue.isEmpty || draining || subscriber.closed) return;
        if (!reportGap()) return;
        if (input.endError !== undefined) subscriber.error(input.endError.error);
        else subscriber.complete();
      };

      const drain = (): void => {
        if (draining) return;
        draining = true;
        try {
          while (credits > 0 && !queue.isEmpty && !subscriber.closed) {
            credits--;
            if (!reportGap()) return;
            subscriber.next(queue.shift());
          }
        } finally {
          draining = false;
        }
        if (flushOn !== undefined || demand === undefined) credits = 0;
        if (demand === undefined && flushOn === undefined && !queue.isEmpty) scheduleDrain();
        finishIfDone();
      };

      const runScheduledDrain = (): void => {
        scheduledDrain = undefined;
        credits = queue.size;
        drain();
      };

      function scheduleDrain(): void {
        if (scheduledDrain === undefined && !subscriber.closed) {
          scheduledDrain = scheduler.schedule(runScheduledDrain);
        }
      }

      const input = new QueuedSource<T>(
        queue,
        () => {
          if (demand !== undefined) drain();
          else if (flushOn === undefined) {
            if (!draining) scheduleDrain();
            finishIfDone();
          } else finishIfDone();
        },
        finishIfDone,
      );

      // Added to the subscriber before subscribing, so that an unsubscribe during a synchronous
      // emission closes them at once.
      if (demand !== undefined) {
        const demandSubscriber = new SourceSubscriber<number | void>(
          (granted) => {
            if (granted === undefined) credits += 1;
            else if (typeof granted !== 'number') {
              return fail(
                new TypeError(
                  `boundedQueue: demand must emit a non-negative integer or nothing, got ${describe(granted)}`,
                ),
              );
            } else if (granted === Number.POSITIVE_INFINITY) credits = granted;
            else if (!Number.isInteger(granted) || granted < 0) {
              return fail(
                new RangeError(
                  `boundedQueue: demand must emit a non-negative integer or nothing, got ${describe(granted)}`,
                ),
              );
            } else credits += granted;
            drain();
          },
          fail,
          () => {},
        );
        subscriber.add(demandSubscriber);
        from(demand).subscribe(demandSubscriber);
      } else if (flushOn !== undefined) {
        const flushSubscriber = new SourceSubscriber<unknown>(
          () => {
            credits = queue.size;
            drain();
          },
          fail,
          () => {},
        );
        subscriber.add(flushSubscriber);
        from(flushOn).subscribe(flushSubscriber);
      }
      input.subscribe(source, subscriber);

      return () => {
        scheduledDrain?.unsubscribe();
        scheduledDrain = undefined;
        queue.clear();
      };
    });
}
