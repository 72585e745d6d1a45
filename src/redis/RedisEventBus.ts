import type { Redis } from 'ioredis';
import { defer, type Observable, type SchedulerLike } from 'rxjs';
import { BusClosedError, InvalidEventError } from '../bus/errors.js';
import { createFrame } from '../bus/frame.js';
import type {
  AgentEvent,
  BusMetrics,
  EventArchive,
  EventFilter,
  EventFrame,
  SelectOptions,
} from '../bus/types.js';
import type { Classifier } from '../core/types.js';
import { encodeEventBody, type FrameDecodeError } from './codec.js';
import { describeValue as describe } from './describe.js';
import { RedisUnavailableError } from './errors.js';
import { LocalBus } from './localBus.js';
import { RedisStreamArchive } from './RedisStreamArchive.js';
import { StreamPublisher, streamKeys } from './StreamPublisher.js';
import { StreamTail } from './StreamTail.js';

/** The options of {@link RedisEventBus.create}. */
export interface RedisEventBusConfig<P = unknown> {
  /**
   * An ioredis client: replays (XRANGE) go through it, and the bus opens two connections of its
   * own with its options (`redis.duplicate()`): one for publishing, which never queues or resends
   * a command by itself, and one for the blocking live tail. `close()` closes those two, never
   * this one. Required.
   */
  redis: Redis;
  /** The stream key shared by every process of this bus (see `RedisStreamArchiveConfig.stream`). Required. */
  stream: string;
  /** Frames kept in this process's history ring for fast replay; older cursors replay from Redis. Default 1,000. */
  history?: number | undefined;
  /** As `EventBusConfig.classify`. Default: `classifyAgentEvent`. */
  classify?: Classifier<EventFrame<P>> | undefined;
  /** As `EventBusConfig.validate`: runs in the publishing process, before Redis is asked. Default: none. */
  validate?: ((event: AgentEvent<P>) => void) | undefined;
  /** Gives `ts` (the publisher's clock) and drives `metrics$`. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /** As `EventBusConfig.freeze`: freeze every frame this process hands out. Default `false`. */
  freeze?: boolean | undefined;
  /** Keep about this many newest frames in the stream (`XADD MAXLEN ~`). Default: no trimming on publish. */
  maxLen?: number | undefined;
  /** Trim exactly instead of approximately. Default `false`. */
  exactTrim?: boolean | undefined;
  /** XRANGE page size of replays. Default 500. */
  pageSize?: number | undefined;
  /** Entries per XREAD of the live tail. Default 500. */
  readCount?: number | undefined;
  /** Milliseconds one XREAD BLOCK waits before it is issued again. Default 2,000. */
  blockMs?: number | undefined;
  /** How long `send` keeps retrying while Redis is unreachable, in ms. Default 10,000. */
  sendTimeoutMs?: number | undefined;
  /** Pause between retries (of `send`, and of the tail after a connection error), in ms. Default 100. */
  retryDelayMs?: number | undefined;
  /**
   * A `send` retried after a connection failure first looks for its first attempt among at most
   * this many entries appended since (so a lost reply never appends the event twice). Default
   * 10,000.
   */
  dedupeWindow?: number | undefined;
  /** This bus's producer id, written in each entry it appends (field `p`). Default: 12 random characters. */
  producerId?: string | undefined;
  /** Receives each stream entry that does not decode (it is skipped; see docs/redis.md). Default: none. */
  onDecodeError?: ((error: FrameDecodeError) => void) | undefined;
  /** Receives each connection error of the live tail (it reconnects and resumes). Default: none. */
  onConnectionError?: ((error: unknown) => void) | undefined;
}

/** Counters of the Redis side, beside the in-memory bus's {@link BusMetrics}. */
export interface RedisBusMetrics extends BusMetrics {
  redis: {
    /** The stream key. */
    stream: string;
    /** The seq of the last frame this process received from the stream. */
    lastSeq: number;
    /** Frames this process published (stamped by Redis). */
    publishedHere: number;
    /** `publish`/`send` calls refused because Redis was unreachable. */
    unavailable: number;
    /** `send` attempts that were retried. */
    retries: number;
    /** Stream entries skipped because they did not decode. */
    undecodable: number;
    /** Connection errors of the live tail's own connection (each reconnection attempt that failed counts). */
    connectionErrors: number;
  };
}

