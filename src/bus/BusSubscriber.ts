import type { Subscriber } from 'rxjs';
import { formatCursor } from '../core/cursor.js';
import type { LatencyWindow } from '../core/LatencyWindow.js';
import { combineNotices } from '../core/notices.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import { SlowConsumerError } from '../core/SlowConsumerError.js';
import { type OverflowNotice, QueueOverflowError } from '../core/types.js';
import { DrainEngine, type DrainSink, type PushQueue } from '../internal/DrainEngine.js';
import type { CompiledFilter } from './filter.js';
import { GapNotices, inSeqOrder } from './GapNotices.js';
import { LagGuard } from './LagGuard.js';
import type { LatencyMetrics } from './LatencyMetrics.js';
import { LogReader } from './LogReader.js';
import type { SubscriberBucket } from './SubscriberBucket.js';
import type { SubscriberHost, SubscriberStart } from './SubscriberHost.js';
import { type QueuePlan, watchMerges } from './subscriberOptions.js';
import type { EventFilter, EventFrame, SubscriberMetrics } from './types.js';

type Notice<P> = OverflowNotice<EventFrame<P>>;

/**
 * One subscription to the bus, on the drain engine. Behind the head it reads the log (a
 * {@link LogReader}) at its own pace; caught up, it is pushed each matching frame, into its
 * queue when it has one (`select`'s `queue`) or straight to its subscriber. Its engine's queue is
 * the reader, then the queue; its engine's sink puts each gap on the next frame delivered.
 */
