import { from, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { OverflowQueue, validateQueueConfig } from '../core/OverflowQueue.js';
import { MAX_PRIORITY, PriorityOverflowQueue } from '../core/PriorityOverflowQueue.js';
import { describe, type QueueConfig } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import { QueuedSource } from '../internal/QueuedSource.js';

/**
 * The options of {@link drainWith}: the {@link QueueConfig} of the values waiting for a free
 * handler, plus how many handlers run at once and which waiting value goes first.
 */
export interface DrainWithConfig<T> extends QueueConfig<T> {
  /**
   * How many handler calls may be in flight at once (each until its inner observable completes):
   * a positive integer, or `Infinity` (no waiting, as `mergeMap`). Default: 1.
   */
  concurrency?: number | undefined;
  /**
   * The priority class of a value: an integer from 0 to 31 (see `MAX_PRIORITY`); a waiting value
   * of a higher class is handled first, FIFO within a class, and under the drop policies an
   * overflow sacrifices the lowest class first. Any other answer, or a throw, errors the stream.
   * Default: none (every value waits in arrival order).
   */
  priority?: ((value: T) => number) | undefined;
}

/**
 * A bounded `mergeMap`: calls `handler` for each value with at most `concurrency` calls in
 * flight, and emits what the handlers' inner observables emit.
 *
 * Values that arrive while every slot is busy wait in a queue of `capacity` with the `overflow`
 * policy, so memory stays bounded however fast the source is. With `priority`, the highest
 * waiting class is handled first (FIFO within a class) and an overflow drops from the lowest
 * class first; terminal values (by `classify`) are never dropped. Each gap is reported to
 * `onOverflow` just before the next value is handed to the handler.
 *
 * The output completes when the source has completed and every accepted value was handled. A
 * source error, a throwing `classify` or `priority`, and the `'error'` policy's overflow stop
 * the source and error the output once the values accepted before them were handled. A throwing
 * handler, an inner error or a throwing `onOverflow` error the output at once, cancelling the
 * handlers in flight (recover inside the handler with `catchError`, as with `mergeMap`).
 * Unsubscribing cancels the handlers in flight and empties the queue.
 *
 * ```text
 * concurrency 1, capacity 2, overflow 'drop-oldest'; each handler call: ---v| (emits its value)
 * source: -abcd---|
 * result: ----a---c---d|      onOverflow as c starts: { dropped: 1, first: b, last: b }
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
 *       onOverflow: (gap) => log.warn(`skipped ${gap.dropped} rows`),
 *     }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param handler - maps a value and its call index (0 for the first call, then 1, 2...) to the
 *   work to do; a throw errors the output.
 * @param options - the waiting queue, `concurrency` and `priority`.
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function drainWith<T, R>(
  handler: (value: T, index: number) => ObservableInput<R>,
  options: DrainWithConfig<T>,
): OperatorFunction<T, R> {
  if (typeof handler !== 'function') {
    throw new TypeError(`drainWith: handler must be a function, got ${describe(handler)}`);
  }
  validateQueueConfig(options, 'drainWith');
  const { concurrency = 1, priority, onOverflow } = options;
  if (
    typeof concurrency !== 'number' ||
    !(
      (Number.isInteger(concurrency) && concurrency >= 1) ||
      concurrency === Number.POSITIVE_INFINITY
    )
  ) {
    throw new RangeError(
      `drainWith: concurrency must be a positive integer or Infinity, got ${describe(concurrency)}`,
    );
  }
  if (priority !== undefined && typeof priority !== 'function') {
    throw new TypeError(
      `drainWith: priority must be a function returning an integer from 0 to ${MAX_PRIORITY}, got ${describe(priority)}`,
    );
  }

  return (source) =>
    new Observable<R>((subscriber) => {
      const queue =
        priority === undefined
          ? new OverflowQueue<T>(options)
          : new PriorityOverflowQueue<T>(options);
      let active = 0;
      let calls = 0;
      let draining = false;

      /** Reports the pending gap, if any. Returns false when onOverflow threw (the output erred). */
      const reportGap = (): boolean => {
        if (!queue.hasNotice) return true;
        const notice = queue.takeNotice();
        if (notice !== undefined && onOverflow !== undefined) {
          try {
            onOverflow(notice);
          } catch (error) {
            subscriber.error(error);
            return false;
          }
        }
        return true;
      };

      const finishIfDone = (): void => {
        if (!input.done || active > 0 || !queue.isEmpty || draining || subscriber.closed) return;
        if (!reportGap()) return;
        if (input.endError !== undefined) subscriber.error(input.endError.error);
        else subscriber.complete();
      };

      const onInnerComplete = (): void => {
        active--;
        drain();
      };

      const startHandler = (value: T): void => {
        let work: Observable<R>;
        try {
          work = from(handler(value, calls++));
        } catch (error) {
          subscriber.error(error);
          return;
        }
        active++;
        const inner = new OperatorSubscriber<R>(
          (result) => subscriber.next(result),
          (error) => subscriber.error(error),
          onInnerComplete,
        );
        // Added first, so an unsubscribe during a synchronous inner emission stops it at once.
        subscriber.add(inner);
        work.subscribe(inner);
      };

      /**
       * Hands waiting values to free slots. One loop at a time: a handler that completes
       * synchronously frees its slot inside the loop, which then goes on, instead of recursing.
       */
      function drain(): void {
        if (draining) return;
        draining = true;
        try {
          while (active < concurrency && !queue.isEmpty && !subscriber.closed) {
            // Taken before the gap is reported: onOverflow is user code and may unsubscribe.
            const value = queue.shift();
            if (!reportGap() || subscriber.closed) return;
            startHandler(value);
          }
        } finally {
          draining = false;
        }
        finishIfDone();
      }

      // A throwing classify or priority (or a priority out of range) ends the source.
      const input = new QueuedSource<T>(queue, drain, finishIfDone);
      input.subscribe(source, subscriber);

      return () => {
        queue.clear();
      };
    });
}
