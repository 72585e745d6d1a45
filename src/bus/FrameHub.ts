import {
  asyncScheduler,
  BehaviorSubject,
  type Observable,
  Observable as RxObservable,
  type SchedulerLike,
  Subject,
  type Subscriber,
} from 'rxjs';
import { describe } from '../core/checks.js';
import type { DrainEngine } from '../internal/DrainEngine.js';
import { subscribeTriggers, TriggerRelay } from '../internal/queueTriggers.js';
import { BusSubscriber } from './BusSubscriber.js';
import { EventLog } from './EventLog.js';
import { EpochChangedError } from './errors.js';
import type { CompiledFilter } from './filter.js';
import { createFrame } from './frame.js';
import { KindTally } from './KindTally.js';
import type { LatencyMetrics } from './LatencyMetrics.js';
import type { SubscriberHost } from './SubscriberHost.js';
import { SubscriberIndex } from './SubscriberIndex.js';
import type { QueuePlan } from './subscriberOptions.js';
import type { BusMetrics, EventArchive, EventFrame } from './types.js';

/** The options of a {@link FrameHub}. */
export interface FrameHubConfig {
  /** Frames kept in the history ring. */
  history: number;
  /** The archive older frames are read from. */
  archive: EventArchive | undefined;
  /** Whether committed frames are appended to the archive (not when it already holds them). */
  appendToArchive: boolean;
  /** Freeze frames and notices handed out. */
  freeze: boolean;
  /** The log's epoch (see `EventBus.epoch`). */
  epoch: string;
  /** Called at each subscription, before it starts (a transport brings "now" up to date). */
  onListen?: (() => void) | undefined;
  /**
   * For a log whose head here may lag the log itself (Redis: the head moves only while someone
   * here listens): called for a cursor beyond the head, before it is judged; resolves once the
   * head is up to the cursor, or once the log is known not to reach it (then it is refused).
   * Without it, such a cursor is refused at once.
   */
  reachCursor?: ((after: number) => Promise<void>) | undefined;
  /** Latency measurements (`metrics: { latency: true }`), when on. */
  latency?: LatencyMetrics | undefined;
  /** The clock frames are stamped with (`maxLag` measures ages on it). Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/** Where a subscription starts: a cursor, and the epoch it came from. */
export interface Cursor {
  after: number | undefined;
  epoch: string | undefined;
}

/** A random id for a new log (not a secret: it tells logs apart). */
export function newEpoch(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID().replace(/-/g, '').slice(0, 16);
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/** The counters of a bus's publishing side, for {@link FrameHub.metrics}. */
export interface PublishCounters {
  rejected: number;
  backpressured: number;
  pendingSends: number;
}

/**
 * The subscriber side of a bus: frames come in stamped, in seq order (`commit`, or `ingest` for
 * frames stamped elsewhere, such as by Redis); it keeps the log, pushes each frame to the
 * caught-up subscribers it matches (through the index), lets subscribers behind the head read the
 * log, and holds frames published from inside a delivery until the running delivery is over, so
 * that every subscriber receives frames in seq order. Every bus (in memory, Redis) is a facade
 * over one.
 *
 * @internal
 */
export class FrameHub<P> implements SubscriberHost<P> {
  /** Builds a frame stamped elsewhere (by a transport such as Redis). */
  static readonly createFrame = createFrame;
  readonly log: EventLog<P>;
  readonly freeze: boolean;
  /** The log's epoch: a cursor from another epoch is refused. */
  epoch: string;
  readonly index = new SubscriberIndex<P>();
  readonly byKind = new KindTally();
  /** Every live frame, hot (a new subject after an epoch change errored the old one). */
  live = new Subject<EventFrame<P>>();
  /** Emits `true` once the hub closed (for `metrics$`). */
  readonly closedSignal = new BehaviorSubject<boolean>(false);
  /** Called when a `'backpressure'` subscriber may have room again (the sends wait for it). */
  onRoom: (() => void) | undefined;
  private closed = false;
  private nextId = 1;
  private dispatching = false;
  private readonly pending: Array<EventFrame<P> | undefined> = [];
  private pendingHead = 0;
  private readonly onListen: (() => void) | undefined;
  private readonly reachCursor: ((after: number) => Promise<void>) | undefined;
  readonly latency: LatencyMetrics | undefined;
  readonly scheduler: SchedulerLike;

  constructor(config: FrameHubConfig) {
    this.log = new EventLog<P>(config.history, config.archive, config.appendToArchive);
    this.freeze = config.freeze;
    this.epoch = config.epoch;
    this.onListen = config.onListen;
    this.reachCursor = config.reachCursor;
    this.latency = config.latency;
    this.scheduler = config.scheduler ?? asyncScheduler;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get undispatched(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Whether anyone listens: a `select`, `iterate` or `replay` subscriber, or the live stream. */
  get hasListeners(): boolean {
    return this.index.size > 0 || this.live.observed;
  }

  /**
   * The ids of the `'backpressure'` subscribers with no room for `frame`, if any; `ahead`: frames
   * of the same batch stamped before it.
   */
  fullFor(frame: EventFrame<P>, ahead = 0): number[] | undefined {
    return this.index.backpressureCount === 0 ? undefined : this.index.fullFor(frame, ahead);
  }

  /** Makes a stamped frame (seq `head + 1`) the newest and hands it to the subscribers. */
  commit(frame: EventFrame<P>): void {
    if (this.freeze) Object.freeze(frame);
    this.log.append(frame);
    this.byKind.add(frame.kind);
    this.dispatch(frame);
  }

  /**
   * Makes stamped frames (consecutive seqs from `head + 1`) the newest, and hands them to the
   * subscribers in one pass, after the delivery running now if there is one.
   */
  commitAll(frames: readonly EventFrame<P>[]): void {
    for (const frame of frames) {
      if (this.freeze) Object.freeze(frame);
      this.log.append(frame);
      this.byKind.add(frame.kind);
      this.pending.push(frame);
    }
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      this.deliverPending();
    } finally {
      this.dispatching = false;
    }
    if (this.closed) this.endAll();
  }

  /**
   * Commits a frame stamped elsewhere. A frame at or below the head is a repeat and is ignored.
   * A seq jump means frames this hub will never hold: each caught-up subscriber gets a
   * `'drop-oldest'` notice for the missing range, and the history restarts at this frame, so it
   * never holds a gap (subscribers still reading find those frames in the archive). Ignored after
   * close.
   *
   * @throws TypeError for a frame whose seq is not a positive integer.
   */
  ingest(frame: EventFrame<P>): void {
    if (
      frame === null ||
      typeof frame !== 'object' ||
      !Number.isInteger(frame.seq) ||
      frame.seq < 1
    ) {
      throw new TypeError(
        `FrameHub.ingest: a frame needs a positive integer seq, got ${describe(frame)}`,
      );
    }
    const head = this.log.head;
    if (this.closed || frame.seq <= head) return;
    if (frame.seq > head + 1) {
      for (const subscriber of [...this.index.all]) {
        if (!subscriber.reading) subscriber.lost(head + 1, frame.seq - 1);
      }
      this.log.restartAt(frame.seq - 1);
    }
    this.commit(frame);
  }

  /**
   * The log went backwards or was replaced (a transport found it so): from now on it is epoch
   * `epoch`, whose newest seq is `head`. Every subscriber, and the live stream, error with an
   * `EpochChangedError` (old epoch, new epoch, the last seq of the old one here), after the
   * frames already in their queues (one still reading the log errors at once); the history restarts empty at `head`; cursors of the old epoch are
   * refused from now on. Nothing is done for the epoch in force, or after close.
   */
  changeEpoch(epoch: string, head: number): void {
    if (this.closed || epoch === this.epoch) return;
    const error = new EpochChangedError(this.epoch, epoch, this.log.head);
    this.epoch = epoch;
    this.log.restartAt(head);
    for (const subscriber of [...this.index.all]) {
      // One reading the log would read on into the new epoch: it errors at once.
      if (subscriber.reading) subscriber.engine.fail(error);
      else subscriber.stop(error);
    }
    const live = this.live;
    this.live = new Subject<EventFrame<P>>();
    live.error(error);
  }

  /** Moves the head to `seq` without a frame (nobody here needs what lies between). */
  skipTo(seq: number): void {
    if (seq > this.log.head && !this.closed) this.log.restartAt(seq);
  }

  /**
   * Frames matching `filter`: with `after`, those the log holds after it first (read at the
   * subscriber's pace), then live ones; through the subscriber's queue when `plan` is given.
   */
  select(
    filter: CompiledFilter,
    cursor: Cursor,
    plan: QueuePlan<P> | undefined,
    owner: string,
  ): Observable<EventFrame<P>> {
    return new RxObservable<EventFrame<P>>((out) => {
      // Subscribed at once: what they grant while the cursor is being reached is kept.
      const triggers = plan === undefined ? undefined : new TriggerRelay();
      if (plan !== undefined)
        subscribeTriggers(triggers as TriggerRelay, out, plan.triggers, `${owner} queue`);
      if (out.closed) return;
      this.whenCursorHeld(cursor, owner, out, () => {
        const subscriber = new BusSubscriber<P>(this.nextId++, filter, out, plan, this, {
          after: cursor.after,
          end: undefined,
          reportGaps: true,
        });
        out.add(() => {
          this.detach(subscriber);
          subscriber.dispose();
        });
        triggers?.attach(subscriber.engine as DrainEngine<unknown, unknown>);
        if (out.closed) return;
        this.index.add(subscriber);
        subscriber.begin();
        if (this.closed) subscriber.end();
      });
    });
  }

  /** The frames matching `filter` after `after` that the log holds now, then complete. */
  replay(filter: CompiledFilter, after: number | undefined, owner: string) {
    return new RxObservable<EventFrame<P>>((out) =>
      this.whenCursorHeld({ after, epoch: undefined }, owner, out, () => {
        const subscriber = new BusSubscriber<P>(0, filter, out, undefined, this, {
          after: after ?? 0,
          end: this.log.head,
          reportGaps: after !== undefined,
        });
        out.add(() => subscriber.dispose());
        subscriber.begin();
      }),
    );
  }

  /**
   * Starts a subscription once its cursor is judged: at once, or, for a cursor beyond the head
   * on a log that can bring its head up (`reachCursor`), once it did. Each start tells the
   * transport someone listens first.
   */
  private whenCursorHeld(
    cursor: Cursor,
    owner: string,
    out: Subscriber<EventFrame<P>>,
    start: () => void,
  ): void {
    const { after, epoch } = cursor;
    const begin = (): void => {
      if (out.closed) return;
      this.onListen?.();
      if (this.checkCursor(cursor, owner, out)) start();
    };
    const reach = this.reachCursor;
    const otherEpoch = epoch !== undefined && epoch !== this.epoch;
    if (reach === undefined || after === undefined || after <= this.log.head || otherEpoch) {
      begin();
      return;
    }
    reach(after).then(begin, (error: unknown) => out.error(error));
  }

  detach(subscriber: BusSubscriber<P>): void {
    if (this.index.delete(subscriber) && subscriber.plan?.backpressure === true) this.roomChanged();
  }

  roomChanged(): void {
    this.onRoom?.();
  }

  /** The counters: the publishing side's (given), the log's, and each subscriber's. */
  metrics(counters: PublishCounters): BusMetrics {
    const subscribers = [];
    for (const subscriber of this.index.all) subscribers.push(subscriber.metrics());
    const metrics: BusMetrics = {
      published: this.log.head,
      rejected: counters.rejected,
      backpressured: counters.backpressured,
      pendingSends: counters.pendingSends,
      archiveErrors: this.log.archiveErrors,
      byKind: this.byKind.toRecord(),
      historySize: this.log.history.size,
      subscribers,
    };
    if (this.latency !== undefined) metrics.latencyByKind = this.latency.latencyByKind();
    return metrics;
  }

  /**
   * Ends every subscriber once it received what it holds, and the live stream. Frames accepted
   * before are first handed to everyone: a close from inside a delivery takes effect after it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.dispatching) this.endAll();
  }

  /** A cursor from another epoch, or beyond the head, would skip frames silently: refused. */
  private checkCursor(
    { after, epoch }: Cursor,
    owner: string,
    out: { error(error: unknown): void },
  ): boolean {
    if (epoch !== undefined && epoch !== this.epoch) {
      out.error(new EpochChangedError(epoch, this.epoch, after));
      return false;
    }
    const head = this.log.head;
    if (after === undefined || after <= head) return true;
    out.error(
      new RangeError(
        `${owner}: after ${after} is beyond the head of the bus (its last seq is ${head}); a cursor from another bus or stream?`,
      ),
    );
    return false;
  }

  /** Hands a frame to everyone, or holds it while a delivery runs (re-entrance). */
  private dispatch(frame: EventFrame<P>): void {
    if (this.dispatching) {
      this.pending.push(frame);
      return;
    }
    this.dispatching = true;
    try {
      this.deliver(frame);
      if (this.pending.length > 0) this.deliverPending();
    } finally {
      this.dispatching = false;
    }
    if (this.closed) this.endAll();
  }

  private deliver(frame: EventFrame<P>): void {
    if (this.index.size > 0) this.index.deliver(frame);
    if (this.live.observed) this.live.next(frame);
  }

  /** Delivers the frames published during a delivery, in seq order. */
  private deliverPending(): void {
    try {
      while (this.pendingHead < this.pending.length) {
        const next = this.pending[this.pendingHead] as EventFrame<P>;
        this.pending[this.pendingHead++] = undefined;
        this.deliver(next);
      }
    } finally {
      this.pending.length = 0;
      this.pendingHead = 0;
    }
  }

  private endAll(): void {
    for (const subscriber of [...this.index.all]) subscriber.end();
    if (!this.closedSignal.value) {
      this.live.complete();
      // Not completed: a metrics$ subscribed after close must still see `true` and end at once.
      this.closedSignal.next(true);
    }
  }
}