/** Options of {@link RedisEventBus.send}. */
export interface RedisSendOptions {
  /** How long to keep retrying while Redis is unreachable, in ms. Default: the bus's `sendTimeoutMs`. */
  timeoutMs?: number;
}

function isConnectionError(error: unknown): boolean {
  if (error instanceof Error && error.name === 'ReplyError') {
    // Server replies that say "not now" rather than "no".
    return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)/.test(error.message);
  }
  return true;
}

/** ioredis refused to send the command at all (the connection was not writable). */
function neverSent(error: unknown): boolean {
  return /isn't writeable/.test(String((error as Error)?.message));
}

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID().replace(/-/g, '').slice(0, 12);
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `RedisEventBus: ${name} must be a non-negative integer, got ${describe(value)}`,
    );
  }
  return value;
}

/** The lane of an event without `laneId` (as the in-memory bus). */
const DEFAULT_LANE = 'main';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  private readonly local: LocalBus<P>;
  private readonly tail: StreamTail<P>;
  private readonly publisher: StreamPublisher;
  private readonly scheduler: SchedulerLike | undefined;
  private readonly freeze: boolean;
  private readonly sendTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly onDecodeError: ((error: FrameDecodeError) => void) | undefined;
  private readonly onConnectionError: ((error: unknown) => void) | undefined;
  private publishNumber = 0;
  private waitingSends = 0;
  private nextRetry: Promise<void> | undefined;
  private readonly producerId: string;
  private readonly startSeq: number;
  /** The highest seq Redis gave a publish of this process. */
  private maxStamped = 0;
  private closed = false;
  private publishedHere = 0;
  private unavailable = 0;
  private retries = 0;
  private undecodable = 0;
  private connectionErrors = 0;

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
    const last = await archive.lastSeq();
    const bus = new RedisEventBus<P>(config, archive, last);
    try {
      await bus.connected();
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
  ) {
    for (const name of ['onConnectionError', 'validate', 'classify'] as const) {
      if (config[name] !== undefined && typeof config[name] !== 'function') {
        throw new TypeError(
          `RedisEventBus: ${name} must be a function when given, got ${describe(config[name])}`,
        );
      }
    }
    if (config.freeze !== undefined && typeof config.freeze !== 'boolean') {
      throw new TypeError(
        `RedisEventBus: freeze must be a boolean, got ${describe(config.freeze)}`,
      );
    }
    this.freeze = config.freeze ?? false;
    const readCount = nonNegativeInteger(config.readCount, 'readCount', 500) || 500;
    const blockMs = nonNegativeInteger(config.blockMs, 'blockMs', 2000);
    this.sendTimeoutMs = nonNegativeInteger(config.sendTimeoutMs, 'sendTimeoutMs', 10_000);
    this.retryDelayMs = nonNegativeInteger(config.retryDelayMs, 'retryDelayMs', 100);
    const dedupeWindow = nonNegativeInteger(config.dedupeWindow, 'dedupeWindow', 10_000);
    const producerId = config.producerId ?? randomId();
    if (typeof producerId !== 'string' || producerId === '') {
      throw new TypeError(
        `RedisEventBus: producerId must be a non-empty string, got ${describe(producerId)}`,
      );
    }
    this.producerId = producerId;
    this.startSeq = startAfter;
    // Commands of this bus go through a connection of its own that never queues or resends a
    // command by itself: a publish is sent once, and only send() retries, knowing it retries.
    this.redis = config.redis.duplicate({
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    });
    this.redis.on('error', (error: unknown) => {
      this.connectionErrors++;
      this.onConnectionError?.(error);
    });
    this.archive = archive;
    this.scheduler = config.scheduler;
    this.onDecodeError = config.onDecodeError;
    this.onConnectionError = config.onConnectionError;
    // The local bus commits frames Redis stamped; its archive only replays (Redis already has
    // every frame: appending again would be wrong).
    const replayOnly: EventArchive = {
      append: () => undefined,
      replay: (filter, after) => archive.replay(filter, after),
    };
    const localConfig: ConstructorParameters<typeof LocalBus<P>>[0] = {
      history: config.history ?? 1000,
      archive: replayOnly,
    };
    if (config.classify !== undefined) localConfig.classify = config.classify;
    if (config.validate !== undefined) localConfig.validate = config.validate;
    if (config.scheduler !== undefined) localConfig.scheduler = config.scheduler;
    if (config.freeze !== undefined) localConfig.freeze = config.freeze;
    this.local = new LocalBus<P>(localConfig, startAfter, () => this.listen());
    const live$ = this.local.events$;
    this.events$ = defer(() => {
      this.listen();
      return live$;
    });
    this.publisher = new StreamPublisher(
      this.redis,
      streamKeys(archive.stream),
      archive.trimArguments(),
      Math.max(dedupeWindow, 1),
    );
    const tailConnection = config.redis.duplicate({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    // ioredis reports each failed (re)connection as an 'error' event; the tail reconnects by itself.
    tailConnection.on('error', (error: unknown) => {
      this.connectionErrors++;
      this.onConnectionError?.(error);
    });
    this.tail = new StreamTail<P>(
      {
        connection: tailConnection,
        stream: archive.stream,
        after: startAfter,
        blockMs,
        count: readCount,
        retryDelayMs: Math.max(this.retryDelayMs, 1),
      },
      {
        frame: (frame) => this.receive(frame),
        wanted: () => this.local.hasListeners,
        skipped: (seq) => this.local.skipTo(seq),
        decodeError: (error) => {
          this.undecodable++;
          this.onDecodeError?.(error);
        },
        connectionError: (error) => {
          this.connectionErrors++;
          this.onConnectionError?.(error);
        },
      },
    );
    this.tail.start();
  }

  /** The stream key. */
  get stream(): string {
    return this.archive.stream;
  }

  /** The seq of the last frame this process received: the cursor of "now" here. */
  get lastSeq(): number {
    return this.local.lastSeq;
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
    const request = this.prepare(event);
    if (this.redis.status !== 'ready') {
      this.unavailable++;
      throw new RedisUnavailableError(
        this.stream,
        `the connection is ${this.redis.status}; nothing was published`,
      );
    }
    return this.publisher.stamp(request.laneKey, request.tag, request.body).then(
      (stamp) => {
        this.publishedHere++;
        if (stamp.seq > this.maxStamped) this.maxStamped = stamp.seq;
        return this.frameOf(event, request, stamp.seq, stamp.laneSeq);
      },
      (error: unknown) => {
        if (!isConnectionError(error)) throw error;
        this.unavailable++;
        throw new RedisUnavailableError(
          this.stream,
          `the connection failed before Redis answered (${(error as Error)?.message}); the event may or may not be published`,
          { cause: error, outcomeUnknown: true },
        );
      },
    );
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
  async send(event: AgentEvent<P>, options?: RedisSendOptions): Promise<EventFrame<P>> {
    const request = this.prepare(event);
    const timeoutMs = nonNegativeInteger(options?.timeoutMs, 'send timeoutMs', this.sendTimeoutMs);
    const deadline = Date.now() + timeoutMs;
    // Set at the first attempt that may have reached Redis: a seq below that attempt's entry.
    let retryAfter: number | undefined;
    let lastError: unknown;
    // Behind sends already waiting for Redis: sends go out in the order they were made.
    let waitFirst = this.waitingSends > 0;
    for (;;) {
      if (this.closed) throw new BusClosedError();
      if (!waitFirst && this.redis.status === 'ready') {
        // Entries up to this seq existed before this attempt was sent (replies and the tail
        // only report entries that exist), so this attempt's entry, if any, comes later.
        const floor = Math.max(this.maxStamped, this.local.lastSeq, this.startSeq);
        const attempt = this.publisher.stamp(
          request.laneKey,
          request.tag,
          request.body,
          retryAfter,
        );
        try {
          const stamp = await withTimeout(
            attempt,
            Math.max(deadline - Date.now(), this.retryDelayMs),
          );
          this.publishedHere++;
          if (stamp.seq > this.maxStamped) this.maxStamped = stamp.seq;
          return this.frameOf(event, request, stamp.seq, stamp.laneSeq);
        } catch (error) {
          if (!isConnectionError(error)) throw error;
          lastError = error;
          if (retryAfter === undefined && !neverSent(error)) retryAfter = floor;
        }
      }
      if (Date.now() >= deadline) {
        this.unavailable++;
        throw new RedisUnavailableError(
          this.stream,
          `send gave up after ${timeoutMs} ms (connection ${this.redis.status}${
            lastError === undefined ? '' : `; last error: ${(lastError as Error)?.message}`
          })`,
          { cause: lastError, outcomeUnknown: retryAfter !== undefined },
        );
      }
      if (!waitFirst) this.retries++;
      waitFirst = false;
      // One shared tick for every waiting send: they resume, and call Redis, in the order they
      // started waiting.
      this.waitingSends++;
      try {
        await this.retryTick();
      } finally {
        this.waitingSends--;
      }
    }
  }

  private retryTick(): Promise<void> {
    this.nextRetry ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.nextRetry = undefined;
        resolve();
      }, this.retryDelayMs);
    });
    return this.nextRetry;
  }

  /** As `EventBus.select`: replays from this process's history, then Redis, then live. */
  select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>> {
    return this.local.select(filter, options);
  }

  /** As `EventBus.replay`: the frames held now (history, then Redis) after `after`, then complete. */
  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    return this.local.replay(filter, after);
  }

  /** As `EventBus.iterate`. */
  iterate(filter?: EventFilter, options?: SelectOptions<P>): AsyncIterableIterator<EventFrame<P>> {
    return this.local.iterate(filter, options);
  }

  /** The in-memory bus's counters for this process (`published` is the last seq received), plus the Redis side. */
  metrics(): RedisBusMetrics {
    return {
      ...this.local.metrics(),
      redis: {
        stream: this.stream,
        lastSeq: this.local.lastSeq,
        publishedHere: this.publishedHere,
        unavailable: this.unavailable,
        retries: this.retries,
        undecodable: this.undecodable,
        connectionErrors: this.connectionErrors,
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
    await this.tail.stop();
    this.redis.disconnect();
    // Events still waiting for a script call go out now, on the closed connection: they reject.
    this.publisher.close();
    this.local.close();
  }

  /** Resolves when this bus's command connection is ready (rejects if it ends first). */
  private connected(): Promise<void> {
    const connection = this.redis;
    if (connection.status === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onReady = () => {
        connection.off('end', onEnd);
        resolve();
      };
      const onEnd = () => {
        connection.off('ready', onReady);
        reject(new RedisUnavailableError(this.stream, 'the connection ended before it was ready'));
      };
      connection.once('ready', onReady);
      connection.once('end', onEnd);
    });
  }

  // -------------------------------------------------------------------------------------------

  private prepare(event: AgentEvent<P>): {
    laneId: string;
    laneKey: string;
    ts: number;
    body: string;
    tag: string;
  } {
    if (this.closed) throw new BusClosedError();
    this.local.validateEvent(event);
    const laneId = event.laneId ?? DEFAULT_LANE;
    const ts = this.scheduler?.now() ?? Date.now();
    let body: string;
    try {
      body = encodeEventBody(event, laneId, ts);
    } catch (error) {
      throw new InvalidEventError(
        'payload',
        `payload cannot be encoded as JSON: ${(error as Error)?.message}`,
        {
          cause: error,
        },
      );
    }
    // laneSeq counts per lane id across the bus, as the in-memory bus does.
    const laneKey = laneId;
    return { laneId, laneKey, ts, body, tag: `${this.producerId}:${++this.publishNumber}` };
  }

  private frameOf(
    event: AgentEvent<P>,
    request: { laneId: string; ts: number },
    seq: number,
    laneSeq: number,
  ): EventFrame<P> {
    const frame = createFrame(event, request.laneId, seq, laneSeq, request.ts);
    return this.freeze ? Object.freeze(frame) : frame;
  }

  /**
   * Someone starts listening. While nobody listened the tail read nothing; "now" moves to the
   * last seq this process published (anything before it was published before this subscription,
   * so it is history, replayed from Redis on request), and the tail resumes from there.
   */
  private listen(): void {
    if (!this.tail.idle) return;
    this.local.skipTo(this.maxStamped);
    this.tail.wake(this.local.lastSeq);
  }

  /** Hands a frame from the tail to the local bus, holding the tail while a 'backpressure' subscriber is full. */
  private receive(frame: EventFrame<P>): void | Promise<void> {
    if (!this.local.isHeldBack(frame)) {
      this.local.ingest(frame);
      return undefined;
    }
    return (async () => {
      let wait = 1;
      while (!this.closed && this.local.isHeldBack(frame)) {
        await sleep(wait);
        wait = Math.min(wait * 2, 20);
      }
      if (!this.closed) this.local.ingest(frame);
    })();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** `RedisEventBus.create(config)`. */
export function createRedisBus<P = unknown>(
  config: RedisEventBusConfig<P>,
): Promise<RedisEventBus<P>> {
  return RedisEventBus.create(config);
}
