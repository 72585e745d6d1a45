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
 * The members of the in-memory `EventBus` that the Redis bus drives directly. They are
 * TypeScript-private, not `#private`, so they exist at run time; {@link LocalBus} checks they are
 * there at construction and fails loudly if the in-memory bus changed shape (a spec covers it).
 *
 * Why: the Redis bus reuses the in-memory bus's whole per-subscriber machinery (filters, indexes,
 * queues and policies, notices, metrics, replay-then-live) and only needs to commit frames that
 * Redis stamped instead of stamping them itself. See docs/redis.md, "Reusing the in-memory bus".
 */
interface EventBusInternals<P> {
  seq: number;
  closed: boolean;
  history: { count: number; newest: number; readonly capacity: number };
  states: Set<SubscriberInternals>;
  live: { readonly observed: boolean };
  backpressureSubscribers: number;
  check(event: AgentEvent<P>): void;
  commit(frame: EventFrame<P>): void;
  fullSubscribers(frame: EventFrame<P>): number[] | undefined;
  recordHistoryGap(state: SubscriberInternals, fromSeq: number, toSeq: number): void;
}

interface SubscriberInternals {
  ended: boolean;
  replaying: boolean;
}

const REQUIRED_METHODS = ['check', 'commit', 'fullSubscribers', 'recordHistoryGap'] as const;

/**
 * An in-memory `EventBus` whose frames are stamped elsewhere (by Redis): `ingest` commits an
 * already-stamped frame to history, subscribers, `events$` and metrics exactly as `publish` would
 * have, minus the stamping and the archive append.
 */
export class LocalBus<P> extends EventBus<P> {
  private readonly internals: EventBusInternals<P>;

  /**
   * @param onListen - called synchronously at each subscription of `select` (and so `iterate`)
   *   and `replay`, before the subscriber attaches: the Redis bus brings "now" up to date there.
   */
  constructor(
    config: EventBusConfig<P>,
    startAfter: number,
    private readonly onListen: () => void,
  ) {
    super(config);
    const internals = this as unknown as EventBusInternals<P>;
    for (const name of REQUIRED_METHODS) {
      if (typeof internals[name] !== 'function') {
        throw new Error(
          `rxjs-backpressure/redis: EventBus.${name} is missing: the core and the redis entry point disagree`,
        );
      }
    }
    if (
      typeof internals.seq !== 'number' ||
      !(internals.states instanceof Set) ||
      typeof internals.live?.observed !== 'boolean' ||
      typeof internals.history?.newest !== 'number'
    ) {
      throw new Error(
        'rxjs-backpressure/redis: EventBus internals changed: the core and the redis entry point disagree',
      );
    }
    this.internals = internals;
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
  checkEvent(event: AgentEvent<P>): void {
    this.internals.check(event);
  }

  /** Whether anyone listens (a `select`/`iterate`/`replay` subscriber, or `events$`). */
  get hasListeners(): boolean {
    return this.internals.states.size > 0 || this.internals.live.observed;
  }

  /**
   * Moves the cursor of "now" to `seq` without a frame: for a process nobody listens to, which
   * need not decode frames (its history restarts empty; older cursors replay from Redis).
   */
  skipTo(seq: number): void {
    if (seq > this.internals.seq && !this.internals.closed) this.restartAt(seq);
  }

  /** Whether a `'backpressure'` subscriber has no room for this frame now. */
  isHeldBack(frame: EventFrame<P>): boolean {
    return (
      this.internals.backpressureSubscribers > 0 &&
      this.internals.fullSubscribers(frame) !== undefined
    );
  }

  /**
   * Commits a frame stamped by Redis. Frames at or below the last seq are ignored (a repeat); a
   * seq jump means frames that this process will never see (trimmed while it was away, or
   * undecodable): each live subscriber gets a `'drop-oldest'` notice for `fromSeq..toSeq` on its
   * next frame, and the history restarts at this frame (so it never holds a gap).
   */
  ingest(frame: EventFrame<P>): void {
    const bus = this.internals;
    if (bus.closed || frame.seq <= bus.seq) return;
    if (frame.seq > bus.seq + 1) {
      const fromSeq = bus.seq + 1;
      const toSeq = frame.seq - 1;
      for (const state of bus.states) {
        if (!state.ended && !state.replaying) bus.recordHistoryGap(state, fromSeq, toSeq);
      }
      this.restartAt(toSeq);
    }
    bus.commit(frame);
  }

  /** Empties the history and makes `seq` the last seq, so the next frame is `seq + 1`. */
  private restartAt(seq: number): void {
    this.internals.seq = seq;
    this.internals.history.count = 0;
    this.internals.history.newest = seq;
  }
}
