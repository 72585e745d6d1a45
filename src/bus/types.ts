/**
 * The vocabulary of the event bus: events, frames, filters, subscriber queues, metrics and the
 * archive interface.
 *
 * @packageDocumentation
 */
import type { ObservableInput, SchedulerLike } from 'rxjs';
import type { LatencyStats } from '../core/LatencyWindow.js';
import type { Classifier, OverflowNotice, OverflowPolicy } from '../core/types.js';
import type { BoundedQueueConfig } from '../operators/boundedQueue.js';
import type { MaxLag } from './LagGuard.js';

/**
 * Who may see an event. A subscriber at level `V` sees events of levels `<= V`, with
 * `'public' < 'internal' < 'private'`. An event without visibility is `'public'`; a filter
 * without visibility sees `'public'` events only.
 */
export type Visibility = 'public' | 'internal' | 'private';

/** What a producer publishes. Everything but `kind` is optional. */
export interface AgentEvent<P = unknown> {
  /** What happened, e.g. `'model.delta'`, `'tool.call'`, `'run.finished'`. Non-empty. */
  kind: string;
  /** The run the event belongs to. */
  runId?: string;
  /** The agent that produced the event. */
  agentId?: string;
  /** The lane (parallel sub-agent) within the run. Frames carry `'main'` when absent. */
  laneId?: string;
  /** Who may see the event. Default: `'public'`. */
  visibility?: Visibility;
  /** The event's data. The bus never copies or freezes it: do not mutate it once published. */
  payload?: P;
}

/**
 * A published event, stamped by the bus. Immutable: the bus never changes a frame once published
 * (and freezes it with the `freeze` option); what differs per subscriber (the `overflow` notice)
 * is put on a copy.
 */
export interface EventFrame<P = unknown> extends AgentEvent<P> {
  readonly kind: string;
  readonly runId?: string;
  readonly agentId?: string;
  /** The lane: the event's `laneId`, or `'main'`. */
  readonly laneId?: string;
  readonly visibility?: Visibility;
  readonly payload?: P;
  /** Global, dense from 1 across the bus: the cursor to resume from. */
  readonly seq: number;
  /** Dense from 1 per lane id, across the bus. */
  readonly laneSeq: number;
  /** `scheduler.now()` at publish. */
  readonly ts: number;
  /**
   * The gap this subscriber had just before this frame: frames it will never receive. Repair by
   * replaying from `overflow.fromSeq - 1` while history holds it.
   */
  readonly overflow?: OverflowNotice<EventFrame<P>>;
}

/**
 * Which frames a subscriber wants. Every given field must match. `runId`, `agentId` and
 * `laneId` are indexed: a publish only costs the subscribers whose ids can match.
 */
export interface EventFilter {
  /** Only frames of this run. Default: any run. */
  runId?: string;
  /** Only frames of this agent. Default: any agent. */
  agentId?: string;
  /** Only frames of this lane (`'main'` for events published without `laneId`). Default: any. */
  laneId?: string;
  /** Only frames of these kinds. Default: any kind. */
  kinds?: Iterable<string>;
  /** The highest visibility seen. Default: `'public'` (only public frames). */
  visibility?: Visibility;
  /**
   * A last test, run only on frames that passed the other fields. A throw errors that
   * subscriber's stream (never the bus). Default: none.
   */
  where?: (frame: EventFrame) => boolean;
}

/**
 * A subscriber's queue: `boundedQueue`'s options over frames (drain triggers included), plus the
 * `'backpressure'` policy only the bus offers: `publish` throws `BackpressureError` while this
 * subscriber has no room for a frame it matches, and `send` waits for room.
 *
 * `classify` defaults to the bus's classifier (so `terminalReserve` defaults to 1). The
 * `onOverflow` hook receives the same notice the next delivered frame carries (with
 * `fromSeq`/`toSeq`).
 */