export class BusSubscriber<P>
  implements PushQueue<EventFrame<P>, Notice<P>>, DrainSink<EventFrame<P>, Notice<P>>
{
  // Fields in the order a pushed frame reads them, first on the path every publish takes: the
  // cursor, the filter (minus the field the subscriber's bucket already guarantees: a
  // run-indexed subscriber only sees frames of its run), then what a delivery touches. V8 lays
  // an object's fields out in the order they are created, so these share the first cache lines.
  /**
   * Pushed frames with `seq <= cursor` are not for it: those it read from the log, or all of them
   * (`Infinity`) while it reads the log and once it ended. One comparison per frame and
   * subscriber, on the path every publish takes.
   */
  cursor: number;
  runId: string | undefined;
  agentId: string | undefined;
  laneId: string | undefined;
  readonly level: number;
  readonly kinds: ReadonlySet<string> | undefined;
  readonly where: ((frame: EventFrame) => boolean) | undefined;
  private readonly queue: OverflowQueue<EventFrame<P>> | undefined;
  private lastMatchedSeq: number;
  /** The gap to put on the next delivered frame. */
  private pendingNotice: Notice<P> | undefined;
  private delivered = 0;
  private lastDeliveredSeq: number;
  /** Its delivery latencies, when measured. */
  private readonly latency: LatencyWindow | undefined;
  private readonly out: Subscriber<EventFrame<P>>;
  /** Behind the head: reading the log, not pushed to. */
  reading: boolean;
  ended = false;
  bucket: SubscriberBucket<BusSubscriber<P>> | undefined;
  /** The index the bucket is in (absent for the wildcard bucket). */
  bucketMap: Map<string, SubscriberBucket<BusSubscriber<P>>> | undefined;
  readonly engine: DrainEngine<EventFrame<P>, Notice<P>>;
  /** A `replay`: it ends once it read up to its end. */
  private readonly finite: boolean;
  private readonly reader: LogReader<P> | undefined;
  /** The frame the reader found, waiting for the engine to take it. */
  private lookahead: EventFrame<P> | undefined;
  /** Its gaps, as notices with seq ranges. */
  private readonly notices = new GapNotices<P>();
  /** Its `maxLag`, when limited. */
  private readonly lagGuard: LagGuard | undefined;

  constructor(
    readonly id: number,
    readonly filter: CompiledFilter,
    out: Subscriber<EventFrame<P>>,
    readonly plan: QueuePlan<P> | undefined,
    private readonly host: SubscriberHost<P>,
    start: SubscriberStart,
  ) {
    this.runId = filter.runId;
    this.agentId = filter.agentId;
    this.laneId = filter.laneId;
    this.kinds = filter.kinds;
    this.level = filter.level;
    this.where = filter.where;
    this.out = out;
    const head = host.log.head;
    const { after, end } = start;
    this.lastMatchedSeq = this.lastDeliveredSeq = after ?? head;
    this.latency = host.latency?.subscriberWindow();
    if (plan !== undefined) {
      const overflow = watchMerges(plan.queue.overflow, (queued, incoming) => {
        this.notices.noteMerged(queued.seq);
        this.notices.noteMerged(incoming.seq);
      });
      const queue = new OverflowQueue({ ...plan.queue, overflow });
      this.queue = queue;
      plan.inspect?.(() => queue.stats());
      if (plan.maxLag !== undefined) {
        this.lagGuard = new LagGuard(
          plan.maxLag,
          host.scheduler,
          () => queue.peek()?.ts,
          (lagFrames, lagMs) => this.letGo(lagFrames, lagMs),
        );
      }
    }
    this.reading = after !== undefined && after < (end ?? head);
    this.cursor = this.reading ? Number.POSITIVE_INFINITY : head;
    if (this.reading) {
      this.reader = new LogReader(
        host.log,
        filter,
        after as number,
        end,
        start.reportGaps,
        host.freeze,
        () => this.engine.request(),
      );
    }
    this.engine = new DrainEngine<EventFrame<P>, Notice<P>>(this, this, {
      schedule: plan?.schedule ?? 'now',
      credits: plan === undefined ? Number.POSITIVE_INFINITY : plan.initialDemand,
      stopSource: () => host.detach(this),
      settled: () => !this.reading,
    });
    this.finite = end !== undefined;
  }

  /** Starts reading the log (a cursor behind the head); a finite replay ends once read. */
  begin(): void {
    if (this.finite) this.engine.complete();
    else if (this.reading) this.engine.request();
  }

  // --- pushed by the bus, once caught up ---------------------------------------------------

  /** A live frame that matches (the index checked `seq > cursor` and the filter). */
  offer(frame: EventFrame<P>): void {
    this.lastMatchedSeq = frame.seq;
    if (this.queue === undefined) this.emit(frame);
    else {
      this.engine.accept(frame);
      this.lagGuard?.arrivedOne();
    }
  }

  /**
   * Whether a `'backpressure'` subscriber has room for a frame it matches, after `ahead` frames
   * stamped before it that are not counted anywhere yet (a batch's).
   */
  hasRoomFor(frame: EventFrame<P>, ahead: number): boolean {
    const plan = this.plan as QueuePlan<P>;
    if (this.ended) return true;
    try {
      if (plan.classify(frame) === 'terminal') return true;
    } catch {
      // Its stream errors when the frame is pushed: it holds nothing back.
      return true;
    }
    if (this.reading) {
      // What it has not read yet is in the log (committed frames count from there).
      return this.host.log.head + ahead - (this.reader as LogReader<P>).cursor < plan.capacity;
    }
    // Frames published from inside a delivery are not in its queue yet, but will be.
    const pending = this.host.undispatched + ahead;
    const queue = this.queue as OverflowQueue<EventFrame<P>>;
    return (
      queue.size + pending < plan.capacity &&
      queue.nonTerminalSize + pending < plan.nonTerminalCapacity
    );
  }

  /**
   * Frames `fromSeq..toSeq` will never reach it (its bus skipped them): reported at once
   * (`onOverflow`, metrics), and on the first frame after them: frames it still queues from
   * before the gap go first, without the notice.
   */
  lost(fromSeq: number, toSeq: number): void {
    if (this.ended || toSeq < fromSeq) return;
    const notice = this.notices.logGap({ fromSeq, toSeq, dropped: toSeq - fromSeq + 1 });
    try {
      if (this.queue === undefined || (this.queue.isEmpty && !this.notices.deferring)) {
        this.reportGap(notice);
      } else {
        this.notices.defer(notice);
        this.plan?.onOverflow?.(notice);
      }
    } catch (error) {
      this.engine.fail(error);
    }
  }

  /** The bus closed: deliver what is held, then complete. */
  end(): void {
    this.engine.complete();
  }

  /** A throwing `where` on a pushed frame: the frames already queued go first. */
  stop(error: unknown): void {
    this.engine.stop(error);
  }

  /** The subscriber left. */
  dispose(): void {
    this.lagGuard?.dispose();
    this.ended = true;
    this.cursor = Number.POSITIVE_INFINITY;
    this.engine.dispose();
  }

  // --- the engine's queue: the reader while behind, then the queue -------------------------

  get isEmpty(): boolean {
    if (this.reading && this.lookahead === undefined && !this.read()) return true;
    if (this.lookahead !== undefined) return false;
    return this.queue === undefined || this.queue.isEmpty;
  }

  /** What one batch (a flush tick, a scheduled task) takes: behind the head, a queue's worth. */
  get size(): number {
    if (this.reading) return this.plan?.capacity ?? Number.POSITIVE_INFINITY;
    return (this.lookahead === undefined ? 0 : 1) + (this.queue?.size ?? 0);
  }

  shift(): EventFrame<P> {
    let frame = this.lookahead;
    if (frame !== undefined) this.lookahead = undefined;
    else frame = (this.queue as OverflowQueue<EventFrame<P>>).shift();
    // The log gaps before it go on it (already reported through onOverflow when met).
    if (this.notices.deferring) {
      this.pendingNotice = inSeqOrder(this.pendingNotice, this.notices.takeDeferred(frame.seq));
    }
    return frame;
  }

  takeNotice(): Notice<P> | undefined {
    const gap = this.reader?.takeGap();
    const notice = gap === undefined ? undefined : this.notices.logGap(gap);
    const queued = this.queue?.takeNotice();
    if (queued === undefined) return notice;
    const busNotice = this.notices.fromQueue(queued);
    return notice === undefined ? busNotice : combineNotices(notice, busNotice);
  }

  push(frame: EventFrame<P>) {
    return (this.queue as OverflowQueue<EventFrame<P>>).push(frame);
  }

  overflowError(frame: EventFrame<P>): Error {
    const error = (this.queue as OverflowQueue<EventFrame<P>>).overflowError(frame);
    const notice = { ...error.notice, fromSeq: frame.seq, toSeq: frame.seq };
    return new QueueOverflowError(notice, this.capacity);
  }

  clear(): void {
    this.lookahead = undefined;
    this.reader?.dispose();
    this.queue?.clear();
  }

  // --- the engine's sink ---------------------------------------------------------------------

  get closed(): boolean {
    return this.out.closed;
  }

  deliver(frame: EventFrame<P>): void {
    // A coalesced frame is the merge function's new object.
    if (this.host.freeze && !Object.isFrozen(frame)) Object.freeze(frame);
    this.lagGuard?.delivered();
    this.emit(frame);
    if (this.plan?.backpressure === true) this.host.roomChanged();
  }

  reportGap(notice: Notice<P>): void {
    this.pendingNotice = inSeqOrder(this.pendingNotice, notice);
    // A throw here errors the subscriber's stream (boundedQueue's contract for onOverflow).
    this.plan?.onOverflow?.(notice);
  }

  complete(): void {
    const rest = this.notices.takeDeferred(Number.POSITIVE_INFINITY);
    this.pendingNotice = inSeqOrder(this.pendingNotice, rest);
    const notice = this.pendingNotice;
    // A stream that ends on a gap nothing followed, and that no `onOverflow` heard of, does not
    // complete as if nothing were lost: it errors with the notice.
    if (notice !== undefined && this.plan?.onOverflow === undefined) {
      this.out.error(new QueueOverflowError(notice));
    } else this.out.complete();
  }

  error(error: unknown): void {
    this.out.error(error);
  }

  // -------------------------------------------------------------------------------------------

  /** Counters, for `metrics()`. */
  metrics(): SubscriberMetrics {
    const stats = this.queue?.stats();
    const lag = this.reading
      ? this.host.log.head - this.lastDeliveredSeq
      : this.lookahead === undefined && (this.queue === undefined || this.queue.isEmpty)
        ? 0
        : this.lastMatchedSeq - this.lastDeliveredSeq;
    const metrics: SubscriberMetrics = {
      id: this.id,
      filter: this.filter.source,
      policy: this.plan === undefined ? 'none' : this.plan.policy,
      depth: stats?.depth ?? 0,
      highWater: stats?.highWater ?? 0,
      usableCapacity: this.plan?.nonTerminalCapacity ?? 0,
      delivered: this.delivered,
      dropped: this.notices.logDropped + (stats?.dropped ?? 0),
      merged: stats?.merged ?? 0,
      lag: Math.max(0, lag),
      replaying: this.reading,
    };
    if (this.latency !== undefined) {
      metrics.lagMs = this.lagMs();
      metrics.latency = this.latency.stats();
    }
    return metrics;
  }

  /** The age of the oldest frame it has not received yet (0: none). */
  private lagMs(): number {
    let oldest = this.lookahead ?? this.queue?.peek();
    if (oldest === undefined && this.reading) {
      const { history } = this.host.log;
      const next = (this.reader as LogReader<P>).cursor + 1;
      oldest = history.get(Math.max(next, history.oldestSeq));
    }
    if (oldest === undefined) return 0;
    return Math.max(0, (this.host.latency as LatencyMetrics).now() - oldest.ts);
  }

  get source(): EventFilter {
    return this.filter.source;
  }

  private get capacity(): number {
    return this.plan?.capacity ?? 0;
  }

  /** Fell behind its `maxLag`: errors at once with where to resume from. */
  private letGo(lagFrames: number, lagMs: number): void {
    const cursor = formatCursor(this.host.epoch, this.lastDeliveredSeq);
    this.engine.fail(new SlowConsumerError(cursor, lagFrames, lagMs));
  }

  /** Reads the next frame from the log; `false` when there is none now. */
  private read(): boolean {
    const reader = this.reader as LogReader<P>;
    const frame = reader.next();
    if (frame !== undefined) {
      this.lookahead = frame;
      this.lastMatchedSeq = frame.seq;
      return true;
    }
    if (reader.failure !== undefined) {
      this.reading = false;
      this.engine.stop(reader.failure.error);
      return false;
    }
    if (!reader.caughtUp) return false;
    // Caught up: from now on the bus pushes frames after the reader's cursor.
    this.reading = false;
    this.cursor = reader.cursor;
    const gap = reader.takeGap();
    // Reported now, not when a frame comes: a subscriber that lost frames does not wait silently.
    if (gap !== undefined) this.reportGap(this.notices.logGap(gap));
    if (this.plan?.backpressure === true) this.host.roomChanged();
    return this.queue !== undefined && !this.queue.isEmpty;
  }

  private emit(frame: EventFrame<P>): void {
    const notice = this.pendingNotice;
    if (notice !== undefined) {
      this.pendingNotice = undefined;
      frame = { ...frame, overflow: notice };
      if (this.host.freeze) {
        Object.freeze(notice);
        Object.freeze(frame);
      }
    }
    this.delivered++;
    if (frame.seq > this.lastDeliveredSeq) this.lastDeliveredSeq = frame.seq;
    if (this.latency !== undefined) this.host.latency?.record(frame, this.latency);
    this.out.next(frame);
  }
}
