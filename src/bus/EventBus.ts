import {
  asyncScheduler,
  filter,
  interval,
  map,
  type Observable,
  type SchedulerLike,
  takeUntil,
} from 'rxjs';
import {
  checkBoolean,
  checkFunction,
  checkOptions,
  checkPositiveNumber,
  checkScheduler,
  describe,
  rangeError,
} from '../core/checks.js';
import { classifyAgentEvent } from './agentEvents.js';
import { BusSubscriptions } from './BusSubscriptions.js';
import { EventCheck } from './EventCheck.js';
import { BackpressureError, BusClosedError } from './errors.js';
import { FrameHub, newEpoch } from './FrameHub.js';
import { latencyMetrics } from './LatencyMetrics.js';
import { SendQueue } from './SendQueue.js';
import { Sequencer } from './Sequencer.js';
import type { KindOf, TypedEventBus } from './typed.js';
import type {
  AgentEvent,
  BusMetrics,
  EventArchive,
  EventBusConfig,
  EventFilter,
  EventFrame,
  SelectOptions,
} from './types.js';

/** The history kept when the `history` option is omitted. */
export const DEFAULT_HISTORY = 10_000;

/**
 * The largest `history` a bus accepts: 2 ** 24 (16,777,216) frames. History is allocated as
 * frames arrive, so the limit is not what a bus costs up front; it bounds what a full history
 * holds (at least 128 MB of slots alone, plus the frames). Keep more in an archive.
 */
export const MAX_HISTORY = 2 ** 24;

