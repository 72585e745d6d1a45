import {
  asyncScheduler,
  BehaviorSubject,
  filter as filterOperator,
  from,
  interval,
  map,
  Observable,
  type SchedulerLike,
  Subject,
  type Subscriber,
  takeUntil,
} from 'rxjs';
import {
  checkAbortSignal,
  checkFunction,
  checkObservableInput,
  checkOptions,
  checkScheduler,
  policyNameOf,
  rangeError,
  validateQueueConfig,
} from '../core/checks.js';
import { combineNotices } from '../core/notices.js';
import {
  type Classifier,
  coalesce,
  describe,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  type QueueConfig,
  QueueOverflowError,
} from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import { toAsyncIterable } from '../interop/toAsyncIterable.js';
import { boundedQueue } from '../operators/boundedQueue.js';
import { classifyAgentEvent, DEFAULT_LANE } from './agentEvents.js';
import { BackpressureError, BusClosedError, InvalidEventError } from './errors.js';
import { FrameRing } from './FrameRing.js';
import { type CompiledFilter, compileFilter, matchesFilter } from './filter.js';
import { createFrame } from './frame.js';
import { KindTally } from './KindTally.js';
import { SubscriberBucket } from './SubscriberBucket.js';
import type {
  AgentEvent,
  BusMetrics,
  EventArchive,
  EventBusConfig,
  EventFilter,
  EventFrame,
  SelectOptions,
  SubscriberMetrics,
  SubscriberQueue,
} from './types.js';
import { checkEvent, isWellFormedEvent } from './validators.js';

/** The history kept when the `history` option is omitted. */
export const DEFAULT_HISTORY = 10_000;

/**
 * The largest `history` a bus accepts: 2 ** 24 (16,777,216) frames. History is allocated as
 * frames arrive, so the limit is not what a bus costs up front; it bounds what a full history
 * holds (at least 128 MB of slots alone, plus the frames). Keep more in an archive.
 */
export const MAX_HISTORY = 2 ** 24;

/** The queue of `iterate` when none is given. */
const DEFAULT_ITERATE_QUEUE = Object.freeze({ capacity: 1024, overflow: 'drop-oldest' as const });

/** A subscriber queue, checked and resolved against the bus's defaults. */
interface QueuePlan<P> {
  backpressure: boolean;
  policy: string;
  classify: Classifier<EventFrame<P>>;
  capacity: number;
  /** Non-terminal frames have room only below this depth of non-terminal frames. */
  nonTerminalCapacity: number;
  /** What is handed to `boundedQueue` (a 'backpressure' queue never overflows in there). */
  config: SubscriberQueue<P> & { overflow: OverflowPolicy<EventFrame<P>> };
  onOverflow: ((notice: OverflowNotice<EventFrame<P>>) => void) | undefined;
}

/** One `select` (or `replay`) subscription, as the bus tracks it. */
class SubscriberState<P> implements CompiledFilter {
  /** The queue's input while it runs (absent without a queue). */
  feed: Subscriber<EventFrame<P>> | undefined;
  /** Live frames with `seq <= afterSeq` are not for this subscriber (replayed or too old). */
  afterSeq = 0;
  /** Live frames held while replaying, so that replay and live meet with no gap or duplicate. */
  buffer: Array<EventFrame<P>> | undefined;
  bufferHead = 0;
  replaying = false;
  ended = false;
  closeAfterReplay = false;
  /** The gap to report on the next delivered frame. */
  pendingNotice: OverflowNotice<EventFrame<P>> | undefined;
  // Mirror of the queue's depth: a push into a full queue (non-terminal) never changes the
  // depth, whatever the policy does, so counting admissions and deliveries is exact.
  depth = 0;
  nonTerminalDepth = 0;
  highWater = 0;
  overflows = 0;
  delivered = 0;
  reportedDropped = 0;
  reportedMerged = 0;
  historyDropped = 0;
  /** The seq range of the frames `coalesce` folded since the last notice (0 = none). */
  mergedFromSeq = 0;
  mergedToSeq = 0;
  lastMatchedSeq = 0;
  lastDeliveredSeq = 0;
  bucket: SubscriberBucket<SubscriberState<P>> | undefined;
  /** The index the bucket is in (absent for the wildcard bucket). */
  bucketMap: Map<string, SubscriberBucket<SubscriberState<P>>> | undefined;
  // What live delivery checks: `filter` minus the field the subscriber's bucket already
  // guarantees (a run-indexed subscriber only ever sees frames of its run). Held here rather than
  // in a filter object of its own, so that a frame reaches one object fewer per subscriber: with
  // thousands of subscribers, each such object is a likely cache miss.
  readonly source: EventFilter;
  runId: string | undefined;
  agentId: string | undefined;
  laneId: string | undefined;
  readonly kinds: ReadonlySet<string> | undefined;
  readonly level: number;
  readonly where: ((frame: EventFrame) => boolean) | undefined;

  constructor(
    readonly id: number,
    readonly filter: CompiledFilter,
    readonly out: Subscriber<EventFrame<P>>,
    readonly plan: QueuePlan<P> | undefined,
  ) {
    this.source = filter.source;
    this.runId = filter.runId;
    this.agentId = filter.agentId;
    this.laneId = filter.laneId;
    this.kinds = filter.kinds;
    this.level = filter.level;
    this.where = filter.where;
  }
}

/** A mutable count, so that a map lookup suffices to bump it. */
interface Counter {
  n: number;
}

/** A `send` waiting for room. */
interface PendingSend<P> {
  event: AgentEvent<P>;
  resolve: (frame: EventFrame<P>) => void;
  reject: (error: unknown) => void;
}

/** `ids` with `id` appended (a new list when there was none). */
function withId(ids: number[] | undefined, id: number): number[] {
  if (ids === undefined) return [id];
  ids.push(id);
  return ids;
}

/** Widens a subscriber's range of merged seqs (a merge function's result may lack a seq). */
function noteMerged<P>(state: SubscriberState<P>, seq: number | undefined): void {
  if (typeof seq !== 'number') return;
  if (state.mergedFromSeq === 0 || seq < state.mergedFromSeq) state.mergedFromSeq = seq;
  if (seq > state.mergedToSeq) state.mergedToSeq = seq;
}