export interface SubscriberQueue<P = unknown>
  extends Omit<BoundedQueueConfig<EventFrame<P>>, 'overflow'> {
  /** A queue policy, or `'backpressure'`. Required: there is no silent default. */
  overflow: OverflowPolicy<EventFrame<P>> | 'backpressure';
  /**
   * How far behind the subscriber may fall once caught up: `frames` pushed to it since it last
   * took one, and/or `ms`, the age (since publish, on the bus's scheduler) of the oldest frame
   * it holds. Beyond either, it errors at once with a `SlowConsumerError` whose `cursor`
   * (`epoch:seq`, the last frame it received) resumes it without loss. Not with `'backpressure'`,
   * which holds publishers back instead (refused at `select`). Default: no limit.
   */
  maxLag?: MaxLag;
}

/** Options of {@link EventBus.select} and {@link EventBus.iterate}. */
export interface SelectOptions<P = unknown> {
  /**
   * The cursor: replay matching frames with `seq > after` from history (and the archive), then go
   * live with no gap and no duplicate. Default: live frames only (published after subscribing).
   */
  after?: number;
  /**
   * The epoch the cursor came from (`bus.epoch` when it was saved). When it is not the bus's
   * epoch, the subscription errors with `EpochChangedError` instead of reading another log's seqs.
   * Default: not checked.
   */
  epoch?: string;
  /**
   * The subscriber's own bounded queue. Default for `select`: none (frames are delivered
   * synchronously as they are published). Default for `iterate`: `{ capacity: 1024, overflow:
   * 'drop-oldest' }`.
   */
  queue?: SubscriberQueue<P>;
  /** `iterate` only: ends the iteration when aborted (see `toAsyncIterable`). Default: none. */
  signal?: AbortSignal;
}

/** One subscriber, as {@link BusMetrics} reports it. */
export interface SubscriberMetrics {
  /** Unique per bus, increasing in subscription order. */
  id: number;
  /** The filter the subscriber gave. */
  filter: EventFilter;
  /** The subscriber's policy, `'none'` without a queue. */
  policy: string;
  /** Frames held in its queue now (a subscriber still reading the log holds none). */
  depth: number;
  /** The largest depth reached. */
  highWater: number;
  /**
   * Room for non-terminal frames in its queue: `capacity - terminalReserve` (the reserve is 1 by
   * default, since the bus classifies frames). 0 without a queue.
   */
  usableCapacity: number;
  /** Frames delivered to it. */
  delivered: number;
  /** Frames it lost to its queue's policy or to a cursor older than history. */
  dropped: number;
  /** Frames folded into others by `coalesce`. */
  merged: number;
  /**
   * How far behind it is, in seqs: while it reads the log, the head's seq minus the seq of the
   * last frame delivered to it; once caught up, the seq of the last frame it matched minus that
   * (0 = nothing waiting).
   */
  lag: number;
  /** Whether it is still reading history or the archive (behind the head). */
  replaying: boolean;
  /**
   * With `metrics: { latency: true }`: the age in ms (on the bus's scheduler) of the oldest frame
   * it has not received yet, 0 when it holds none. For a subscriber reading an archive, the age
   * of the oldest frame history holds (a lower bound).
   */
  lagMs?: number;
  /**
   * With `metrics: { latency: true }`: publish-to-delivery latency of its last deliveries (the
   * frame's `ts` to the moment it is handed to the subscriber), in ms.
   */
  latency?: LatencyStats;
}

/** A snapshot of the bus's counters. */
export interface BusMetrics {
  /** Frames published (the last seq). */
  published: number;
  /** Events refused by validation (`InvalidEventError`). */
  rejected: number;
  /** Publishes refused with `BackpressureError`. */
  backpressured: number;
  /** Sends waiting for room now. */
  pendingSends: number;
  /** Archive appends that threw or rejected. */
  archiveErrors: number;
  /** Frames published per kind. */
  byKind: Record<string, number>;
  /** Frames held in history now. */
  historySize: number;
  /** Every live subscriber of `select`/`iterate` (not `events$`). */
  subscribers: SubscriberMetrics[];
  /**
   * With `metrics: { latency: true }`: publish-to-delivery latency per kind, over the last
   * deliveries of frames of that kind to any subscriber, in ms.
   */
  latencyByKind?: Record<string, LatencyStats>;
}

