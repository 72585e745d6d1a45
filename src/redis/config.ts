import type { Redis } from 'ioredis';
import type { SchedulerLike } from 'rxjs';
import { MAX_HISTORY } from '../bus/EventBus.js';
import type { AgentEvent, BusMetrics, BusMetricsConfig, EventFrame } from '../bus/types.js';
import { checkBoolean, checkFunction, rangeError, typeError } from '../core/checks.js';
import type { Classifier } from '../core/types.js';
import type { FrameDecodeError } from './codec.js';
import { PublishRefusedError, RedisUnavailableError } from './errors.js';

const OWNER = 'RedisEventBus';

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
  /**
   * As `EventBusConfig.metrics`: `latency: true` measures delivery latency and lag in this
   * process, from each frame's `ts` (the publishing process's clock) to its hand-off here, on
   * this bus's `scheduler` (or `Date.now()`). Default: none.
   */
  metrics?: BusMetricsConfig | undefined;
  /** Keep about this many newest frames in the stream (`XADD MAXLEN ~`). Default: no trimming on publish. */
  maxLen?: number | undefined;
  /** Trim exactly instead of approximately. Default `false`. */
  exactTrim?: boolean | undefined;
  /** XRANGE page size of replays. Default 1,024 (one XRANGE per page the bus reads). */
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
  /**
   * This bus's producer id, written in each entry it appends (in field `m`) and fencing its
   * retries. It must be unique among the live buses of the stream: the bus claims it with a
   * lease at `create` (a {@link ProducerIdInUseError} when another live bus holds it) and gives
   * it back at `close`. Default: 12 random characters.
   */
  producerId?: string | undefined;
  /**
   * How long a producer id stays claimed without a sign of life from its bus, in ms (the bus
   * renews it every third of that while it runs). Default 30,000.
   */
  producerLeaseMs?: number | undefined;
  /**
   * How long a command of the bus's own connections (a publish, a check) may wait for its reply,
   * in ms; then the connection is replaced (a peer that vanished without closing it leaves it
   * open for minutes), the call fails as a lost reply would, and `send` retries. 0: no limit.
   * Default 5,000.
   */
  commandTimeoutMs?: number | undefined;
  /**
   * How much longer than `blockMs` the live tail waits for the reply of one blocking read, in
   * ms; then its connection is replaced and it reads again. Default 5,000.
   */
  readTimeoutMs?: number | undefined;
  /**
   * The largest event accepted, in bytes of its encoded JSON: a larger one throws
   * `InvalidEventError` (field `payload`) at once. Redis holds each entry in memory, and every
   * reader receives it whole. Default 4,194,304 (4 MiB).
   */
  maxPayloadBytes?: number | undefined;
  /**
   * What to do when the server's settings cannot keep acknowledged frames through a crash
   * (checked at `create` with CONFIG GET: no append-only file, `appendfsync` other than `always`,
   * an eviction policy other than `noeviction` under a `maxmemory`): `'warn'` reports each
   * (`onWarning`, `metrics().redis.warnings`) and goes on; `'strict'` makes `create` reject with
   * the reasons. When the server refuses CONFIG GET (some managed services), `'warn'` says so
   * and `'strict'` rejects. Default `'warn'`.
   */
  durability?: 'warn' | 'strict' | undefined;
  /** Receives each warning (durability settings, an epoch change). Default: none (they are still in `metrics()`). */
  onWarning?: ((message: string) => void) | undefined;
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
    /** Connections replaced because a command or a blocking read got no reply in time. */
    connectionsReplaced: number;
    /** Entries another client added to the stream (not frames: skipped, no seq of the bus). */
    foreign: number;
    /** Epoch changes this bus made or followed (its log went backwards or was replaced). */
    epochChanges: number;
    /** The warnings so far (durability settings, epoch changes), oldest first, at most 20. */
    warnings: string[];
  };
}

/** Options of {@link RedisEventBus.send}. */
export interface RedisSendOptions {
  /** How long to keep retrying while Redis is unreachable, in ms. Default: the bus's `sendTimeoutMs`. */
  timeoutMs?: number;
}

export function isConnectionError(error: unknown): boolean {
  if (error instanceof PublishRefusedError) return false;
  if (error instanceof Error && error.name === 'ReplyError') {
    // Server replies that say "not now" rather than "no".
    return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)/.test(error.message);
  }
  return true;
}

/** ioredis refused to send the command at all (the connection was not writable). */
export function neverSent(error: unknown): boolean {
  return /isn't writeable/.test(String((error as Error)?.message));
}