/** Checks a cursor: a non-negative integer seq, or `undefined`. */
function checkAfter(after: unknown, owner: string): number | undefined {
  if (after === undefined) return undefined;
  if (typeof after !== 'number' || !Number.isInteger(after) || after < 0) {
    throw new RangeError(
      `${owner}: after must be a non-negative integer (a seq), got ${describe(after)}`,
    );
  }
  return after;
}

/**
 * A publish/subscribe bus for agent events, exposed as Observables.
 *
 * Every published event becomes an immutable {@link EventFrame} stamped with a global `seq`
 * (dense from 1: the cursor), a `laneSeq` (dense from 1 per lane: per `laneId`, across runs) and `ts`. Subscribers
 * {@link EventBus.select} frames by run, agent, lane, kinds, visibility and a predicate; each may
 * resume from a cursor (history, then an archive, then live, with no gap and no duplicate) and
 * may have its own bounded queue, so a slow subscriber never slows or drops anything for
 * another. Whatever a subscriber loses is reported on the next frame it receives
 * (`frame.overflow`), with the range to repair from.
 *
 * ```text
 * publish:       a---b---c---d---e---|(close)
 * select():      a---b---c---d---e---|
 * select({ kinds: ['b', 'd'] }):
 *                ----b-------d-------|
 * select({}, { after: 2 }) subscribed at d:
 *                            (cd)e---|
 * ```
 *
 * @example
 * ```ts
 * const bus = new EventBus();
 * bus.select({ runId: 'r1' }, { queue: { capacity: 256, overflow: 'drop-progress' } })
 *   .subscribe((frame) => render(frame));
 * bus.publish({ kind: 'model.delta', runId: 'r1', payload: { text: 'Hel' } });
 * bus.publish({ kind: 'run.finished', runId: 'r1' });
 * ```
 */
export class EventBus<P = unknown> {
  /** Every live frame, hot: all visibilities, no queue, no replay. Completes on `close()`. */
  readonly events$: Observable<EventFrame<P>>;

  private readonly live = new Subject<EventFrame<P>>();
  private readonly closedSignal = new BehaviorSubject<boolean>(false);
  private readonly history: FrameRing<EventFrame<P>>;
  private readonly archive: EventArchive | undefined;
  private readonly classify: Classifier<EventFrame<P>>;
  private readonly validate: ((event: AgentEvent<P>) => void) | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly freeze: boolean;

  private seq = 0;
  /** laneSeq counters, per laneId across the bus (as the seeds' buses count them). */
  private readonly mainLane: Counter = { n: 0 };
  private readonly otherLanes = new Map<string, Counter>();
  private readonly byKind = new KindTally();
  private rejected = 0;
  private backpressured = 0;
  private archiveErrors = 0;
  private closed = false;

  private nextSubscriberId = 1;
  private readonly states = new Set<SubscriberState<P>>();
  // Subscribers indexed by their filter's runId, else agentId, else laneId, else wildcards. A
  // bucket leaves its index with its last subscriber.
  private readonly byRun = new Map<string, SubscriberBucket<SubscriberState<P>>>();
  private readonly byAgent = new Map<string, SubscriberBucket<SubscriberState<P>>>();
  private readonly byLane = new Map<string, SubscriberBucket<SubscriberState<P>>>();
  private readonly wildcard = new SubscriberBucket<SubscriberState<P>>(undefined);
  private backpressureSubscribers = 0;

  private dispatching = false;
  private readonly pendingFrames: Array<EventFrame<P> | undefined> = [];
  private pendingHead = 0;

  private readonly sends: Array<PendingSend<P> | undefined> = [];
  private sendHead = 0;
  private pumping = false;

