import type { SchedulerLike } from 'rxjs';
import type { BusSubscriber } from './BusSubscriber.js';
import type { EventLog } from './EventLog.js';
import type { LatencyMetrics } from './LatencyMetrics.js';

/** What a subscriber needs from its bus. */
export interface SubscriberHost<P> {
  readonly log: EventLog<P>;
  readonly freeze: boolean;
  /** Latency measurements, when on. */
  readonly latency: LatencyMetrics | undefined;
  /** The bus's clock (frames' `ts`), for `maxLag`. */
  readonly scheduler: SchedulerLike;
  /** The log's epoch, for the resume cursor of a subscriber let go. */
  readonly epoch: string;
  /** Frames committed but not yet handed to subscribers (published from inside a delivery). */
  readonly undispatched: number;
  /** The subscriber stops receiving frames (it ended, failed, or left). */
  detach(subscriber: BusSubscriber<P>): void;
  /** A `'backpressure'` subscriber took a frame or caught up: waiting sends may fit now. */
  roomChanged(): void;
}

/** Where a subscription starts: its cursor, and whether it follows the head or stops. */
export interface SubscriberStart {
  /** Read the log after this seq first (`undefined`: live frames only). */
  after: number | undefined;
  /** Stop after this seq and complete (`replay`); `undefined`: go live. */
  end: number | undefined;
  /** Report frames the log no longer holds (a cursor was given). */
  reportGaps: boolean;
}
