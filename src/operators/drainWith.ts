import {
  from,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  type Subscriber,
} from 'rxjs';
import { checkFunction, checkPositiveInteger, validateQueueConfig } from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import { PriorityOverflowQueue } from '../core/PriorityOverflowQueue.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import type { DrainEngine, DrainSink } from '../internal/DrainEngine.js';
import { drainSource } from '../internal/drainSource.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

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
  checkFunction(handler, OWNER, 'handler', true);
  validateQueueConfig(options, OWNER);
  const { concurrency = 1, priority } = options;
  checkPositiveInteger(concurrency, OWNER, 'concurrency', true);
  checkFunction(priority, OWNER, 'priority');

  return (source) =>
    new Observable<R>((subscriber) => {
      const queue =
        priority === undefined
          ? new OverflowQueue<T>(options)
          : new PriorityOverflowQueue<T>(options);
      const sink = new HandlerSink<T, R>(subscriber, handler, options.onOverflow);
      drainSource(
        source,
        subscriber,
        queue,
        sink,
        { schedule: 'now', credits: concurrency, settled: () => sink.inFlight === 0 },
        (engine) => sink.attach(engine),
      );
    });
}

const OWNER = 'drainWith';

/**
 * The consumer side of {@link drainWith}: delivering an item starts the handler on it, each
 * handler holding one of the engine's credits until its inner observable completes. The engine
 * thus is the pool: its credits are the free slots, and it ends the stream only once no handler
 * is in flight.
 */
class HandlerSink<T, R> implements DrainSink<T, OverflowNotice<T>> {
  /** Handler calls whose inner observable has not completed yet. */
  inFlight = 0;
  private calls = 0;
  private engine!: DrainEngine<T, OverflowNotice<T>>;
  // One set of callbacks shared by every inner subscription: a handler call allocates only its
  // own subscriber.
  private readonly onResult = (result: R): void => this.subscriber.next(result);
  private readonly onInnerError = (error: unknown): void => this.engine.fail(error);
  private readonly onInnerComplete = (): void => {
    this.inFlight--;
    this.engine.grant(1);
  };

  constructor(
    private readonly subscriber: Subscriber<R>,
    private readonly handler: (value: T, index: number) => ObservableInput<R>,
    private readonly onGap: ((notice: OverflowNotice<T>) => void) | undefined,
  ) {}

  attach(engine: DrainEngine<T, OverflowNotice<T>>): void {
    this.engine = engine;
  }

  get closed(): boolean {
    return this.subscriber.closed;
  }

  /**
   * Starts the handler. What the handler throws, or what `from` refuses of its result, is thrown
   * on to the engine, which errors the output at once.
   */
  deliver(value: T): void {
    const work = from(this.handler(value, this.calls++));
    const inner = new OperatorSubscriber<R>(this.onResult, this.onInnerError, this.onInnerComplete);
    this.inFlight++;
    // Joined first, so that an unsubscribe during a synchronous inner emission stops it at once.
    this.subscriber.add(inner);
    work.subscribe(inner);
  }

  reportGap(notice: OverflowNotice<T>): void {
    this.onGap?.(notice);
  }

  complete(): void {
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.subscriber.error(error);
  }
}