  /**
   * @throws RangeError or TypeError for a bad option, naming it and its value.
   */
  constructor(options: EventBusConfig<P> = {}) {
    checkOptions(options, 'EventBus');
    const {
      history = DEFAULT_HISTORY,
      archive,
      classify,
      validate,
      scheduler,
      freeze = false,
    } = options;
    if (!Number.isInteger(history) || history < 0 || history > MAX_HISTORY) {
      throw rangeError('EventBus', 'history', `an integer from 0 to ${MAX_HISTORY}`, history);
    }
    if (
      archive !== undefined &&
      (archive === null ||
        typeof archive !== 'object' ||
        typeof archive.append !== 'function' ||
        typeof archive.replay !== 'function')
    ) {
      throw new TypeError(
        `EventBus: archive must have append(frame) and replay(filter, after), got ${describe(archive)}`,
      );
    }
    checkFunction(classify, 'EventBus', 'classify');
    checkFunction(validate, 'EventBus', 'validate');
    if (scheduler !== undefined) checkScheduler(scheduler, 'EventBus');
    if (typeof freeze !== 'boolean') {
      throw new TypeError(`EventBus: freeze must be a boolean, got ${describe(freeze)}`);
    }
    this.freeze = freeze;
    this.history = new FrameRing(history);
    this.archive = archive;
    this.classify = classify ?? classifyAgentEvent;
    this.validate = validate;
    this.scheduler = scheduler ?? asyncScheduler;
    this.events$ = this.live.asObservable();
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The seq of the last frame published (0 before the first): the cursor of "now". */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Stamps and publishes an event, synchronously, and returns its frame. A subscriber that
   * publishes while receiving a frame (re-entrance) is fine: frames reach every subscriber in seq
   * order.
   *
   * @throws InvalidEventError for a bad event (nothing changes: no seq is used).
   * @throws BusClosedError after `close()`.
   * @throws BackpressureError when a matching `'backpressure'` subscriber has no room (nothing
   * changes); `send` waits instead.
   */
  publish(event: AgentEvent<P>): EventFrame<P> {
    if (this.closed) throw new BusClosedError();
    this.check(event);
    const laneId = event.laneId ?? DEFAULT_LANE;
    const lane = this.laneCounter(laneId);
    const frame = this.stamp(event, laneId, lane);
    if (this.backpressureSubscribers > 0) this.throwIfHeldBack(event, frame);
    return this.commit(frame, lane);
  }

  /**
   * Publishes an event without loss: waits while a matching `'backpressure'` subscriber is full.
   * Sends are published in the order they were made. Resolves with the frame once published;
   * rejects with `InvalidEventError` (at once) or `BusClosedError` (at once, or when the bus closes
   * while it waits). Published synchronously, inside the call, when nothing is waiting and there
   * is room.
   */
  send(event: AgentEvent<P>): Promise<EventFrame<P>> {
    if (this.closed) return Promise.reject(new BusClosedError());
    try {
      this.check(event);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.sendHead === this.sends.length) {
      const frame = this.makeFrame(event);
      if (this.backpressureSubscribers === 0 || this.fullSubscribers(frame) === undefined) {
        return Promise.resolve(this.commit(frame));
      }
    }
    return new Promise<EventFrame<P>>((resolve, reject) => {
      this.sends.push({ event, resolve, reject });
    });
  }

  /**
   * Frames matching `filter`, delivered through the subscriber's own queue when `queue` is given
   * (synchronously otherwise). With `after`, the frames with `seq > after` still held in history
   * or the archive are replayed first, then live frames follow with no gap and no duplicate, even
   * when the archive answers asynchronously. A cursor older than what is held is reported as an
   * overflow notice on the first delivered frame. Completes after `close()`, once the subscriber
   * got every frame it held.
   *
   * @throws TypeError or RangeError at once for a bad filter, cursor or queue.
   *
   * @example
   * ```ts
   * bus.select({ runId: 'r1', visibility: 'internal' }, { after: lastSeenSeq, queue: {
   *   capacity: 100, overflow: coalesce(mergeAgentProgress, agentEventKey) } })
   * ```
   */
  select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>> {
    const owner = 'EventBus.select';
    const compiled = compileFilter(filter, owner);
    const { after, queue } = this.checkSelectOptions(options, owner);
    const plan = queue === undefined ? undefined : this.planQueue(queue, owner);
    return new Observable<EventFrame<P>>((subscriber) => {
      this.attach(subscriber, compiled, after, plan);
    });
  }

  /**
   * The frames matching `filter` with `seq > after` that history (or the archive) holds now,
   * then complete. Without `after`: everything held, with no notice about older frames. With
   * `after` older than what is held: the first frame carries an overflow notice for the range
   * that is gone.
   *
   * @throws TypeError or RangeError at once for a bad filter or cursor.
   */
  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    const owner = 'EventBus.replay';
    const compiled = compileFilter(filter, owner);
    const cursor = checkAfter(after, owner);
    return new Observable<EventFrame<P>>((subscriber) => {
      const state = new SubscriberState<P>(0, compiled, subscriber, undefined);
      const upTo = this.seq;
      state.afterSeq = upTo;
      state.replaying = true;
      subscriber.add(() => {
        state.ended = true;
      });
      this.replayInto(state, cursor ?? 0, upTo, cursor !== undefined, () => {
        state.replaying = false;
        if (!subscriber.closed) subscriber.complete();
      });
    });
  }

