import type { Redis } from 'ioredis';
import type { SchedulerLike } from 'rxjs';
import { DEFAULT_LANE } from '../bus/agentEvents.js';
import { EventCheck } from '../bus/EventCheck.js';
import { BusClosedError, InvalidEventError } from '../bus/errors.js';
import { FrameHub } from '../bus/FrameHub.js';
import type { AgentEvent, EventFrame } from '../bus/types.js';
import { encodeEventBody } from './codec.js';
import {
  isConnectionError,
  neverSent,
  nonNegativeInteger,
  type RedisSendOptions,
  withTimeout,
} from './config.js';
import { ProducerIdInUseError, PublishRefusedError, RedisUnavailableError } from './errors.js';
import type { Stamp, StreamPublisher } from './StreamPublisher.js';
import { isWellFormed } from './wellFormed.js';

/** What an {@link EventSender} works with. */
export interface EventSenderConfig<P> {
  readonly stream: string;
  readonly scheduler: SchedulerLike | undefined;
  readonly freeze: boolean;
  readonly producerId: string;
  readonly sendTimeoutMs: number;
  readonly retryDelayMs: number;
  readonly checks: EventCheck<P>;
  /** The seq the bus started at: entries up to it existed before any attempt of this bus. */
  readonly startSeq: number;
  /** The largest encoded payload accepted, in bytes (UTF-8 of the JSON body). */
  readonly maxPayloadBytes: number;
  /** The last seq the bus received. */
  head(): number;
  isClosed(): boolean;
  /**
   * The publish script found the stream's epoch changed, or its log behind what this bus saw:
   * the bus moves to the epoch in force (a new one if need be). Resolves with the error a
   * `publish` refused so rejects with.
   */
  epochLost(refusal: PublishRefusedError): Promise<Error>;
}

/**
 * The publishing side of the Redis bus: checks and encodes an event, has Redis stamp and append
 * it (`publish`: at most once; `send`: retried while Redis is unreachable, never appended twice),
 * and builds the frame Redis stamped.
 */
