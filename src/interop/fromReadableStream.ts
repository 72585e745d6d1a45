import { Observable, type ObservableInput } from 'rxjs';
import { checkDeliveryOptions, checkOptions, typeError } from '../core/checks.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { creditsOf } from '../internal/queueTriggers.js';

/** The options of {@link fromReadableStream}. */
export interface FromReadableStreamConfig {
  /**
   * Credits: each emission allows `n` more reads (`void` = 1, `Infinity` = read freely); credits
   * accumulate. Default: none, and the stream is read one chunk at a time, the next read starting
   * once the subscriber has returned from the previous value.
   */
  demand?: ObservableInput<number | void> | undefined;
  /** Reads allowed before `demand` first emits (only with `demand`). Default: 0. */
  initialDemand?: number | undefined;
}

/**
 * A web `ReadableStream` as an Observable that reads only as its subscriber allows: one chunk at a
 * time (never more than one read in flight), and with `demand` only while credits remain, so a
 * slow consumer leaves the data in the stream and its source (a socket, a file) feels the
 * backpressure. The stream is locked at subscription; it completes when the stream is done and
 * errors with the stream's error. Unsubscribing cancels the stream (its source learns nobody
 * reads any more) and releases the lock.
 *
 * ```text
 * chunks waiting in the stream: a b c d
 * demand:  -1-----2-----
 * result:  -a-----(bc)--
 * ```
 *
 * @example
 * ```ts
 * const response = await fetch('/events');
 * const ready$ = new Subject<number>();
 * fromReadableStream(response.body!, { demand: ready$, initialDemand: 1 })
 *   .subscribe(async (chunk) => { await render(chunk); ready$.next(1); });
 * ```
 *
 * @throws TypeError or RangeError at once for a bad stream or bad options.
 */
export function fromReadableStream<T>(
  stream: ReadableStream<T>,
  options: FromReadableStreamConfig = {},
): Observable<T> {
  if (stream === null || typeof stream !== 'object' || typeof stream.getReader !== 'function') {
    throw typeError(OWNER, 'stream', 'a ReadableStream', stream);
  }
  checkOptions(options, OWNER);
  const { demand } = options;
  const initialDemand = checkDeliveryOptions(options, OWNER);
  return new Observable<T>((subscriber) => {
    const reader = stream.getReader();
    let credits = demand === undefined ? Number.POSITIVE_INFINITY : initialDemand;
    let reading = false;
    let finished = false;
    const read = (): void => {
      if (reading || finished || credits <= 0 || subscriber.closed) return;
      reading = true;
      credits--;
      reader.read().then(
        (result) => {
          reading = false;
          if (subscriber.closed) return;
          if (result.done) {
            finished = true;
            subscriber.complete();
            return;
          }
          subscriber.next(result.value);
          read();
        },
        (error: unknown) => {
          finished = true;
          subscriber.error(error);
        },
      );
    };
    if (demand !== undefined) {
      const grants = new OperatorSubscriber<number | void>(
        (granted) => {
          credits += creditsOf(granted, OWNER);
          read();
        },
        (error) => subscriber.error(error),
        () => {},
      );
      subscribeWithin(subscriber, demand, grants);
    }
    read();
    return () => {
      if (!finished) reader.cancel().catch(() => {});
      reader.releaseLock();
    };
  });
}

const OWNER = 'fromReadableStream';