  /**
   * `for await` over {@link EventBus.select}: the loop pulls frames at its own pace. Each
   * `next()` grants the subscriber's queue one frame of demand, so frames wait in the bus-side
   * queue (where its policy, notices, metrics and `'backpressure'` apply) until the loop asks.
   * Default queue: `{ capacity: 1024, overflow: 'drop-oldest' }`. `break` unsubscribes.
   *
   * @throws TypeError or RangeError at once for a bad filter, cursor or queue (a queue's own
   * `demand` or `flushOn` included: the loop drives demand).
   *
   * @example
   * ```ts
   * for await (const frame of bus.iterate({ runId: 'r1' }, { after: 0 })) {
   *   await save(frame);
   *   if (frame.kind === 'run.finished') break;
   * }
   * ```
   */
  iterate(filter?: EventFilter, options?: SelectOptions<P>): AsyncIterableIterator<EventFrame<P>> {
    const owner = 'EventBus.iterate';
    const checked = this.checkSelectOptions(options, owner);
    const queue: SubscriberQueue<P> = checked.queue ?? { ...DEFAULT_ITERATE_QUEUE };
    if (queue.demand !== undefined || queue.flushOn !== undefined) {
      throw new TypeError(
        `${owner}: queue.demand and queue.flushOn are not allowed: the loop pulls`,
      );
    }
    const signal = options?.signal;
    checkAbortSignal(signal, owner);
    // Checked here too, so that a bad option is named after iterate rather than select.
    this.planQueue(queue, owner);
    const demand = new Subject<number>();
    const selectOptions: SelectOptions<P> = { queue: { ...queue, demand } };
    if (checked.after !== undefined) selectOptions.after = checked.after;
    const source = this.select(filter, selectOptions);
    const bridgeConfig: QueueConfig<EventFrame<P>> & { signal?: AbortSignal } = {
      capacity: Math.max(queue.capacity, 1),
      // Never reached: the bridge only ever holds frames a pending next() asked for.
      overflow: 'drop-incoming',
    };
    if (signal !== undefined) bridgeConfig.signal = signal;
    const inner = toAsyncIterable(source, bridgeConfig);
    const iterator: AsyncIterableIterator<EventFrame<P>> = {
      next: () => {
        const result = inner.next();
        demand.next(1);
        return result;
      },
      return: (value?: unknown) =>
        inner.return === undefined
          ? Promise.resolve({ done: true, value: undefined })
          : inner.return(value as undefined),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** A snapshot of the counters: the bus's, and each subscriber's. */
  metrics(): BusMetrics {
    const subscribers: SubscriberMetrics[] = [];
    for (const state of this.states) subscribers.push(this.subscriberMetrics(state));
    return {
      published: this.seq,
      rejected: this.rejected,
      backpressured: this.backpressured,
      pendingSends: this.sends.length - this.sendHead,
      archiveErrors: this.archiveErrors,
      byKind: this.byKind.toRecord(),
      historySize: this.history.size,
      subscribers,
    };
  }

  /**
   * {@link EventBus.metrics} every `period` ms on the bus's scheduler, for dashboards. Completes
   * when the bus closes.
   *
   * @throws RangeError for a period that is not a positive finite number.
   */
  metrics$(period: number): Observable<BusMetrics> {
    if (typeof period !== 'number' || !(period > 0) || !Number.isFinite(period)) {
      throw new RangeError(
        `EventBus.metrics$: period must be a positive number of ms, got ${describe(period)}`,
      );
    }
    return interval(period, this.scheduler).pipe(
      takeUntil(this.closedSignal.pipe(filterOperator(Boolean))),
      map(() => this.metrics()),
    );
  }

  /**
   * Stops the bus: `publish` and `send` throw `BusClosedError` from now on and pending sends
   * reject with it; every subscriber receives what it already holds (its queue drains at its own
   * pace), then completes; `events$` completes. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const pending = this.sends.slice(this.sendHead);
    this.sends.length = 0;
    this.sendHead = 0;
    const error = new BusClosedError();
    for (const send of pending) send?.reject(error);
    // Frames accepted before close reach everyone first: a close from inside a subscriber ends
    // the others once the running dispatch is over.
    if (!this.dispatching) this.endAll();
  }

  // ---------------------------------------------------------------------------------------------
  // for subclasses whose frames are stamped elsewhere (the Redis bus: Redis stamps them)

  /**
   * Commits a frame stamped elsewhere, exactly as `publish` would have committed it (history,
   * subscribers and their queues, `events$`, metrics) minus the stamping, the checks and the
   * archive append. A frame at or below {@link EventBus.lastSeq} is a repeat and is ignored. A
   * seq jump means frames this bus will never hold: each live subscriber gets a `'drop-oldest'`
   * notice for the missing range on its next frame, and the history restarts at this frame, so
   * it never holds a gap. Ignored after `close()`.
   *
   * @throws TypeError for a frame whose seq is not a positive integer.
   */
  protected ingest(frame: EventFrame<P>): void {
    if (
      frame === null ||
      typeof frame !== 'object' ||
      !Number.isInteger(frame.seq) ||
      frame.seq < 1
    ) {
      throw new TypeError(
        `EventBus.ingest: a frame needs a positive integer seq, got ${describe(frame)}`,
      );
    }
    if (this.closed || frame.seq <= this.seq) return;
    if (frame.seq > this.seq + 1) {
      const fromSeq = this.seq + 1;
      const toSeq = frame.seq - 1;
      for (const state of this.states) {
        if (!state.ended && !state.replaying) this.recordHistoryGap(state, fromSeq, toSeq);
      }
      this.restartAt(toSeq);
    }
    this.commit(frame);
  }

  /**
   * Makes `seq` the last seq without a frame (the next one is `seq + 1`) and empties the history:
   * for a bus that skips frames nobody here listens to. Older cursors then replay from the
   * archive.
   */
  protected restartAt(seq: number): void {
    this.seq = seq;
    this.history.restart(seq);
  }

  /** Runs the checks `publish` makes (and `validate`), counting a refusal in `rejected`. */
  protected validateEvent(event: AgentEvent<P>): void {
    this.check(event);
  }

  /** Whether a matching `'backpressure'` subscriber has no room for this frame now. */
  protected isHeldBack(frame: EventFrame<P>): boolean {
    return this.backpressureSubscribers > 0 && this.fullSubscribers(frame) !== undefined;
  }

  /** Whether anyone listens: a `select`, `iterate` or `replay` subscriber, or `events$`. */
  protected get hasListeners(): boolean {
    return this.states.size > 0 || this.live.observed;
  }

  // ---------------------------------------------------------------------------------------------
  // publishing

  private check(event: AgentEvent<P>): void {
    // The common case answers with a few type tests, and stays small enough to be inlined into
    // publish; the checks that build errors run out of line.
    if (this.validate !== undefined || !isWellFormedEvent(event)) this.checkFully(event);
  }

  /** The checks that throw, naming the field, and `validate`. */
  private checkFully(event: AgentEvent<P>): void {
    try {
      checkEvent(event);
      if (this.validate !== undefined) {
        try {
          this.validate(event);
        } catch (error) {
          if (error instanceof InvalidEventError) throw error;
          throw new InvalidEventError(
            'event',
            `refused by validate: ${error instanceof Error ? error.message : describe(error)}`,
            { cause: error },
          );
        }
      }
    } catch (error) {
      this.rejected++;
      throw error;
    }
  }

  /** Throws `BackpressureError` when a matching `'backpressure'` subscriber has no room. */
  private throwIfHeldBack(event: AgentEvent<P>, frame: EventFrame<P>): void {
    const full = this.fullSubscribers(frame);
    if (full !== undefined) {
      this.backpressured++;
      throw new BackpressureError(event, full);
    }
  }

  /** The last laneSeq of a lane (created at 0); the default lane without a lookup. */
  private laneCounter(laneId: string): Counter {
    if (laneId === DEFAULT_LANE) return this.mainLane;
    let lane = this.otherLanes.get(laneId);
    if (lane === undefined) {
      lane = { n: 0 };
      this.otherLanes.set(laneId, lane);
    }
    return lane;
  }

  /** The frame `event` would become if committed now, on `lane` (its `laneId`'s counter). */
  private stamp(event: AgentEvent<P>, laneId: string, lane: Counter): EventFrame<P> {
    return createFrame(event, laneId, this.seq + 1, lane.n + 1, this.scheduler.now());
  }

  /** {@link EventBus.stamp}, looking the lane up. Changes nothing. */
  private makeFrame(event: AgentEvent<P>): EventFrame<P> {
    const laneId = event.laneId ?? DEFAULT_LANE;
    return this.stamp(event, laneId, this.laneCounter(laneId));
  }

  /**
   * Makes a stamped frame the bus's newest and delivers it; returns the frame committed. `lane`
   * is its lane's counter when the caller has it at hand (it saves a lookup).
   */
  private commit(frame: EventFrame<P>, lane?: Counter): EventFrame<P> {
    if (frame.seq !== this.seq + 1) {
      // A user callback (classify, where) published between stamping and commit: restamp.
      frame = this.makeFrame(frame);
    }
    // A frame stamped elsewhere (see `ingest`) keeps its laneSeq.
    (lane ?? this.laneCounter(frame.laneId ?? DEFAULT_LANE)).n = frame.laneSeq;
    this.seq = frame.seq;
    if (this.freeze) Object.freeze(frame);
    this.history.push(frame);
    this.byKind.add(frame.kind);
    if (this.archive !== undefined) this.appendToArchive(frame);
    this.dispatch(frame);
    return frame;
  }

  private appendToArchive(frame: EventFrame<P>): void {
    try {
      const result = (this.archive as EventArchive).append(frame);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, () => {
          this.archiveErrors++;
        });
      }
    } catch {
      this.archiveErrors++;
    }
  }

