import { defer, type Observable } from 'rxjs';
import { EventBus } from '../bus/EventBus.js';
import type {
  AgentEvent,
  EventBusConfig,
  EventFilter,
  EventFrame,
  SelectOptions,
} from '../bus/types.js';

/**
 * The in-memory `EventBus`, fed with frames that Redis stamped: the Redis bus reuses its whole
 * per-subscriber machinery (filters, indexes, queues and policies, notices, metrics,
 * replay-then-live) through the hooks `EventBus` keeps for buses whose frames are stamped
 * elsewhere, and makes them public to itself here. See docs/redis.md, "Reusing the in-memory
 * bus".
 */
export class LocalBus<P> extends EventBus<P> {
  /**
   * @param startAfter - the seq of "now" when the bus starts (the next frame is `startAfter + 1`).
   * @param onListen - called synchronously at each subscription of `select` (and so `iterate`)
   *   and `replay`, before the subscriber attaches: the Redis bus brings "now" up to date there.
   */
  constructor(
    config: EventBusConfig<P>,
    startAfter: number,
    private readonly onListen: () => void,
  ) {
    super(config);
    this.restartAt(startAfter);
  }

  override select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>> {
    const selected = super.select(filter, options);
    return defer(() => {
      this.onListen();
      return selected;
    });
  }

  override replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    const replayed = super.replay(filter, after);
    return defer(() => {
      this.onListen();
      return replayed;
    });
  }

  /** Runs the bus's own event checks (and `validate`), counting refusals in `metrics().rejected`. */
  override validateEvent(event: AgentEvent<P>): void {
    super.validateEvent(event);
  }

  override get hasListeners(): boolean {
    return super.hasListeners;
  }

  /**
   * Moves the cursor of "now" to `seq` without a frame: for a process nobody listens to, which
   * need not decode frames (its history restarts empty; older cursors replay from Redis).
   */
  skipTo(seq: number): void {
    if (seq > this.lastSeq && !this.isClosed) this.restartAt(seq);
  }

  override isHeldBack(frame: EventFrame<P>): boolean {
    return super.isHeldBack(frame);
  }

  override ingest(frame: EventFrame<P>): void {
    super.ingest(frame);
  }
}
