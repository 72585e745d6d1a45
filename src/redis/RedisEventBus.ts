import type { Redis } from 'ioredis';
import { defer, type Observable } from 'rxjs';
import { classifyAgentEvent } from '../bus/agentEvents.js';
import { BusSubscriptions } from '../bus/BusSubscriptions.js';
import { EventCheck } from '../bus/EventCheck.js';
import { BusClosedError } from '../bus/errors.js';
import { FrameHub } from '../bus/FrameHub.js';
import { latencyMetrics } from '../bus/LatencyMetrics.js';
import type { AgentEvent, EventFilter, EventFrame, SelectOptions } from '../bus/types.js';
import type { FrameDecodeError } from './codec.js';
import {
  closeNow,
  historySize,
  ownConnections,
  type RedisBusMetrics,
  type RedisEventBusConfig,
  type RedisSendOptions,
  resolveOptions,
  whenReady,
  withTimeout,
} from './config.js';
import { type EpochHost, EpochKeeper, openStream } from './EpochKeeper.js';
import { EventSender } from './EventSender.js';
import { type LocalHeadParts, reachCursor, receiveFrame } from './localHead.js';
import { RedisStreamArchive } from './RedisStreamArchive.js';
import type { StreamGuard } from './StreamGuard.js';
import { StreamPublisher, streamKeys } from './StreamPublisher.js';
import { StreamTail } from './StreamTail.js';

export type { RedisBusMetrics, RedisEventBusConfig, RedisSendOptions } from './config.js';

/**
 * An event bus shared by processes through one Redis stream. Any process publishes; Redis gives
 * each frame its `seq` (dense and global: one Lua script takes the seqs and appends, so no two
 * processes take the same seq and none is skipped); every process's `events$`, `select` and
 * `iterate` receive every frame in seq order from a live tail (XREAD BLOCK from the last id
 * seen), through the same per-subscriber queues, policies, notices and metrics as the in-memory
 * `EventBus`.
 *
 * Differences from the in-memory bus, because Redis is across a network:
 * - `publish` returns a promise of the frame (Redis stamps it); it throws at once, before
 *   anything is sent, for a bad event, a closed bus, or a connection known to be down.
 * - `send` retries while Redis is unreachable, up to `sendTimeoutMs`, without ever appending the
 *   same event twice; it does not wait for remote subscribers (a `'backpressure'` subscriber
 *   holds back this process's live tail instead: frames wait in Redis).
 * - A frame reaches this process's subscribers when the tail reads it back, also in the process
 *   that published it, so every process sees the same order.
 *
 * ```text
 * process A publish:  a-----c-------
 * process B publish:  ---b-----d----
 * Redis seq:          1--2--3--4----
 * every select():     a--b--c--d----   (each process, same order)
 * ```
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisEventBus } from 'rxjs-backpressure/redis';
 * const bus = await RedisEventBus.create({ redis: new Redis(), stream: '{agents}:events' });
 * bus.select({ runId: 'r1' }, { after: savedCursor }).subscribe((f) => save(f));
 * await bus.send({ kind: 'model.delta', runId: 'r1', payload: { text: 'Hi' } });
 * ```
 */
export class RedisEventBus<P = unknown> {
  /** The archive over the stream (replays, trimming). */
  readonly archive: RedisStreamArchive<P>;
  /** Every live frame of the stream, hot (as the in-memory bus's `events$`). */
  readonly events$: Observable<EventFrame<P>>;

  private readonly redis: Redis;
  /** The subscriber side, shared with the in-memory bus: log, index, subscribers. */
  private readonly hub: FrameHub<P>;
  private readonly subscriptions: BusSubscriptions<P>;
  private readonly checks: EventCheck<P>;
  private readonly tail: StreamTail<P>;
  private readonly publisher: StreamPublisher;
  private readonly sender: EventSender<P>;
  private readonly freeze: boolean;
  private readonly onDecodeError: ((error: FrameDecodeError) => void) | undefined;
  private readonly onConnectionError: ((error: unknown) => void) | undefined;
  private readonly guard: StreamGuard;
  /** Epoch changes and warnings. */
  private readonly epochs: EpochKeeper;
  private closed = false;
  private undecodable = 0;
  private foreign = 0;
  private connectionErrors = 0;
  private connectionsReplaced = 0;