/**
 * A publish/subscribe bus for agent events, exposed as Observables.
 *
 * Every published event becomes an immutable {@link EventFrame} stamped with a global `seq`
 * (dense from 1: the cursor), a `laneSeq` (dense from 1 per lane: per `laneId`, across runs) and
 * `ts`. Subscribers {@link EventBus.select} frames by run, agent, lane, kinds, visibility and a
 * predicate; each may resume from a cursor (it reads history, then the archive, at its own pace,
 * then goes live with no gap and no duplicate) and may have its own bounded queue, so a slow
 * subscriber never slows or drops anything for another. Every subscriber receives frames in
 * increasing seq order. Whatever a subscriber loses is reported on the next frame it receives
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
  /**
   * This bus's epoch: a random id, new with each bus. Save it with a cursor and pass both to
   * `select({ after, epoch })`: a cursor saved from another bus is then refused with
   * `EpochChangedError` instead of reading seqs that mean something else here.
   */
  readonly epoch: string;

  private readonly hub: FrameHub<P>;
  private readonly sequencer: Sequencer;
  private readonly sends = new SendQueue<P>();
  private readonly subscriptions: BusSubscriptions<P>;
  private readonly checks: EventCheck<P>;
  private readonly scheduler: SchedulerLike;
  private backpressured = 0;
  private readonly trySend = (events: readonly AgentEvent<P>[]): EventFrame<P>[] | undefined =>
    this.stampAllIfRoom(events);

  /**
   * A bus typed by an event map (kind → payload type): `publish` checks each payload against
   * its kind, and `select({ kinds: [...] })` narrows the frames' `kind` and `payload`. The same
   * bus at run time; `new EventBus<P>()` stays as it is.
   *
   * @example
   * ```ts
   * const bus = EventBus.typed<AgentEventMap & { 'tool.call': { name: string } }>();
   * bus.select({ kinds: ['tool.call'] }).subscribe((frame) => console.log(frame.payload.name));
   * ```
   */
  static typed<M extends object>(options?: EventBusConfig<M[KindOf<M>]>): TypedEventBus<M> {
    return new EventBus<M[KindOf<M>]>(options) as unknown as TypedEventBus<M>;
  }

  /**
   * @throws RangeError or TypeError for a bad option, naming it and its value.
   */
  constructor(options: EventBusConfig<P> = {}) {
    checkOptions(options, 'EventBus');
    const { history = DEFAULT_HISTORY, archive, classify, validate, scheduler } = options;
    const { freeze = false, metrics } = options;
    if (!Number.isInteger(history) || history < 0 || history > MAX_HISTORY) {
      throw rangeError('EventBus', 'history', `an integer from 0 to ${MAX_HISTORY}`, history);
    }
    checkArchive(archive);
    checkFunction(classify, 'EventBus', 'classify');
    checkFunction(validate, 'EventBus', 'validate');
    if (scheduler !== undefined) checkScheduler(scheduler, 'EventBus');
    checkBoolean(freeze, 'EventBus', 'freeze');
    const clock = scheduler ?? asyncScheduler;
    const latency = latencyMetrics(metrics, () => clock.now(), 'EventBus');
    this.epoch = newEpoch();
    this.hub = new FrameHub<P>({
      history,
      archive,
      appendToArchive: true,
      freeze,
      epoch: this.epoch,
      latency,
      scheduler: clock,
    });
    this.hub.onRoom = () => this.sends.pump(this.trySend);
    this.subscriptions = new BusSubscriptions(this.hub, classify ?? classifyAgentEvent);
    this.checks = new EventCheck(validate);
    this.scheduler = scheduler ?? asyncScheduler;
    this.sequencer = new Sequencer(this.scheduler);
    this.events$ = this.hub.live.asObservable();
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.hub.isClosed;
  }

  /** The seq of the last frame published (0 before the first): the cursor of "now". */
  get lastSeq(): number {
    return this.hub.log.head;
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
    if (this.hub.isClosed) throw new BusClosedError();
    this.checks.check(event);
    let frame = this.sequencer.stamp(event, this.hub.log.head + 1);
    if (this.hub.index.backpressureCount > 0) {
      const full = this.hub.fullFor(frame);
      if (full !== undefined) {
        this.backpressured++;
        throw new BackpressureError(event, full);
      }
      // A room check calls user code (classify, where), which may have published meanwhile.
      if (frame.seq !== this.hub.log.head + 1)
        frame = this.sequencer.stamp(event, this.hub.log.head + 1);
    }
    this.commit(frame);
    return frame;
  }

  /**
   * Publishes an event without loss: waits while a matching `'backpressure'` subscriber is full.
   * Sends of one run are published in the order they were made; a send never waits behind a send
   * of another run. Resolves with the frame once published; rejects with `InvalidEventError` (at
   * once) or `BusClosedError` (at once, or when the bus closes while it waits). Published
   * synchronously, inside the call, when nothing of its run is waiting and there is room.
   */
  send(event: AgentEvent<P>): Promise<EventFrame<P>> {
    if (this.hub.isClosed) return Promise.reject(new BusClosedError());
    try {
      this.checks.check(event);
    } catch (error) {
      return Promise.reject(error);
    }
    const batch = [event];
    if (!this.sends.hasWaiting(event.runId)) {
      const frames = this.stampAllIfRoom(batch);
      if (frames !== undefined) return Promise.resolve(frames[0] as EventFrame<P>);
    }
    return this.sends.enqueue(batch).then(firstOf);
  }

  /**
   * Publishes several events at once, synchronously: every event is checked before any is
   * published (all or nothing), they get consecutive seqs, and subscribers receive them in one
   * delivery pass. Returns their frames, in order.
   *
   * @throws InvalidEventError for the first bad event, its field named after its index
   * (`events[2].kind`); nothing is published.
   * @throws BusClosedError after `close()`.
   * @throws BackpressureError when a matching `'backpressure'` subscriber has no room for the
   * whole batch; nothing is published.
   */
  publishAll(events: readonly AgentEvent<P>[]): EventFrame<P>[] {
    if (this.hub.isClosed) throw new BusClosedError();
    this.checks.checkAll(events, 'EventBus.publishAll');
    const frames = this.stampAllIfRoom(events);
    if (frames === undefined) {
      const full = this.fullForBatch(this.sequencer.stampAll(events, this.hub.log.head + 1));
      this.backpressured++;
      throw new BackpressureError(full.event, full.ids);
    }
    return frames;
  }

  /**
   * {@link EventBus.publishAll} without loss: waits until every matching `'backpressure'`
   * subscriber has room for the whole batch, then publishes it at once. The batch waits behind
   * the earlier sends of the run of its first event. Rejects with `InvalidEventError` (at once,
   * naming the index) or `BusClosedError`.
   */
  sendAll(events: readonly AgentEvent<P>[]): Promise<EventFrame<P>[]> {
    if (this.hub.isClosed) return Promise.reject(new BusClosedError());
    try {
      this.checks.checkAll(events, 'EventBus.sendAll');
    } catch (error) {
      return Promise.reject(error);
    }
    if (events.length === 0) return Promise.resolve([]);
    if (!this.sends.hasWaiting(events[0]?.runId)) {
      const frames = this.stampAllIfRoom(events);
      if (frames !== undefined) return Promise.resolve(frames);
    }
    return this.sends.enqueue(events);
  }

  /**
   * Frames matching `filter`, delivered through the subscriber's own queue when `queue` is given
   * (synchronously otherwise). With `after`, the subscriber first reads the frames with
   * `seq > after` that history or the archive holds, page by page as its queue has room, then
   * goes live with no gap and no duplicate, even when the archive answers asynchronously. What
   * the log no longer holds is reported as an overflow notice (on the next frame, and to the
   * queue's `onOverflow` at once). A cursor beyond the head, or from another `epoch`, errors the
   * subscription. Completes after `close()`, once the subscriber got every frame it held.
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
    return this.subscriptions.select(filter, options);
  }

  /**
   * The frames matching `filter` with `seq > after` that history (or the archive) holds now,
   * then complete. Without `after`: everything held, with no notice about older frames. With
   * `after` older than what is held: the first frame carries an overflow notice for the range
   * that is gone; when no frame follows that gap, the replay errors with a `QueueOverflowError`
   * carrying the notice instead of completing.
   *
   * @throws TypeError or RangeError at once for a bad filter or cursor.
   */
  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    return this.subscriptions.replay(filter, after);
  }

  /**
   * `for await` over {@link EventBus.select}: the loop pulls frames at its own pace. Each
   * `next()` grants the subscriber's queue one frame of demand, so frames wait in the bus-side
   * queue (where its policy, notices, metrics and `'backpressure'` apply) until the loop asks.
   * Default queue: `{ capacity: 1024, overflow: 'drop-oldest' }`; with a cursor the log is read
   * at the loop's pace, so nothing the log holds is lost: the policy only applies to live frames
   * that outrun the loop. `break` unsubscribes.
   *
   * @throws TypeError or RangeError at once for a bad filter, cursor, queue or signal (a queue's
   * own `demand` or `flushOn` included: the loop drives demand).
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
    return this.subscriptions.iterate(filter, options);
  }

  /** A snapshot of the counters: the bus's, and each subscriber's. */
  metrics(): BusMetrics {
    return this.hub.metrics({
      rejected: this.checks.rejected,
      backpressured: this.backpressured,
      pendingSends: this.sends.size,
    });
  }

  /**
   * {@link EventBus.metrics} every `period` ms on the bus's scheduler, for dashboards. Completes
   * when the bus closes.
   *
   * @throws RangeError for a period that is not a positive finite number.
   */
  metrics$(period: number): Observable<BusMetrics> {
    checkPositiveNumber(period, 'EventBus.metrics$', 'period', false, ' of ms');
    return interval(period, this.scheduler).pipe(
      takeUntil(this.hub.closedSignal.pipe(filter(Boolean))),
      map(() => this.metrics()),
    );
  }

  /**
   * Stops the bus: `publish` and `send` throw `BusClosedError` from now on and pending sends
   * reject with it; every subscriber receives what it already holds (its queue drains at its own
   * pace, a subscriber reading the log reads up to the last frame), then completes; `events$`
   * completes. Idempotent.
   */
  close(): void {
    if (this.hub.isClosed) return;
    this.hub.close();
    this.sends.rejectAll(new BusClosedError());
  }

  // ---------------------------------------------------------------------------------------------

  /** Publishes a checked batch when every matching `'backpressure'` subscriber has room for it. */
  private stampAllIfRoom(events: readonly AgentEvent<P>[]): EventFrame<P>[] | undefined {
    if (this.hub.isClosed) throw new BusClosedError();
    let frames = this.sequencer.stampAll(events, this.hub.log.head + 1);
    if (this.hub.index.backpressureCount > 0) {
      const head = this.hub.log.head;
      for (let i = 0; i < frames.length; i++) {
        if (this.hub.fullFor(frames[i] as EventFrame<P>, i) !== undefined) return undefined;
      }
      // A room check calls user code (classify, where), which may have published meanwhile.
      if (this.hub.log.head !== head)
        frames = this.sequencer.stampAll(events, this.hub.log.head + 1);
    }
    for (const frame of frames) this.sequencer.commit(frame);
    this.hub.commitAll(frames);
    return frames;
  }

  /** The first frame of a batch that a `'backpressure'` subscriber has no room for, and who. */
  private fullForBatch(frames: EventFrame<P>[]): { event: AgentEvent<P>; ids: number[] } {
    for (let i = 0; i < frames.length; i++) {
      const ids = this.hub.fullFor(frames[i] as EventFrame<P>, i);
      if (ids !== undefined) return { event: frames[i] as EventFrame<P>, ids };
    }
    return { event: frames[0] as EventFrame<P>, ids: [] };
  }

  private commit(frame: EventFrame<P>): void {
    this.sequencer.commit(frame);
    this.hub.commit(frame);
  }
}

function checkArchive(archive: EventArchive | undefined): void {
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
}

function firstOf<F>(frames: F[]): F {
  return frames[0] as F;
}
