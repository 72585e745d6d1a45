import { from, type ObservableInput } from 'rxjs';
import { checkNonNegative, typeError, validateQueueConfig } from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import type { DrainEngine, DrainSink } from '../internal/DrainEngine.js';
import { fedEngine } from '../internal/drainSource.js';
import type { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

/**
 * The options of {@link toReadableStream}: a {@link QueueConfig} for the queue between the source
 * and the stream's reader, plus the stream's own buffer.
 */
export interface ToReadableStreamConfig<T> extends QueueConfig<T> {
  /**
   * The stream's `highWaterMark` (counted in values): how many values the stream itself buffers
   * ahead of its reader, beyond the queue. Default: 0, so every value not yet read waits in the
   * queue, where `overflow` applies, and the source is subscribed at the first read.
   */
  highWaterMark?: number | undefined;
}

/**
 * Turns an Observable into a web `ReadableStream` (browsers and Node 20+, no polyfill) that its
 * reader drives: the stream's `desiredSize` is the demand. The reader's pace decides how many
 * values leave the bounded queue; while it reads slower than the source emits, `overflow`
 * decides what is lost (terminal values by `classify` never are), and each gap is reported to
 * `onOverflow` just before the next value read.
 *
 * The source is subscribed at the stream's first pull (the first read, with the default
 * `highWaterMark` of 0). `complete` closes the stream and an error errors it, after the values
 * queued before them; `cancel()` (or a `pipeTo` whose destination fails) unsubscribes at once
 * and frees the queue.
 *
 * ```text
 * capacity 2, overflow 'drop-oldest'; the reader reads once at frame 1, then at frame 9:
 * source: -a-b-c-d-|
 * reads:  -a-------(cd, done)       onOverflow before c: { dropped: 1, first: b, last: b }
 * ```
 *
 * @example
 * ```ts
 * const stream = toReadableStream(deltas$, { capacity: 256, overflow: 'drop-oldest' });
 * for await (const delta of stream) await render(delta);
 * ```
 *
 * @throws RangeError or TypeError at once for bad options (naming the option and the value).
 */
export function toReadableStream<T>(
  source: ObservableInput<T>,
  options: ToReadableStreamConfig<T>,
): ReadableStream<T> {
  validateQueueConfig(options, OWNER);
  if (source === null || source === undefined) {
    throw typeError(OWNER, 'source', 'an ObservableInput', source);
  }
  const { highWaterMark = 0 } = options;
  checkNonNegative(highWaterMark, OWNER, 'highWaterMark');
  let bridge: StreamBridge<T> | undefined;
  return new ReadableStream<T>(
    {
      pull(controller) {
        bridge ??= new StreamBridge(source, options, controller);
        bridge.pull();
      },
      cancel() {
        bridge?.cancel();
      },
    },
    { highWaterMark },
  );
}

const OWNER = 'toReadableStream';

/** One stream's engine: the queue, the stream's demand as credits, the controller as sink. */
class StreamBridge<T> implements DrainSink<T, OverflowNotice<T>> {
  closed = false;
  private readonly engine: DrainEngine<T, OverflowNotice<T>>;
  private readonly subscriber: OperatorSubscriber<T>;

  private subscribed = false;

  constructor(
    private readonly source: ObservableInput<T>,
    private readonly options: ToReadableStreamConfig<T>,
    private readonly controller: ReadableStreamDefaultController<T>,
  ) {
    const { engine, feed } = fedEngine<T, OverflowNotice<T>>(new OverflowQueue<T>(options), this, {
      schedule: 'now',
      credits: 0,
    });
    this.engine = engine;
    this.subscriber = feed;
  }

  /**
   * The stream asks for more: it does so while `desiredSize` is above 0 or a read is waiting, so
   * the gate is set to the room it has, and at least one value. The first pull subscribes, once
   * the gate is set: a synchronous source meets the reader's demand, not a closed gate.
   */
  pull(): void {
    this.engine.setCredits(Math.max(1, this.controller.desiredSize ?? 0));
    if (this.subscribed) return;
    this.subscribed = true;
    try {
      from(this.source).subscribe(this.subscriber);
    } catch (error) {
      this.engine.error(error);
    }
  }

  cancel(): void {
    this.closed = true;
    this.subscriber.unsubscribe();
    this.engine.dispose();
  }

  deliver(value: T): void {
    this.controller.enqueue(value);
  }

  reportGap(notice: OverflowNotice<T>): void {
    this.options.onOverflow?.(notice);
  }

  complete(): void {
    this.closed = true;
    this.controller.close();
  }

  error(error: unknown): void {
    this.closed = true;
    this.subscriber.unsubscribe();
    this.controller.error(error);
  }
}