  /**
   * Connects (waits until the client is ready), reads where the stream ends, and starts the live
   * tail from there. Rejects when Redis cannot be reached.
   *
   * @throws RangeError or TypeError for a bad option.
   */
  static async create<P = unknown>(config: RedisEventBusConfig<P>): Promise<RedisEventBus<P>> {
    const archive = new RedisStreamArchive<P>({
      redis: config?.redis,
      stream: config?.stream,
      pageSize: config.pageSize,
      maxLen: config.maxLen,
      exactTrim: config.exactTrim,
      onDecodeError: config.onDecodeError,
    });
    const { guard, epoch, last, warnings } = await openStream(
      archive,
      resolveOptions(config as RedisEventBusConfig<unknown>),
    );
    const bus = new RedisEventBus<P>(config, archive, last, epoch, guard);
    for (const warning of warnings) bus.epochs.warn(warning);
    try {
      await whenReady(bus.redis, bus.stream);
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  private constructor(
    config: RedisEventBusConfig<P>,
    archive: RedisStreamArchive<P>,
    startAfter: number,
    epoch: string,
    guard: StreamGuard,
  ) {
    const options = resolveOptions(config as RedisEventBusConfig<unknown>);
    const { readCount, blockMs, sendTimeoutMs, retryDelayMs, dedupeWindow, producerId } = options;
    this.freeze = options.freeze;
    this.guard = guard;
    const parts: EpochHost = {
      stream: archive.stream,
      archive: archive as RedisStreamArchive<unknown>,
      hub: () => this.hub as FrameHub<unknown>,
      tail: () => this.tail,
      sender: () => this.sender,
    };
    this.epochs = new EpochKeeper(parts, guard, config.onWarning);
    const localHead: LocalHeadParts<P> = {
      hub: () => this.hub,
      tail: () => this.tail,
      archive,
      isClosed: () => this.closed,
    };
    const connections = ownConnections(config.redis, (error) => {
      this.connectionErrors++;
      this.onConnectionError?.(error);
    });
    this.redis = connections.publishing;
    this.archive = archive;
    this.onDecodeError = config.onDecodeError;
    this.onConnectionError = config.onConnectionError;
    // The hub commits frames Redis stamped; it reads the stream for old cursors but never
    // appends to it (Redis already has every frame).
    this.hub = new FrameHub<P>({
      history: historySize(config.history),
      archive,
      appendToArchive: false,
      freeze: this.freeze,
      epoch,
      onListen: () => this.listen(),
      reachCursor: (after) => reachCursor(localHead, after),
      latency: latencyMetrics(
        config.metrics,
        () => config.scheduler?.now() ?? Date.now(),
        'RedisEventBus',
      ),
    });
    this.hub.skipTo(startAfter);
    this.subscriptions = new BusSubscriptions(this.hub, config.classify ?? classifyAgentEvent);
    this.checks = new EventCheck(config.validate);
    this.events$ = defer(() => {
      this.listen();
      // A new subject after an epoch change: read at each subscription.
      return this.hub.live.asObservable();
    });
    this.publisher = new StreamPublisher(
      this.redis,
      streamKeys(archive.stream, producerId),
      archive.trimArguments(),
      Math.max(dedupeWindow, 1),
      {
        epoch: () => this.hub.epoch,
        known: () => this.sender.known,
        owner: guard.token,
        leaseMs: options.producerLeaseMs,
        commandTimeoutMs: options.commandTimeoutMs,
        replaced: () => {
          this.connectionsReplaced++;
        },
      },
    );
    this.sender = new EventSender<P>(this.redis, this.publisher, {
      stream: archive.stream,
      scheduler: config.scheduler,
      freeze: this.freeze,
      producerId,
      sendTimeoutMs,
      retryDelayMs,
      checks: this.checks,
      startSeq: startAfter,
      maxPayloadBytes: options.maxPayloadBytes,
      head: () => this.hub.log.head,
      isClosed: () => this.closed,
      epochLost: (refusal) => this.epochs.epochLost(refusal),
    });
    guard.keepClaim(this.redis);
    const tailConnection = connections.tail;
    this.tail = new StreamTail<P>(
      {
        connection: tailConnection,
        stream: archive.stream,
        after: startAfter,
        blockMs,
        readTimeoutMs: options.readTimeoutMs,
        count: readCount,
        retryDelayMs: Math.max(retryDelayMs, 1),
      },
      {
        frame: (frame) => receiveFrame(localHead, frame),
        wanted: () => this.hub.hasListeners,
        skipped: (seq) => this.hub.skipTo(seq),
        decodeError: (error) => {
          if (error.foreign) this.foreign++;
          else this.undecodable++;
          this.onDecodeError?.(error);
        },
        connectionError: (error) => {
          this.connectionErrors++;
          this.onConnectionError?.(error);
        },
        replaced: () => {
          this.connectionsReplaced++;
        },
        verify: (position, fields) => this.epochs.verify(tailConnection, position, fields),
      },
    );
    this.tail.start();
  }

  /** The stream key. */
  get stream(): string {
    return this.archive.stream;
  }

  /**
   * The seq of the last frame this process received: the cursor of "now" here. It moves only
   * while someone in this process listens; a cursor beyond it that the stream reaches (saved by
   * another process, or before a quiet spell) is still accepted by `select`, `replay` and
   * `iterate`.
   */
  get lastSeq(): number {
    return this.hub.log.head;
  }

  /**
   * The stream's epoch: an id created with the stream (stored beside it), so that a cursor saved
   * with it is refused (`EpochChangedError`) by a bus over another stream, or over this stream
   * once it was created anew. Pass it with the cursor: `select(filter, { after, epoch })`.
   */
  get epoch(): string {
    return this.hub.epoch;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Publishes an event: Redis stamps it (seq, laneSeq) and appends it atomically; the promise
   * resolves with the frame. The frame reaches subscribers, here and in every process, through
   * the stream. At most once: a reply lost to a dropped connection rejects with
   * `RedisUnavailableError` (`outcomeUnknown: true`) and the frame may or may not be in the
   * stream; use `send` to retry safely.
   *
   * @throws InvalidEventError for a bad event (also a payload JSON cannot encode), at once.
   * @throws BusClosedError after `close()`, at once.
   * @throws RedisUnavailableError at once when the connection is not ready: nothing was sent.
   */
  publish(event: AgentEvent<P>): Promise<EventFrame<P>> {
    if (this.closed) throw new BusClosedError();
    return this.sender.publish(event);
  }

  /**
   * Publishes an event, waiting and retrying while Redis is unreachable, up to `timeoutMs`.
   * Resolves with the frame. A retry after an attempt whose outcome is unknown (the connection
   * dropped before the reply) first looks for that attempt's entry (by this bus's producer tag,
   * among at most `dedupeWindow` entries appended since) and returns it instead of appending
   * the event twice.
   *
   * Rejects with `InvalidEventError` or `BusClosedError` at once, or with `RedisUnavailableError`
   * at the timeout (`outcomeUnknown` when an attempt may have reached Redis).
   */
  send(event: AgentEvent<P>, options?: RedisSendOptions): Promise<EventFrame<P>> {
    if (this.closed) return Promise.reject(new BusClosedError());
    return this.sender.send(event, options);
  }

  /**
   * Publishes several events in one script call: every event is checked and encoded before any
   * is sent (the error names the index; nothing is sent), and Redis gives them consecutive seqs.
   * As `publish` otherwise: at most once, a lost reply rejects with `outcomeUnknown: true`.
   */
  publishAll(events: readonly AgentEvent<P>[]): Promise<EventFrame<P>[]> {
    if (this.closed) throw new BusClosedError();
    return this.sender.publishAll(events);
  }

  /** `publishAll`, waiting and retrying as `send` does, without ever appending an event twice. */
  sendAll(events: readonly AgentEvent<P>[], options?: RedisSendOptions): Promise<EventFrame<P>[]> {
    if (this.closed) return Promise.reject(new BusClosedError());
    return this.sender.sendAll(events, options);
  }

  /** As `EventBus.select`: replays from this process's history, then Redis, then live. */
  select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>> {
    return this.subscriptions.select(filter, options);
  }

  /** As `EventBus.replay`: the frames held now (history, then Redis) after `after`, then complete. */
  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    return this.subscriptions.replay(filter, after);
  }

  /** As `EventBus.iterate`. */
  iterate(filter?: EventFilter, options?: SelectOptions<P>): AsyncIterableIterator<EventFrame<P>> {
    return this.subscriptions.iterate(filter, options);
  }

  /** The in-memory bus's counters for this process (`published` is the last seq received), plus the Redis side. */
  metrics(): RedisBusMetrics {
    return {
      ...this.hub.metrics({
        rejected: this.checks.rejected,
        // Remote subscribers hold back the tail, never a publish: nothing is refused or waits.
        backpressured: 0,
        pendingSends: 0,
      }),
      redis: {
        stream: this.stream,
        lastSeq: this.hub.log.head,
        publishedHere: this.sender.publishedHere,
        unavailable: this.sender.unavailable,
        retries: this.sender.retries,
        undecodable: this.undecodable,
        connectionErrors: this.connectionErrors,
        connectionsReplaced: this.connectionsReplaced,
        foreign: this.foreign,
        epochChanges: this.epochs.changes,
        warnings: [...this.epochs.warnings],
      },
    };
  }

  /**
   * Stops this process's bus: the tail stops and the bus's own connections close, `publish` and `send`
   * throw `BusClosedError`, subscribers receive what they hold and complete. The stream and the
   * client given as `redis` are left alone. Resolves when the tail has stopped.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.guard.stopClaim();
    await this.tail.stop();
    // The producer id goes back at once (not when its lease runs out).
    await withTimeout(this.guard.release(this.redis), 1000).catch(() => undefined);
    closeNow(this.redis);
    // Events still waiting for a script call go out now, on the closed connection: they reject.
    this.publisher.close();
    this.hub.close();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Someone starts listening. While nobody listened the tail read nothing; "now" moves to the
   * last seq this process published (anything before it was published before this subscription,
   * so it is history, replayed from Redis on request), and the tail resumes from there.
   */
  private listen(): void {
    if (!this.tail.idle) return;
    this.hub.skipTo(this.sender.maxStamped);
    this.tail.wake(this.hub.log.head);
  }
}

/** `RedisEventBus.create(config)`. */
export function createRedisBus<P = unknown>(
  config: RedisEventBusConfig<P>,
): Promise<RedisEventBus<P>> {
  return RedisEventBus.create(config);
}
