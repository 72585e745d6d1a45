import type { Redis } from 'ioredis';
import type { SchedulerLike } from 'rxjs';
import { MAX_HISTORY } from '../bus/EventBus.js';
import type { AgentEvent, BusMetrics, BusMetricsConfig, EventFrame } from '../bus/types.js';
import type { Classifier } from '../core/types.js';
import type { FrameDecodeError } from './codec.js';
import { describeValue as describe } from './describe.js';
import { PublishRefusedError, RedisUnavailableError } from './errors.js';

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

export function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID().replace(/-/g, '').slice(0, 12);
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `RedisEventBus: ${name} must be a non-negative integer, got ${describe(value)}`,
    );
  }
  return value;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
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
