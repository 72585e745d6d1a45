import { type MonoTypeOperatorFunction, Observable } from 'rxjs';
import { checkBoolean, typeError, validateQueueConfig } from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import type { DrainEngine, DrainSink } from '../internal/DrainEngine.js';
import { drainSource } from '../internal/drainSource.js';

/** The options of {@link toWritableStream}: the queue in front of the writer, and its ending. */
export interface ToWritableStreamConfig<T> extends QueueConfig<T> {
  /** Leave the stream open when the source completes. Default: `false` (it is closed). */
  preventClose?: boolean | undefined;
  /**
   * Leave the stream as it is when the source errors or the subscriber unsubscribes. Default:
   * `false` (it is aborted with the error, or with nothing on unsubscribe).
   */
  preventAbort?: boolean | undefined;
}

/**
 * Writes each value of the source to a web `WritableStream`, at the pace the stream takes them:
 * values are handed to the writer while its `desiredSize` is above 0, and wait for
 * `writer.ready` otherwise. While they wait, they are held in a bounded queue whose `overflow`
 * policy decides what is lost (terminal values by `classify` never are); each gap is reported to
 * `onOverflow` before the next value written.
 *
 * The result emits each value as it is handed to the writer and completes once the stream is
 * closed (after every value queued before the source completed). A source error aborts the
 * stream with it and errors the result after the values queued before it; a failing write
 * errors the result at once. Unsubscribing aborts the stream (unless `preventAbort`).
 *
 * ```text
 * capacity 1, overflow 'drop-oldest', a stream that takes one value per 4 frames:
 * source:  -abc-d---|
 * written: -a---c---d(|)      onOverflow before c: { dropped: 1, first: b, last: b }
 * ```
 *
 * @example
 * ```ts
 * const file = new WritableStream<string>({ write: (line) => save(line) });
 * lines$.pipe(toWritableStream(file, { capacity: 1000, overflow: 'error' })).subscribe();
 * ```
 *
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function toWritableStream<T>(
  stream: WritableStream<T>,
  options: ToWritableStreamConfig<T>,
): MonoTypeOperatorFunction<T> {
  if (stream === null || typeof stream !== 'object' || typeof stream.getWriter !== 'function') {
    throw typeError(OWNER, 'stream', 'a WritableStream', stream);
  }
  validateQueueConfig(options, OWNER);
  const { preventClose = false, preventAbort = false } = options;
  checkBoolean(preventClose, OWNER, 'preventClose');
  checkBoolean(preventAbort, OWNER, 'preventAbort');
  return (source) =>
    new Observable<T>((subscriber) => {
      const writer = stream.getWriter();
      let engine!: DrainEngine<T, OverflowNotice<T>>;
      let waiting = false;
      let ended = false;
      const fail = (error: unknown): void => engine.fail(error);
      /** The gate follows the writer's room; with none, the next grant waits for `ready`. */
      const follow = (): void => {
        const room = writer.desiredSize ?? 0;
        engine.setCredits(Math.max(0, room));
        if (room > 0 || waiting || ended) return;
        waiting = true;
        writer.ready.then(() => {
          waiting = false;
          if (!ended) follow();
        }, fail);
      };
      const sink: DrainSink<T, OverflowNotice<T>> = {
        get closed() {
          return subscriber.closed;
        },
        deliver(value) {
          writer.write(value).catch(fail);
          subscriber.next(value);
          follow();
        },
        reportGap(notice) {
          options.onOverflow?.(notice);
        },
        complete() {
          ended = true;
          if (preventClose) {
            writer.releaseLock();
            subscriber.complete();
            return;
          }
          writer.close().then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
        error(error) {
          ended = true;
          if (!preventAbort) writer.abort(error).catch(() => {});
          subscriber.error(error);
        },
      };
      subscriber.add(() => {
        if (ended) return;
        ended = true;
        if (!preventAbort) writer.abort().catch(() => {});
        else writer.releaseLock();
      });
      // The gate is set before the source is subscribed: a synchronous source meets the
      // writer's room, not a closed gate.
      drainSource(
        source,
        subscriber,
        new OverflowQueue<T>(options),
        sink,
        { schedule: 'now', credits: 0 },
        (created) => {
          engine = created;
          follow();
        },
      );
    });
}

const OWNER = 'toWritableStream';