  /** Delivers a frame to everyone, or queues it when a delivery is running (re-entrance). */
  private dispatch(frame: EventFrame<P>): void {
    if (this.dispatching) {
      this.pendingFrames.push(frame);
      return;
    }
    this.dispatching = true;
    try {
      this.deliver(frame);
      if (this.pendingFrames.length > 0) this.deliverPending();
    } finally {
      this.dispatching = false;
    }
    if (this.closed) this.endAll();
  }

  // The per-publish path is split into small methods, with what is rare (re-entrance, queues,
  // several subscribers per bucket) out of line: V8 inlines a limited amount of code into one
  // optimised function, and a path that fits keeps the frame allocation inlined in every run
  // (a path that did not fit measured 10-15% slower in some runs of the same benchmark).

  /** Delivers the frames published during a delivery (re-entrance), in seq order. */
  private deliverPending(): void {
    try {
      while (this.pendingHead < this.pendingFrames.length) {
        const next = this.pendingFrames[this.pendingHead] as EventFrame<P>;
        this.pendingFrames[this.pendingHead++] = undefined;
        this.deliver(next);
      }
    } finally {
      this.pendingFrames.length = 0;
      this.pendingHead = 0;
    }
  }

  // The subscribers a frame can reach through each index (`undefined`: none there).

  private runBucketOf(frame: EventFrame<P>): SubscriberBucket<SubscriberState<P>> | undefined {
    // The size checks skip a hash lookup per index nobody uses (a bus of wildcard subscribers).
    return frame.runId === undefined || this.byRun.size === 0
      ? undefined
      : this.byRun.get(frame.runId);
  }

  private agentBucketOf(frame: EventFrame<P>): SubscriberBucket<SubscriberState<P>> | undefined {
    return frame.agentId === undefined || this.byAgent.size === 0
      ? undefined
      : this.byAgent.get(frame.agentId);
  }

  private laneBucketOf(frame: EventFrame<P>): SubscriberBucket<SubscriberState<P>> | undefined {
    return this.byLane.size === 0 ? undefined : this.byLane.get(frame.laneId as string);
  }

  private deliver(frame: EventFrame<P>): void {
    const byRun = this.runBucketOf(frame);
    if (byRun !== undefined) this.deliverTo(byRun, frame);
    const byAgent = this.agentBucketOf(frame);
    if (byAgent !== undefined) this.deliverTo(byAgent, frame);
    const byLane = this.laneBucketOf(frame);
    if (byLane !== undefined) this.deliverTo(byLane, frame);
    if (this.wildcard.size > 0) this.deliverTo(this.wildcard, frame);
    if (this.live.observed) this.live.next(frame);
  }

  private deliverTo(bucket: SubscriberBucket<SubscriberState<P>>, frame: EventFrame<P>): void {
    const first = bucket.first;
    if (first !== undefined) this.deliverToOne(first, frame);
    if (bucket.rest !== undefined) this.deliverToRest(bucket.rest, frame);
  }

  private deliverToRest(states: Set<SubscriberState<P>>, frame: EventFrame<P>): void {
    for (const state of states) this.deliverToOne(state, frame);
  }

  private deliverToOne(state: SubscriberState<P>, frame: EventFrame<P>): void {
    if (frame.seq <= state.afterSeq || state.ended) return;
    let matches: boolean;
    if (state.where === undefined) matches = matchesFilter(state, frame);
    else {
      // Only `where` can throw.
      try {
        matches = matchesFilter(state, frame);
      } catch (error) {
        state.out.error(error);
        return;
      }
    }
    if (!matches) return;
    if (state.replaying) {
      state.lastMatchedSeq = frame.seq;
      if (state.buffer === undefined) state.buffer = [frame];
      else state.buffer.push(frame);
    } else {
      this.offer(state, frame);
    }
  }

  /** The ids of the `'backpressure'` subscribers with no room for `frame`, if any. */
  private fullSubscribers(frame: EventFrame<P>): number[] | undefined {
    let full = this.fullIn(this.runBucketOf(frame), frame, undefined);
    full = this.fullIn(this.agentBucketOf(frame), frame, full);
    full = this.fullIn(this.laneBucketOf(frame), frame, full);
    return this.fullIn(this.wildcard, frame, full);
  }

  /** Adds to `full` the ids of the bucket's `'backpressure'` subscribers with no room for `frame`. */
  private fullIn(
    bucket: SubscriberBucket<SubscriberState<P>> | undefined,
    frame: EventFrame<P>,
    full: number[] | undefined,
  ): number[] | undefined {
    if (bucket === undefined) return full;
    let ids = full;
    if (bucket.first !== undefined && this.isFull(bucket.first, frame)) {
      ids = withId(ids, bucket.first.id);
    }
    if (bucket.rest !== undefined) {
      for (const state of bucket.rest) if (this.isFull(state, frame)) ids = withId(ids, state.id);
    }
    return ids;
  }

  private isFull(state: SubscriberState<P>, frame: EventFrame<P>): boolean {
    return state.plan?.backpressure === true && !state.ended && !this.hasRoom(state, frame);
  }

  private hasRoom(state: SubscriberState<P>, frame: EventFrame<P>): boolean {
    const plan = state.plan as QueuePlan<P>;
    let matches: boolean;
    let cls: EventClass;
    try {
      matches = matchesFilter(state.filter, frame);
      if (!matches) return true;
      cls = plan.classify(frame);
    } catch {
      // Its stream errors when the frame is delivered: it holds nothing back.
      return true;
    }
    if (cls === 'terminal') return true;
    const held =
      state.depth + (state.buffer === undefined ? 0 : state.buffer.length - state.bufferHead);
    return held < plan.capacity && state.nonTerminalDepth < plan.nonTerminalCapacity;
  }

