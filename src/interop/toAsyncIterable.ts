import { from, type ObservableInput } from 'rxjs';
import { OverflowQueue, validateQueueConfig } from '../core/OverflowQueue.js';
import { describe, type QueueConfig } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

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

/** The iteration's result once it is over. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Lifecycle of the bridge. */
const IDLE = 0; // no next() yet: not subscribed
const ACTIVE = 1; // subscribed (the source may have ended, values may still be queued)
const FINISHED = 2; // nothing more will be yielded
type Phase = typeof IDLE | typeof ACTIVE | typeof FINISHED;

/** How a `next()` call fails, told apart from an `IteratorResult` without a wrapper per value. */
class Failure {
  constructor(readonly error: unknown) {}
}

/** A `next()` call waiting for a value. */
interface Waiter<T> {
  resolve: (result: IteratorResult<T, undefined>) => void;
  reject: (reason: unknown) => void;
}

/**
 * The iterator returned by {@link toAsyncIterable}. Kept private: users see an
 * `AsyncIterableIterator`.
 */
class ObservableIterator<T> implements AsyncIterableIterator<T> {
  private phase: Phase = IDLE;
  private readonly queue: OverflowQueue<T>;
  private subscriber: OperatorSubscriber<T> | undefined;
  /** How the source ended, once it has: delivered after the values queued before it. */
  private sourceEnd: { error: unknown } | null | undefined = undefined;
  /** Set when the iteration ended by abort: every later `next()` rejects with it. */
  private abortReason: { reason: unknown } | undefined;
  /**
   * Pending `next()` calls, oldest first. They only exist while the queue is empty, so answering
   * them in order answers the calls in order.
   */
  private waiters: Waiter<T>[] = [];
  private waiterHead = 0;
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly source: ObservableInput<T>,
    private readonly config: ToAsyncIterableConfig<T>,
  ) {
    this.queue = new OverflowQueue<T>(config);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.phase === IDLE) {
      const signal = this.config.signal;
      if (signal?.aborted) {
        this.abortReason = { reason: reasonOf(signal) };
        this.phase = FINISHED;
      } else {
        this.subscribe();
      }
    }
    if (this.phase === FINISHED) {
      return this.abortReason === undefined
        ? Promise.resolve(DONE)
        : Promise.reject(this.abortReason.reason);
    }
    if (this.waiterHead === this.waiters.length) {
      if (!this.queue.isEmpty) {
        const outcome = this.takeValue();
        return outcome instanceof Failure
          ? Promise.reject(outcome.error)
          : Promise.resolve(outcome);
      }
      if (this.sourceEnd !== undefined) {
        const end = this.sourceEnd;
        this.finish();
        return end === null ? Promise.resolve(DONE) : Promise.reject(end.error);
      }
    }
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  return(value?: unknown): Promise<IteratorResult<T, undefined>> {
    this.stop();
    // The iterator protocol hands back what return() was given; for await ignores it.
    return Promise.resolve({ done: true, value: value as undefined });
  }

  /**
   * Ends the iteration like `return()`. The error is the consumer's own, so it is not thrown back:
   * rejecting here would only add a rejection for the caller to catch.
   */
  throw(_error?: unknown): Promise<IteratorResult<T, undefined>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  private subscribe(): void {
    this.phase = ACTIVE;
    const { signal } = this.config;
    signal?.addEventListener('abort', this.onAbort);
    const subscriber = new OperatorSubscriber<T>(
      (value) => this.onValue(value),
      (error) => this.onSourceEnd({ error }),
      () => this.onSourceEnd(null),
    );
    this.subscriber = subscriber;
    try {
      from(this.source).subscribe(subscriber);
    } catch (error) {
      // from() throws for something that is not an ObservableInput: the first next() says so.
      this.onSourceEnd({ error });
    }
  }

  private onValue(value: T): void {
    let outcome: string;
    try {
      outcome = this.queue.push(value);
    } catch (error) {
      // A throwing classifier (or coalesce key/merge) ends the source; the error follows what is queued.
      this.endSource({ error });
      return;
    }
    if (outcome === 'overflow') this.endSource({ error: this.queue.overflowError(value) });
    else if (this.waiterHead < this.waiters.length) this.answerWaiters();
  }

  private onSourceEnd(end: { error: unknown } | null): void {
    if (this.phase !== ACTIVE || this.sourceEnd !== undefined) return;
    this.sourceEnd = end;
    this.answerWaiters();
  }

  /** Stops the source early (overflow under 'error', a throwing classifier). */
  private endSource(end: { error: unknown }): void {
    this.subscriber?.unsubscribe();
    this.onSourceEnd(end);
  }

  /** Answers pending `next()` calls, oldest first, from the queue and then the source's end. */
  private answerWaiters(): void {
    while (this.waiterHead < this.waiters.length && this.phase === ACTIVE) {
      if (!this.queue.isEmpty) {
        const waiter = this.takeWaiter();
        const outcome = this.takeValue();
        if (outcome instanceof Failure) waiter.reject(outcome.error);
        else waiter.resolve(outcome);
      } else if (this.sourceEnd !== undefined) {
        const end = this.sourceEnd;
        const waiter = this.takeWaiter();
        // The end goes to the oldest call only; the later ones see the iteration over.
        for (const later of this.finish()) later.resolve(DONE);
        if (end === null) waiter.resolve(DONE);
        else waiter.reject(end.error);
        return;
      } else {
        return;
      }
    }
  }

  /**
   * Takes the next queued value for one `next()` call, reporting the gap before it (if any). The
   * value is taken first: `onOverflow` is user code, and a `next()` it makes gets the value after
   * this one, a `return()` or an abort it makes ends the iteration before this call is answered,
   * and a throw ends the iteration with this call rejecting.
   */
  private takeValue(): IteratorResult<T, undefined> | Failure {
    const value = this.queue.shift();
    if (!this.queue.hasNotice) return { done: false, value };
    const notice = this.queue.takeNotice();
    const { onOverflow } = this.config;
    if (notice === undefined || onOverflow === undefined) return { done: false, value };
    try {
      onOverflow(notice);
    } catch (error) {
      for (const later of this.finish()) later.resolve(DONE);
      return new Failure(error);
    }
    if (this.phase === FINISHED) {
      return this.abortReason === undefined ? DONE : new Failure(this.abortReason.reason);
    }
    return { done: false, value };
  }

  private takeWaiter(): Waiter<T> {
    const waiter = this.waiters[this.waiterHead] as Waiter<T>;
    this.waiters[this.waiterHead] = undefined as unknown as Waiter<T>;
    this.waiterHead++;
    if (this.waiterHead === this.waiters.length) {
      this.waiters.length = 0;
      this.waiterHead = 0;
    }
    return waiter;
  }

  private abort(): void {
    if (this.phase === FINISHED) return;
    const reason = reasonOf(this.config.signal as AbortSignal);
    this.abortReason = { reason };
    for (const waiter of this.finish()) waiter.reject(reason);
  }

  /** `return()` and `throw()`: stop at once, answering pending calls with the end. */
  private stop(): void {
    // An abort that came first, before anything subscribed (no listener yet), still wins.
    const signal = this.config.signal;
    if (this.phase === IDLE && signal?.aborted) this.abortReason = { reason: reasonOf(signal) };
    for (const waiter of this.finish()) waiter.resolve(DONE);
  }

  /**
   * Ends the iteration: unsubscribes, frees the queue, stops listening to the signal, and hands
   * back the `next()` calls still pending so the caller settles every one of them.
   */
  private finish(): Waiter<T>[] {
    const pending = this.waiters.slice(this.waiterHead);
    this.waiters = [];
    this.waiterHead = 0;
    if (this.phase === FINISHED) return pending;
    this.phase = FINISHED;
    this.config.signal?.removeEventListener('abort', this.onAbort);
    this.subscriber?.unsubscribe();
    this.subscriber = undefined;
    this.queue.clear();
    return pending;
  }
}

/** The reason an aborted signal carries (older runtimes leave it undefined). */
function reasonOf(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error('This operation was aborted');
  error.name = 'AbortError';
  return error;
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
  validateQueueConfig(options, 'toAsyncIterable');
  if (source === null || source === undefined) {
    throw new TypeError(
      `toAsyncIterable: source must be an ObservableInput, got ${describe(source)}`,
    );
  }
  const { signal } = options;
  if (
    signal !== undefined &&
    (signal === null ||
      typeof signal !== 'object' ||
      typeof signal.addEventListener !== 'function' ||
      typeof signal.aborted !== 'boolean')
  ) {
    throw new TypeError(`toAsyncIterable: signal must be an AbortSignal, got ${describe(signal)}`);
  }
  return new ObservableIterator(source, options);
}