/** The options of a bus, checked, with their defaults. */
export interface ResolvedOptions {
  readCount: number;
  blockMs: number;
  sendTimeoutMs: number;
  retryDelayMs: number;
  dedupeWindow: number;
  producerId: string;
  producerLeaseMs: number;
  commandTimeoutMs: number;
  readTimeoutMs: number;
  maxPayloadBytes: number;
  durability: 'warn' | 'strict';
  freeze: boolean;
}

/** Checks a bus's options (before any connection opens) and fills in the defaults. */
export function resolveOptions(config: RedisEventBusConfig<unknown>): ResolvedOptions {
  for (const name of ['onConnectionError', 'validate', 'classify', 'onWarning'] as const) {
    checkFunction(config[name], OWNER, name);
  }
  if (config.freeze !== undefined) checkBoolean(config.freeze, 'RedisEventBus', 'freeze');
  const durability = config.durability ?? 'warn';
  if (durability !== 'warn' && durability !== 'strict') {
    throw typeError(OWNER, 'durability', "'warn' or 'strict'", config.durability);
  }
  const producerId = config.producerId ?? randomId();
  if (typeof producerId !== 'string' || producerId === '' || /[\n]/.test(producerId)) {
    throw typeError(OWNER, 'producerId', 'a non-empty string without line breaks', producerId);
  }
  const positive = (value: unknown, name: string, fallback: number) => {
    const checked = nonNegativeInteger(value, name, fallback);
    if (checked === 0) {
      throw rangeError(OWNER, name, 'a positive integer', 0);
    }
    return checked;
  };
  return {
    readCount: nonNegativeInteger(config.readCount, 'readCount', 500) || 500,
    blockMs: nonNegativeInteger(config.blockMs, 'blockMs', 2000),
    sendTimeoutMs: nonNegativeInteger(config.sendTimeoutMs, 'sendTimeoutMs', 10_000),
    retryDelayMs: nonNegativeInteger(config.retryDelayMs, 'retryDelayMs', 100),
    dedupeWindow: nonNegativeInteger(config.dedupeWindow, 'dedupeWindow', 10_000),
    producerId,
    producerLeaseMs: positive(config.producerLeaseMs, 'producerLeaseMs', 30_000),
    commandTimeoutMs: nonNegativeInteger(config.commandTimeoutMs, 'commandTimeoutMs', 5000),
    readTimeoutMs: positive(config.readTimeoutMs, 'readTimeoutMs', 5000),
    maxPayloadBytes: positive(config.maxPayloadBytes, 'maxPayloadBytes', 4 * 1024 * 1024),
    durability,
    freeze: config.freeze ?? false,
  };
}

export function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID().replace(/-/g, '').slice(0, 12);
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw rangeError(OWNER, name, 'a non-negative integer', value);
  }
  return value;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `promise`, or an error after `ms`: the one `expired` gives (it may act on the expiry, say
 * replace a connection), else "no answer from Redis within …".
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, expired?: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(expired?.() ?? new Error(`no answer from Redis within ${ms} ms`)),
      ms,
    );
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

/**
 * The two connections of a bus, made from the user's client. Publishing: it never queues or
 * resends a command by itself (a publish is sent once; only `send` retries, knowing it retries).
 * The tail's: XREAD BLOCK waits through outages there, and is sent again after a reconnection.
 * ioredis reports each failed (re)connection as an 'error' event (`onError`); both reconnect.
 */
export function ownConnections(
  redis: Redis,
  onError: (error: unknown) => void,
): { publishing: Redis; tail: Redis } {
  const publishing = redis.duplicate({
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
  });
  const tail = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  publishing.on('error', onError);
  tail.on('error', onError);
  return { publishing, tail };
}

/**
 * Closes a connection at once: `disconnect()` alone ends the socket and waits for the peer's
 * FIN, which a peer that vanished never sends (the pending commands would wait for minutes).
 */
export function closeNow(connection: Redis): void {
  connection.disconnect();
  destroySocket(connection);
}

/** Destroys a connection's socket: the client sees it closed now (and reconnects, unless closing). */
export function destroySocket(connection: Redis): void {
  (connection as { stream?: { destroy(): void } }).stream?.destroy();
}

/** Resolves when a connection is ready (rejects if it ends first). */
export function whenReady(connection: Redis, stream: string): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onReady = () => {
      connection.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      connection.off('ready', onReady);
      reject(new RedisUnavailableError(stream, 'the connection ended before it was ready'));
    };
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
}

/** The `history` option: a non-negative integer up to `MAX_HISTORY`, 1,000 when omitted. */
export function historySize(history: unknown): number {
  const size = nonNegativeInteger(history, 'history', 1000);
  if (size > MAX_HISTORY) {
    throw new RangeError(`RedisEventBus: history must be at most ${MAX_HISTORY}, got ${size}`);
  }
  return size;
}
