import type { ObservableInput } from 'rxjs';
import { checkAbortSignal, typeError, validateQueueConfig } from '../core/checks.js';
import type { QueueConfig } from '../core/types.js';
import { PullIterator } from './PullIterator.js';

/**
 * The options of {@link toAsyncIterable}: a {@link QueueConfig} for the queue between the source
 * and the loop, plus an optional abort signal.
 */
export interface ToAsyncIterableConfig<T> extends QueueConfig<T> {
  /**
   * Ends the iteration when aborted: every pending and later `next()` rejects with
   * `signal.reason`, the queued values are discarded and the source is unsubscribed. An already
   * aborted signal makes the first `next()` reject without subscribing. Default: none.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Turns an Observable into an async iterator that a `for await` loop pulls at its own pace, with
 * a bounded queue between the two.
 *
 * The source is subscribed on the first `next()`. Values wait in an `OverflowQueue`; when the
 * loop falls behind, `overflow` decides what is lost (terminal values by `classify` never are),
 * and each gap is reported to `onOverflow` just before the next value the loop receives. A
 * source error is thrown by `next()` after the values queued before it; `complete` ends the loop
 * after them. `break` (`return()`) and `throw()` unsubscribe at once, discard the queued values
 * and settle every pending `next()` with `done` (`throw()` resolves too: the error is the
 * consumer's own); an abort of `signal` rejects pending and later `next()` calls with
 * `signal.reason` and unsubscribes. Concurrent `next()` calls are answered in call order. No
 * promise is left pending once the iteration is over.
 *
 * ```text
 * capacity 2, overflow 'drop-oldest'; the loop takes a, then is busy until frame 10:
 * source: -a-b-c-d-|
 * loop:   -a--------(cd done)      onOverflow before c: { dropped: 1, first: b, last: b }
 * ```
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * for await (const event of toAsyncIterable(events$, {
 *   capacity: 256,
 *   overflow: 'drop-progress',
 *   classify: (e) => (e.kind === 'model.delta' ? 'progress' : 'normal'),
 *   onOverflow: (gap) => console.warn(`skipped ${gap.dropped} deltas`),
 *   signal: controller.signal,
 * })) {
 *   await render(event);
 * }
 * ```
 *
 * @param source - any `ObservableInput`.
 * @param options - the queue between the source and the loop, and an optional abort signal.
 * @throws RangeError or TypeError at once for bad options (naming the option and the value).
 */
export function toAsyncIterable<T>(
  source: ObservableInput<T>,
  options: ToAsyncIterableConfig<T>,
): AsyncIterableIterator<T> {
  validateQueueConfig(options, OWNER);
  // Only a missing source is refused here: anything else that from() refuses is reported by the
  // first next(), as the source's error.
  if (source === null || source === undefined) {
    throw typeError(OWNER, 'source', 'an ObservableInput', source);
  }
  checkAbortSignal(options.signal, OWNER);
  return new PullIterator(source, options);
}

const OWNER = 'toAsyncIterable';