/**
 * Longer-term storage the bus appends every frame to, used by `select`/`replay` for cursors older
 * than history. The bus reads it page by page, at each subscriber's pace: it subscribes to
 * `replay(filter, after, limit)`, takes one page of frames (`limit` of them at most) and
 * unsubscribes, then asks again after the last frame it got. `replay` may answer asynchronously;
 * live frames meanwhile stay in the log.
 */
export interface EventArchive {
  /** Stores a frame. A throw or rejection is counted in `metrics().archiveErrors`. */
  append(frame: EventFrame): void | Promise<void>;
  /**
   * The frames matching `filter` with `seq > after`, in seq order, then complete. `limit`, when
   * given, is the most frames the caller takes from this call: an archive that reads in batches
   * may stop reading there (and complete), rather than fetch frames that would be thrown away.
   * An archive that ignores it is correct too: the bus unsubscribes once it has its page.
   */
  replay(filter: EventFilter, after: number, limit?: number): ObservableInput<EventFrame>;
  /**
   * The seq of the oldest frame still held, or `undefined` when it holds everything since seq 1
   * or cannot tell. Lets the bus report a cursor older than the archive with a notice.
   */
  earliestSeq?(): number | undefined;
}

/** The options of an `EventBus`. */
export interface EventBusConfig<P = unknown> {
  /**
   * Frames kept in the history ring for replay: an integer from 0 to 2 ** 24 (16,777,216),
   * else a `RangeError` at creation. The ring is allocated as frames arrive (doubling up to this
   * size), not up front. Default: 10,000.
   */
  history?: number;
  /** Receives every frame, for replay beyond history. Default: none. */
  archive?: EventArchive;
  /**
   * Classifies frames for subscriber queues (terminal frames are never dropped) and for
   * `'backpressure'` (a terminal frame always has room). Default: `classifyAgentEvent`
   * (`run.finished`/`run.error`/`run.cancelled` terminal; `model.delta`/`usage`/`cost`/`stats`
   * progress).
   */
  classify?: Classifier<EventFrame<P>>;
  /**
   * Extra validation run on each event before it is stamped: throw to refuse it (a non-
   * `InvalidEventError` throw is wrapped in one). Default: none. See `rejectHiddenReasoning`.
   */
  validate?: (event: AgentEvent<P>) => void;
  /** Gives `ts` and drives `metrics$`. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * Freezes every frame (and notice) with `Object.freeze`, so that a subscriber that assigns to a
   * frame fails loudly instead of changing what the others see. Without it, frames are immutable
   * by contract: their fields are `readonly` in the types and the bus never changes a frame once
   * published (a subscriber's notice goes on a copy). Freezing costs about as much as the rest of
   * a publish (an `Object.freeze` call per frame), so it is off unless asked for: turn it on in
   * development or for untyped code. Default: `false`.
   */
  freeze?: boolean;
  /**
   * Measurements in time, off by default (they read the scheduler's clock on every delivery):
   * `latency: true` adds `lagMs` and `latency` (p50, p99, max, mean) to each subscriber's metrics
   * and `latencyByKind` to the bus's, each over the last `window` deliveries (default 1,024).
   * Default: none.
   */
  metrics?: BusMetricsConfig;
}

/** The `metrics` option of a bus. */
export interface BusMetricsConfig {
  /** Measure delivery latency and lag in ms. Default `false`. */
  latency?: boolean;
  /** Deliveries each latency figure is over: a positive integer. Default 1,024. */
  window?: number;
}