  /** Publishes waiting sends, oldest first, while they have room. */
  private pumpSends(): void {
    if (this.pumping || this.sendHead === this.sends.length || this.closed) return;
    this.pumping = true;
    try {
      while (this.sendHead < this.sends.length && !this.closed) {
        const pending = this.sends[this.sendHead] as PendingSend<P>;
        const frame = this.makeFrame(pending.event);
        if (this.backpressureSubscribers > 0 && this.fullSubscribers(frame) !== undefined) break;
        this.sends[this.sendHead++] = undefined;
        pending.resolve(this.commit(frame));
      }
      if (this.sendHead === this.sends.length) {
        this.sends.length = 0;
        this.sendHead = 0;
      }
    } finally {
      this.pumping = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // subscribing

  private checkSelectOptions(
    options: SelectOptions<P> | undefined,
    owner: string,
  ): { after: number | undefined; queue: SubscriberQueue<P> | undefined } {
    if (options === undefined) return { after: undefined, queue: undefined };
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${owner}: options must be an object, got ${describe(options)}`);
    }
    const after = checkAfter(options.after, owner);
    const queue = options.queue;
    if (queue !== undefined && (queue === null || typeof queue !== 'object')) {
      throw new TypeError(`${owner}: queue must be an object, got ${describe(queue)}`);
    }
    return { after, queue };
  }

  private planQueue(queue: SubscriberQueue<P>, owner: string): QueuePlan<P> {
    const backpressure = queue.overflow === 'backpressure';
    const classify = queue.classify ?? this.classify;
    const overflow: OverflowPolicy<EventFrame<P>> = backpressure
      ? 'drop-incoming'
      : (queue.overflow as OverflowPolicy<EventFrame<P>>);
    const checked = { ...queue, overflow, classify };
    const queueOwner = `${owner} queue`;
    const reserve = validateQueueConfig(checked, queueOwner);
    // The drain options, checked as boundedQueue would check them, but named after the bus.
    const { demand, flushOn, scheduler, inspect } = queue;
    if (demand !== undefined && flushOn !== undefined) {
      throw new RangeError(
        `${queueOwner}: demand and flushOn cannot be combined; give one of them`,
      );
    }
    checkObservableInput(demand, queueOwner, 'demand');
    checkObservableInput(flushOn, queueOwner, 'flushOn');
    if (scheduler !== undefined) checkScheduler(scheduler, queueOwner);
    checkFunction(inspect, queueOwner, 'inspect');
    const config = backpressure
      ? // The bus refuses what does not fit before it reaches the queue, and a replay may
        // exceed the capacity (publishers then wait until it is consumed): never drop in there.
        { ...checked, capacity: Number.MAX_SAFE_INTEGER, terminalReserve: reserve }
      : checked;
    return {
      backpressure,
      policy: backpressure ? 'backpressure' : policyNameOf(overflow, owner),
      classify,
      capacity: queue.capacity,
      nonTerminalCapacity: queue.capacity - reserve,
      config,
      onOverflow: queue.onOverflow,
    };
  }

  private attach(
    subscriber: Subscriber<EventFrame<P>>,
    filter: CompiledFilter,
    after: number | undefined,
    plan: QueuePlan<P> | undefined,
  ): void {
    const state = new SubscriberState<P>(this.nextSubscriberId++, filter, subscriber, plan);
    const upTo = this.seq;
    state.afterSeq = after !== undefined && after > upTo ? after : upTo;
    state.lastMatchedSeq = state.lastDeliveredSeq = Math.min(after ?? upTo, upTo);
    if (plan !== undefined) {
      const config = {
        ...plan.config,
        overflow: this.watchMerges(state, plan.config.overflow),
        onOverflow: (notice: OverflowNotice<EventFrame<P>>) => this.onQueueOverflow(state, notice),
      };
      const feed$ = new Observable<EventFrame<P>>((feed) => {
        state.feed = feed;
        return () => {
          state.feed = undefined;
        };
      });
      const output = new OperatorSubscriber<EventFrame<P>>(
        (frame) => this.deliverFromQueue(state, frame),
        (error) => subscriber.error(this.withSeqRange(error, plan)),
        () => subscriber.complete(),
      );
      subscriber.add(output);
      feed$.pipe(boundedQueue(config)).subscribe(output);
    }
    subscriber.add(() => this.detach(state));
    if (subscriber.closed) return;
    this.register(state);
    const replaying = after !== undefined && after < upTo;
    if (replaying) {
      state.replaying = true;
      this.replayInto(state, after, upTo, true, () => this.finishReplay(state));
    } else if (this.closed) {
      this.end(state);
    }
  }

  /** Indexes a subscriber by its run, else its agent, else its lane, else as a wildcard. */
  private register(state: SubscriberState<P>): void {
    const { filter } = state;
    let bucket: SubscriberBucket<SubscriberState<P>>;
    if (filter.runId !== undefined) {
      bucket = this.bucketIn(this.byRun, filter.runId, state);
      state.runId = undefined;
    } else if (filter.agentId !== undefined) {
      bucket = this.bucketIn(this.byAgent, filter.agentId, state);
      state.agentId = undefined;
    } else if (filter.laneId !== undefined) {
      bucket = this.bucketIn(this.byLane, filter.laneId, state);
      state.laneId = undefined;
    } else {
      bucket = this.wildcard;
    }
    bucket.add(state);
    state.bucket = bucket;
    this.states.add(state);
    if (state.plan?.backpressure === true) this.backpressureSubscribers++;
  }

  private bucketIn(
    index: Map<string, SubscriberBucket<SubscriberState<P>>>,
    key: string,
    state: SubscriberState<P>,
  ): SubscriberBucket<SubscriberState<P>> {
    let bucket = index.get(key);
    if (bucket === undefined) {
      bucket = new SubscriberBucket(key);
      index.set(key, bucket);
    }
    state.bucketMap = index;
    return bucket;
  }

  private detach(state: SubscriberState<P>): void {
    if (state.ended) return;
    state.ended = true;
    state.buffer = undefined;
    state.depth = state.nonTerminalDepth = 0;
    const bucket = state.bucket;
    if (bucket === undefined) return;
    bucket.delete(state);
    // An index keeps only buckets with subscribers: one run's id never outlives its listeners.
    if (bucket.size === 0 && state.bucketMap !== undefined && bucket.key !== undefined) {
      state.bucketMap.delete(bucket.key);
    }
    state.bucket = undefined;
    state.bucketMap = undefined;
    this.states.delete(state);
    if (state.plan?.backpressure === true) {
      this.backpressureSubscribers--;
      this.pumpSends();
    }
  }

  /** Hands a frame to a subscriber: into its queue, or straight to it. */
  private offer(state: SubscriberState<P>, frame: EventFrame<P>): void {
    state.lastMatchedSeq = frame.seq;
    if (state.plan === undefined) this.emit(state, frame);
    else this.offerToQueue(state, state.plan, frame);
  }

  private offerToQueue(state: SubscriberState<P>, plan: QueuePlan<P>, frame: EventFrame<P>): void {
    const feed = state.feed;
    if (feed === undefined) return;
    let cls: EventClass | undefined;
    try {
      cls = plan.classify(frame);
    } catch {
      // The queue calls the classifier too, and errors the stream with what it throws.
    }
    if (
      cls === 'terminal' ||
      plan.backpressure ||
      (state.depth < plan.capacity && state.nonTerminalDepth < plan.nonTerminalCapacity)
    ) {
      state.depth++;
      if (cls !== 'terminal') state.nonTerminalDepth++;
      if (state.depth > state.highWater) state.highWater = state.depth;
    } else {
      state.overflows++;
    }
    feed.next(frame);
  }

  private deliverFromQueue(state: SubscriberState<P>, frame: EventFrame<P>): void {
    const plan = state.plan as QueuePlan<P>;
    if (state.depth > 0) state.depth--;
    let cls: EventClass | undefined;
    try {
      cls = plan.classify(frame);
    } catch {
      cls = undefined;
    }
    if (cls !== 'terminal' && state.nonTerminalDepth > 0) state.nonTerminalDepth--;
    // A coalesced frame is the merge function's new object.
    if (this.freeze && !Object.isFrozen(frame)) Object.freeze(frame);
    this.emit(state, frame);
    if (plan.backpressure && this.sendHead < this.sends.length) this.pumpSends();
  }

  /** The last step: puts the pending notice on a copy of the frame and delivers it. */
  private emit(state: SubscriberState<P>, frame: EventFrame<P>): void {
    const notice = state.pendingNotice;
    if (notice !== undefined) {
      state.pendingNotice = undefined;
      frame = { ...frame, overflow: notice };
      if (this.freeze) {
        Object.freeze(notice);
        Object.freeze(frame);
      }
    }
    state.delivered++;
    if (frame.seq > state.lastDeliveredSeq) state.lastDeliveredSeq = frame.seq;
    state.out.next(frame);
  }

  /**
   * A `coalesce` policy that also records, per subscriber, the seqs of the frames it folds:
   * merged frames leave no `first`/`last` in the queue's notice, yet a bus notice always carries
   * the seq range of its gap (a merged frame shows only one seq of the several it stands for).
   */
  private watchMerges(
    state: SubscriberState<P>,
    overflow: OverflowPolicy<EventFrame<P>>,
  ): OverflowPolicy<EventFrame<P>> {
    if (typeof overflow !== 'object' || overflow.kind !== 'coalesce') return overflow;
    const { merge, key } = overflow;
    return coalesce((queued: EventFrame<P>, incoming: EventFrame<P>) => {
      noteMerged(state, queued.seq);
      noteMerged(state, incoming.seq);
      return merge(queued, incoming);
    }, key);
  }

  /** A queue's `QueueOverflowError` (policy `'error'`) with the seq range of the frame that did not fit. */
  private withSeqRange(error: unknown, plan: QueuePlan<P>): unknown {
    if (!(error instanceof QueueOverflowError)) return error;
    const notice = error.notice as OverflowNotice<EventFrame<P>>;
    if (notice.fromSeq !== undefined || notice.first?.seq === undefined) return error;
    const busNotice: OverflowNotice<EventFrame<P>> = { ...notice, fromSeq: notice.first.seq };
    busNotice.toSeq = (notice.last ?? notice.first).seq;
    return new QueueOverflowError(busNotice, plan.capacity);
  }

  private onQueueOverflow(state: SubscriberState<P>, notice: OverflowNotice<EventFrame<P>>): void {
    const busNotice: OverflowNotice<EventFrame<P>> = { ...notice };
    let fromSeq = notice.first?.seq;
    let toSeq = notice.last?.seq;
    if (state.mergedFromSeq > 0) {
      if (fromSeq === undefined || state.mergedFromSeq < fromSeq) fromSeq = state.mergedFromSeq;
      if (toSeq === undefined || state.mergedToSeq > toSeq) toSeq = state.mergedToSeq;
      state.mergedFromSeq = state.mergedToSeq = 0;
    }
    if (fromSeq !== undefined) busNotice.fromSeq = fromSeq;
    if (toSeq !== undefined) busNotice.toSeq = toSeq;
    state.reportedDropped += notice.dropped;
    state.reportedMerged += notice.merged;
    state.pendingNotice =
      state.pendingNotice === undefined
        ? busNotice
        : combineNotices(state.pendingNotice, busNotice);
    // A throw here errors the subscriber's stream (boundedQueue's contract for onOverflow).
    state.plan?.onOverflow?.(busNotice);
  }

  /** Records frames `fromSeq..toSeq` as gone before this subscriber could get them. */
  private recordHistoryGap(state: SubscriberState<P>, fromSeq: number, toSeq: number): void {
    if (toSeq < fromSeq) return;
    const dropped = toSeq - fromSeq + 1;
    state.historyDropped += dropped;
    const gap: OverflowNotice<EventFrame<P>> = {
      // The history ring (and archive) evict their oldest frames: that is the policy at work.
      policy: 'drop-oldest',
      dropped,
      merged: 0,
      fromSeq,
      toSeq,
      // Frames no longer held cannot be inspected: a terminal frame may be among them.
      terminalPreserved: false,
    };
    state.pendingNotice =
      state.pendingNotice === undefined ? gap : combineNotices(gap, state.pendingNotice);
    if (state.plan?.onOverflow !== undefined) {
      try {
        state.plan.onOverflow(gap);
      } catch (error) {
        state.out.error(error);
      }
    }
  }

  /**
   * Replays to `state` the matching frames with `after < seq <= upTo`: from the archive for what
   * history no longer holds, then from history. Calls `done` once everything was offered.
   */
  private replayInto(
    state: SubscriberState<P>,
    after: number,
    upTo: number,
    reportGap: boolean,
    done: () => void,
  ): void {
    const oldest = this.history.oldestSeq;
    if (after + 1 >= oldest || (this.archive === undefined && !reportGap)) {
      this.replayHistory(state, Math.max(after, oldest - 1), upTo, reportGap);
      if (!state.out.closed) done();
      return;
    }
    const archive = this.archive;
    if (archive === undefined) {
      this.recordHistoryGap(state, after + 1, Math.min(oldest - 1, upTo));
      this.replayHistory(state, oldest - 1, upTo, reportGap);
      if (!state.out.closed) done();
      return;
    }
    let earliest: number | undefined;
    try {
      earliest = archive.earliestSeq?.();
    } catch {
      earliest = undefined;
    }
    if (reportGap && earliest !== undefined && earliest > after + 1) {
      this.recordHistoryGap(state, after + 1, Math.min(earliest, oldest, upTo + 1) - 1);
    }
    let cursor = after;
    let archiveDone = false;
    // What history holds now, kept for an archive that answers late: by then history may have
    // moved past frames the archive did not have yet (its appends may lag too).
    let held: Array<EventFrame<P>> | undefined;
    const fromArchive = new OperatorSubscriber<EventFrame>(
      (archived) => {
        const frame = archived as EventFrame<P>;
        if (state.out.closed) return;
        if (frame === null || typeof frame !== 'object' || typeof frame.seq !== 'number') {
          state.out.error(
            new TypeError(
              `EventBus: the archive's replay emitted ${describe(frame)}, which is not a frame`,
            ),
          );
          return;
        }
        if (frame.seq <= cursor || frame.seq > upTo) return;
        cursor = frame.seq;
        let matches: boolean;
        try {
          matches = matchesFilter(state.filter, frame);
        } catch (error) {
          state.out.error(error);
          return;
        }
        if (matches) this.offer(state, this.freeze ? Object.freeze(frame) : frame);
      },
      (error) => state.out.error(error),
      () => {
        archiveDone = true;
        // Frames the archive did not have yet (an asynchronous append) come from history.
        if (held === undefined) this.replayHistory(state, cursor, upTo, reportGap);
        else {
          for (const frame of held) {
            if (state.out.closed) return;
            if (frame.seq > cursor) this.offer(state, frame);
          }
          held = undefined;
        }
        if (!state.out.closed) done();
      },
    );
    state.out.add(fromArchive);
    let replay$: Observable<EventFrame>;
    try {
      replay$ = from(archive.replay(state.filter.source, after));
    } catch (error) {
      state.out.error(error);
      return;
    }
    replay$.subscribe(fromArchive);
    if (!archiveDone && !state.out.closed) held = this.heldFrames(state, after, upTo);
  }

  /** The frames of history with `after < seq <= upTo` that match the subscriber's filter. */
  private heldFrames(state: SubscriberState<P>, after: number, upTo: number): Array<EventFrame<P>> {
    const frames: Array<EventFrame<P>> = [];
    for (let seq = Math.max(after + 1, this.history.oldestSeq); seq <= upTo; seq++) {
      const frame = this.history.get(seq) as EventFrame<P>;
      try {
        if (matchesFilter(state.filter, frame)) frames.push(frame);
      } catch (error) {
        state.out.error(error);
        break;
      }
    }
    return frames;
  }

  /** Offers the matching frames of history with `after < seq <= upTo`. */
  private replayHistory(
    state: SubscriberState<P>,
    after: number,
    upTo: number,
    reportGap: boolean,
  ): void {
    for (let seq = after + 1; seq <= upTo; seq++) {
      if (state.out.closed) return;
      const frame = this.history.get(seq);
      if (frame === undefined) {
        // Overwritten while replaying (a re-entrant flood into a small history).
        const resume = Math.min(this.history.oldestSeq, upTo + 1);
        if (reportGap) this.recordHistoryGap(state, seq, resume - 1);
        seq = resume - 1;
        continue;
      }
      let matches: boolean;
      try {
        matches = matchesFilter(state.filter, frame);
      } catch (error) {
        state.out.error(error);
        return;
      }
      if (matches) this.offer(state, frame);
    }
  }

  /** Hands over from replay to live: the frames held meanwhile, then live delivery. */
  private finishReplay(state: SubscriberState<P>): void {
    // Still "replaying" while the held frames go out, so that frames published meanwhile (from
    // inside a subscriber) queue up behind them instead of overtaking them.
    while (state.buffer !== undefined && state.bufferHead < state.buffer.length) {
      if (state.out.closed) return;
      const frame = state.buffer[state.bufferHead] as EventFrame<P>;
      state.buffer[state.bufferHead++] = undefined as unknown as EventFrame<P>;
      this.offer(state, frame);
    }
    state.buffer = undefined;
    state.bufferHead = 0;
    state.replaying = false;
    if (state.plan?.backpressure === true) this.pumpSends();
    if (this.closed || state.closeAfterReplay) this.end(state);
  }

  /** Completes a subscriber once it got what it holds. */
  private end(state: SubscriberState<P>): void {
    if (state.out.closed) return;
    if (state.replaying) {
      state.closeAfterReplay = true;
      return;
    }
    if (state.plan === undefined) state.out.complete();
    // A queue ends the subscriber itself once drained; one that already stopped taking frames
    // (its 'error' policy overflowed) ends it with that error.
    else state.feed?.complete();
  }

  private endAll(): void {
    for (const state of [...this.states]) this.end(state);
    if (!this.closedSignal.value) {
      this.live.complete();
      // Not completed: a metrics$ subscribed after close must still see `true` and end at once.
      this.closedSignal.next(true);
    }
  }

  private subscriberMetrics(state: SubscriberState<P>): SubscriberMetrics {
    const plan = state.plan;
    const unreported = Math.max(0, state.overflows - state.reportedDropped - state.reportedMerged);
    const coalescing = plan !== undefined && plan.policy === 'coalesce';
    const caughtUp = state.depth === 0 && !state.replaying;
    return {
      id: state.id,
      filter: state.filter.source,
      policy: plan === undefined ? 'none' : plan.policy,
      depth: state.depth,
      highWater: state.highWater,
      delivered: state.delivered,
      dropped: state.historyDropped + state.reportedDropped + (coalescing ? 0 : unreported),
      merged: state.reportedMerged + (coalescing ? unreported : 0),
      lag: caughtUp ? 0 : Math.max(0, state.lastMatchedSeq - state.lastDeliveredSeq),
      replaying: state.replaying,
    };
  }
}
