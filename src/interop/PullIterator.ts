import { from, type ObservableInput } from 'rxjs';
import { OverflowQueue } from '../core/OverflowQueue.js';
import type { OverflowNotice } from '../core/types.js';
import type { DrainEngine, DrainSink } from '../internal/DrainEngine.js';
import { fedEngine } from '../internal/drainSource.js';
import type { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import type { ToAsyncIterableConfig } from './toAsyncIterable.js';

/** The iteration's result once it is over. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Lifecycle of the bridge. */
const IDLE = 0; // no next() yet: not subscribed
const ACTIVE = 1; // subscribed (the source may have ended, values may still be queued)
const FINISHED = 2; // nothing more will be yielded
type Phase = typeof IDLE | typeof ACTIVE | typeof FINISHED;

/**
 * The `next()` call running right now, while it asks the engine for a value: answered on the
 * spot when one is queued, so that it needs no waiting promise.
 */
const NO_CALL = 0; // no next() is running
const ASKING = 1; // a next() is running and not answered yet
const ANSWERED_VALUE = 2; // ... answered with `answer` as the value
const ANSWERED_DONE = 3; // ... answered with the end
const ANSWERED_ERROR = 4; // ... answered with `answer` as the rejection
type CallState =
  | typeof NO_CALL
  | typeof ASKING
  | typeof ANSWERED_VALUE
  | typeof ANSWERED_DONE
  | typeof ANSWERED_ERROR;

/** How the source ended, kept until a `next()` call takes it. */
type SourceEnd = { error: unknown } | null;

/**
 * The iterator of `toAsyncIterable`: a sink of the drain engine. Each `next()` grants the engine
 * one credit; the engine takes a value off the queue, reports the gap before it, and delivers it
 * to the oldest unanswered call. A call that finds a value queued is answered while it asks, so
 * only a call that has to wait costs a pending promise.
 */
export class PullIterator<T> implements AsyncIterableIterator<T>, DrainSink<T, OverflowNotice<T>> {
  private phase: Phase = IDLE;
  private readonly engine: DrainEngine<T, OverflowNotice<T>>;
  private readonly sourceSubscriber: OperatorSubscriber<T>;
  private call: CallState = NO_CALL;
  /** The value or error the running call was answered with. */
  private answer: unknown = undefined;
  /** How the source ended, once the engine said so and no call was waiting to take it. */
  private keptEnd: SourceEnd | undefined = undefined;
  /** Set when the iteration ended by abort: every later `next()` rejects with it. */
  private abortReason: { reason: unknown } | undefined = undefined;
  /**
   * Waiting `next()` calls, oldest first, as their promises' resolve and reject functions (two
   * arrays, so that a waiting call costs no object of its own). They only exist while the queue
   * is empty, so answering them in order answers the calls in order.
   */
  private resolvers: Array<(result: IteratorResult<T, undefined>) => void> = [];
  private rejecters: Array<(reason: unknown) => void> = [];
  private head = 0;
  private readonly enqueue = (
    resolve: (result: IteratorResult<T, undefined>) => void,
    reject: (reason: unknown) => void,
  ): void => {
    this.resolvers.push(resolve);
    this.rejecters.push(reject);
  };
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly source: ObservableInput<T>,
    private readonly config: ToAsyncIterableConfig<T>,
  ) {
    const { engine, feed } = fedEngine<T, OverflowNotice<T>>(new OverflowQueue<T>(config), this, {
      schedule: 'now',
      credits: 0,
    });
    this.engine = engine;
    this.sourceSubscriber = feed;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.phase === IDLE) this.start();
    if (this.phase === FINISHED) {
      return this.abortReason === undefined
        ? Promise.resolve(DONE)
        : Promise.reject(this.abortReason.reason);
    }
    if (this.call !== NO_CALL || this.head < this.resolvers.length) {
      // Calls older than this one are unanswered (this one comes from inside a gap report, or
      // the loop calls without awaiting): it waits behind them.
      const waiting = new Promise(this.enqueue);
      this.engine.grant(1);
      return waiting;
    }
    const end = this.keptEnd;
    if (end !== undefined) {
      this.finish();
      return end === null ? Promise.resolve(DONE) : Promise.reject(end.error);
    }
    this.call = ASKING;
    this.engine.grant(1);
    // Read back as a CallState: the engine changed it during grant().
    const state = this.call as CallState;
    const answer = this.answer;
    this.call = NO_CALL;
    this.answer = undefined;
    if (state === ANSWERED_VALUE) return Promise.resolve({ done: false, value: answer as T });
    if (state === ANSWERED_DONE) return Promise.resolve(DONE);
    if (state === ANSWERED_ERROR) return Promise.reject(answer);
    // Nothing queued: the call waits, its credit already granted. Nothing can have queued behind
    // it, since a call made meanwhile would have come from a callback of a step that answers it.
    return new Promise(this.enqueue);
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

  // The sink side, called by the engine.

  get closed(): boolean {
    return this.phase === FINISHED;
  }

  deliver(value: T): void {
    if (this.call === ASKING) {
      this.call = ANSWERED_VALUE;
      this.answer = value;
      return;
    }
    const resolve = this.resolvers[this.head] as (result: IteratorResult<T, undefined>) => void;
    this.dropOldestWaiter();
    resolve({ done: false, value });
  }

  reportGap(notice: OverflowNotice<T>): void {
    this.config.onOverflow?.(notice);
  }

  complete(): void {
    this.end(null);
  }

  error(error: unknown): void {
    this.end({ error });
  }

  /** The end goes to the oldest unanswered call, the later ones see done; else it is kept. */
  private end(end: SourceEnd): void {
    if (this.call !== ASKING && this.head === this.resolvers.length) {
      this.keptEnd = end;
      return;
    }
    if (this.call === ASKING) {
      this.call = end === null ? ANSWERED_DONE : ANSWERED_ERROR;
      this.answer = end?.error;
    } else {
      const resolve = this.resolvers[this.head] as (result: IteratorResult<T, undefined>) => void;
      const reject = this.rejecters[this.head] as (reason: unknown) => void;
      this.dropOldestWaiter();
      if (end === null) resolve(DONE);
      else reject(end.error);
    }
    this.finishAll(false, undefined);
  }

  private start(): void {
    const { signal } = this.config;
    if (signal?.aborted) {
      this.abortReason = { reason: reasonOf(signal) };
      this.phase = FINISHED;
      return;
    }
    this.phase = ACTIVE;
    signal?.addEventListener('abort', this.onAbort);
    try {
      from(this.source).subscribe(this.sourceSubscriber);
    } catch (error) {
      // from() throws for something that is not an ObservableInput: the first next() says so.
      this.engine.error(error);
    }
  }

  private abort(): void {
    if (this.phase === FINISHED) return;
    const reason = reasonOf(this.config.signal as AbortSignal);
    this.abortReason = { reason };
    this.finishAll(true, reason);
  }

  /** `return()` and `throw()`: stop at once, answering pending calls with done. */
  private stop(): void {
    // An abort that came first, before anything subscribed (no listener yet), still wins.
    const signal = this.config.signal;
    if (this.phase === IDLE && signal?.aborted) this.abortReason = { reason: reasonOf(signal) };
    this.finishAll(false, undefined);
  }

  /**
   * Ends the iteration and answers every call still unanswered: with a rejection by `reason` when
   * `rejected`, else with done.
   */
  private finishAll(rejected: boolean, reason: unknown): void {
    if (this.call === ASKING) {
      this.call = rejected ? ANSWERED_ERROR : ANSWERED_DONE;
      this.answer = reason;
    }
    const { resolvers, rejecters, head } = this;
    this.resolvers = [];
    this.rejecters = [];
    this.head = 0;
    this.finish();
    for (let index = head; index < resolvers.length; index++) {
      if (rejected) (rejecters[index] as (reason: unknown) => void)(reason);
      else (resolvers[index] as (result: IteratorResult<T, undefined>) => void)(DONE);
    }
  }

  /** Unsubscribes, frees the queue and stops listening to the signal. */
  private finish(): void {
    if (this.phase === FINISHED) return;
    this.phase = FINISHED;
    this.keptEnd = undefined;
    this.config.signal?.removeEventListener('abort', this.onAbort);
    this.sourceSubscriber.unsubscribe();
    this.engine.dispose();
  }

  private dropOldestWaiter(): void {
    const head = this.head;
    if (head + 1 === this.resolvers.length) {
      this.resolvers.length = 0;
      this.rejecters.length = 0;
      this.head = 0;
    } else {
      this.resolvers[head] = undefined as never;
      this.rejecters[head] = undefined as never;
      this.head = head + 1;
    }
  }
}

/** The reason an aborted signal carries (older runtimes leave it undefined). */
function reasonOf(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error('This operation was aborted');
  error.name = 'AbortError';
  return error;
}