export class EventSender<P> {
  /** Frames this process published. */
  publishedHere = 0;
  /** Publishes refused because Redis was unreachable. */
  unavailable = 0;
  /** Send attempts that were retried. */
  retries = 0;
  /** The highest seq Redis gave a publish of this process. */
  maxStamped = 0;
  private publishNumber = 0;
  private waitingSends = 0;
  private nextRetry: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly publisher: StreamPublisher,
    private readonly config: EventSenderConfig<P>,
  ) {}

  publish(event: AgentEvent<P>): Promise<EventFrame<P>> {
    const request = this.prepare(event);
    if (this.redis.status !== 'ready') {
      this.unavailable++;
      throw new RedisUnavailableError(
        this.config.stream,
        `the connection is ${this.redis.status}; nothing was published`,
      );
    }
    return this.publisher.stamp(request.laneKey, this.nextTag(), request.body).then(
      (stamp) => {
        this.publishedHere++;
        if (stamp.seq > this.maxStamped) this.maxStamped = stamp.seq;
        return this.frameOf(event, request, stamp.seq, stamp.laneSeq);
      },
      (error: unknown) => this.publishFailed(error, 'event'),
    );
  }

  /** The highest seq this bus knows the stream held (the publish script checks the counter). */
  get known(): number {
    return Math.max(this.maxStamped, this.config.head());
  }

  /** The epoch changed: the new one's log ends at `head`. */
  resetTo(head: number): void {
    this.maxStamped = head;
  }

  private nextTag(): string {
    return `${this.config.producerId}:${++this.publishNumber}`;
  }

  /** Why a `publish` or `publishAll` failed, as its caller sees it. */
  private async publishFailed(error: unknown, what: 'event' | 'events'): Promise<never> {
    if (error instanceof PublishRefusedError) throw await this.refused(error);
    if (!isConnectionError(error)) throw error;
    this.unavailable++;
    throw new RedisUnavailableError(
      this.config.stream,
      `the connection failed before Redis answered (${(error as Error)?.message}); the ${what} may or may not be published`,
      { cause: error, outcomeUnknown: true },
    );
  }

  /** The error a refusal of the publish script means (after moving epochs when it says so). */
  private async refused(refusal: PublishRefusedError): Promise<Error> {
    if (refusal.reason === 'producer') {
      return new ProducerIdInUseError(this.config.stream, this.config.producerId);
    }
    if (refusal.reason === 'fenced') {
      this.unavailable++;
      return new RedisUnavailableError(
        this.config.stream,
        'a later call of this bus reached Redis first, so this late one was refused; nothing was published',
        { cause: refusal },
      );
    }
    return this.config.epochLost(refusal);
  }

  async send(event: AgentEvent<P>, options?: RedisSendOptions): Promise<EventFrame<P>> {
    const frames = await this.sendBatch([event], [this.prepare(event)], options, 'send');
    return frames[0] as EventFrame<P>;
  }

  /** `publishAll`: every event checked first, then one script call (consecutive seqs). */
  publishAll(events: readonly AgentEvent<P>[]): Promise<EventFrame<P>[]> {
    const requests = this.prepareAll(events, 'RedisEventBus.publishAll');
    if (requests.length === 0) return Promise.resolve([]);
    if (this.redis.status !== 'ready') {
      this.unavailable++;
      throw new RedisUnavailableError(
        this.config.stream,
        `the connection is ${this.redis.status}; nothing was published`,
      );
    }
    const entries = requests.map((request) => ({ ...request, tag: this.nextTag() }));
    return this.publisher.stampAll(entries).then(
      (stamps) => this.framesOf(events, requests, stamps),
      (error: unknown) => this.publishFailed(error, 'events'),
    );
  }

  /** `sendAll`: `publishAll`, retried as `send` is. */
  async sendAll(
    events: readonly AgentEvent<P>[],
    options?: RedisSendOptions,
  ): Promise<EventFrame<P>[]> {
    const requests = this.prepareAll(events, 'RedisEventBus.sendAll');
    if (requests.length === 0) return [];
    return this.sendBatch(events, requests, options, 'sendAll');
  }

  /**
   * Sends prepared events in one script call, waiting and retrying while Redis is unreachable,
   * up to the timeout; a retry looks for the entries of an attempt whose outcome is unknown
   * rather than appending them twice.
   */
  private async sendBatch(
    events: readonly AgentEvent<P>[],
    requests: readonly Prepared[],
    options: RedisSendOptions | undefined,
    method: string,
  ): Promise<EventFrame<P>[]> {
    const timeoutMs = nonNegativeInteger(
      options?.timeoutMs,
      `${method} timeoutMs`,
      this.config.sendTimeoutMs,
    );
    const deadline = Date.now() + timeoutMs;
    // Set at the first attempt that may have reached Redis: a seq below that attempt's entry.
    let retryAfter: number | undefined;
    // The tags of the attempts that may have reached Redis, per event: a retry looks for them.
    const earlier: string[][] = requests.map(() => []);
    let lastError: unknown;
    // Behind sends already waiting for Redis: sends go out in the order they were made.
    let waitFirst = this.waitingSends > 0;
    for (;;) {
      if (this.config.isClosed()) throw new BusClosedError();
      if (!waitFirst && this.redis.status === 'ready') {
        // Entries up to this seq existed before this attempt was sent (replies and the tail
        // only report entries that exist), so this attempt's entry, if any, comes later.
        const floor = Math.max(this.maxStamped, this.config.head(), this.config.startSeq);
        // Each attempt has tags of its own, numbered in the order calls leave: the script's
        // fence then refuses an earlier attempt that arrives after this one landed.
        const entries = requests.map((request, i) => ({
          ...request,
          tag: this.nextTag(),
          earlier: earlier[i] as string[],
        }));
        const attempt = this.publisher.stampAll(entries, retryAfter);
        try {
          const stamps = await withTimeout(
            attempt,
            Math.max(deadline - Date.now(), this.config.retryDelayMs),
          );
          return this.framesOf(events, requests, stamps);
        } catch (error) {
          if (error instanceof PublishRefusedError) {
            const outcome = await this.refused(error);
            // The epoch moved, or a late attempt of this send was fenced: try again now.
            if (outcome instanceof ProducerIdInUseError) throw outcome;
            lastError = error;
            if (Date.now() < deadline && !(outcome instanceof RedisUnavailableError)) continue;
          } else {
            if (!isConnectionError(error)) throw error;
            lastError = error;
            if (!neverSent(error)) {
              retryAfter ??= floor;
              for (let i = 0; i < entries.length; i++) {
                earlier[i]?.push((entries[i] as { tag: string }).tag);
              }
            }
          }
        }
      }
      if (Date.now() >= deadline) {
        this.unavailable++;
        throw new RedisUnavailableError(
          this.config.stream,
          `${method} gave up after ${timeoutMs} ms (connection ${this.redis.status}${
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
      }, this.config.retryDelayMs);
    });
    return this.nextRetry;
  }

  /** Checks and encodes every event before any is sent; the error names the index. */
  private prepareAll(events: readonly AgentEvent<P>[], owner: string): Prepared[] {
    if (this.config.isClosed()) throw new BusClosedError();
    this.config.checks.checkAll(events, owner);
    return events.map((event, i) => {
      try {
        return this.prepare(event, true);
      } catch (error) {
        throw EventCheck.atIndex(error, i);
      }
    });
  }

  private prepare(event: AgentEvent<P>, checked = false): Prepared {
    if (this.config.isClosed()) throw new BusClosedError();
    if (!checked) this.config.checks.check(event);
    const laneId = event.laneId ?? DEFAULT_LANE;
    if (!isWellFormed(laneId)) {
      throw new InvalidEventError(
        'laneId',
        'laneId must be well-formed Unicode (it has a lone surrogate), got an ill-formed string',
      );
    }
    const ts = this.config.scheduler?.now() ?? Date.now();
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
    const limit = this.config.maxPayloadBytes;
    // A UTF-8 byte is at most 3 per UTF-16 unit: only long bodies are counted.
    if (body.length * 3 > limit) {
      const bytes = utf8Length(body);
      if (bytes > limit) {
        throw new InvalidEventError(
          'payload',
          `the event is ${bytes} bytes encoded, above maxPayloadBytes (${limit})`,
        );
      }
    }
    // laneSeq counts per lane id across the bus, as the in-memory bus does.
    return { laneId, laneKey: laneId, ts, body };
  }

  private framesOf(
    events: readonly AgentEvent<P>[],
    requests: readonly Prepared[],
    stamps: readonly Stamp[],
  ): EventFrame<P>[] {
    const frames: EventFrame<P>[] = [];
    for (let i = 0; i < stamps.length; i++) {
      const stamp = stamps[i] as Stamp;
      this.publishedHere++;
      if (stamp.seq > this.maxStamped) this.maxStamped = stamp.seq;
      frames.push(
        this.frameOf(events[i] as AgentEvent<P>, requests[i] as Prepared, stamp.seq, stamp.laneSeq),
      );
    }
    return frames;
  }

  private frameOf(
    event: AgentEvent<P>,
    request: { laneId: string; ts: number },
    seq: number,
    laneSeq: number,
  ): EventFrame<P> {
    const frame = FrameHub.createFrame(event, request.laneId, seq, laneSeq, request.ts);
    return this.config.freeze ? Object.freeze(frame) : frame;
  }
}

/** An event checked and encoded, ready for the script (its tag is given per attempt). */
interface Prepared {
  laneId: string;
  laneKey: string;
  ts: number;
  body: string;
}

/** The UTF-8 length of a string. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x800 && (unit < 0xd800 || unit > 0xdfff)) bytes += 2;
    // 2 bytes below U+0800; a surrogate pair: 2 units, 4 bytes.
    else if (unit >= 0x80) bytes += 1;
  }
  return bytes;
}
