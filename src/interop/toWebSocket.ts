import {
  asyncScheduler,
  defer,
  from,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import {
  checkBoolean,
  checkFunction,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
  rangeError,
  typeError,
  validateQueueConfig,
} from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import { SlowConsumerError } from '../core/SlowConsumerError.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import type { DrainEngine, DrainSink } from '../internal/DrainEngine.js';
import { drainSource } from '../internal/drainSource.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import { CountingQueue, closeReason, defaultCursor, gapMessage } from './socketParts.js';

/** What a WebSocket's `send` takes, in a browser and in `ws` alike. */
export type WebSocketData = string | ArrayBuffer | ArrayBufferView;

/**
 * The part of a WebSocket the sink uses: the browser's `WebSocket` and the `ws` package's both
 * have it. `bufferedAmount` (bytes handed to `send` and not yet sent) is the backpressure signal.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Sends a message. */
  send(data: WebSocketData): void;
  /** Closes the connection with a code and a reason. */
  close(code?: number, reason?: string): void;
  /** Listens for the socket opening or closing. */
  addEventListener(type: 'open' | 'close', listener: () => void): void;
  /** Stops listening. */
  removeEventListener(type: 'open' | 'close', listener: () => void): void;
}

/**
 * A source that takes demand: given the credits the socket grants (the queue's capacity at first,
 * then one per value sent), it emits no more than granted. A bus subscription whose queue's
 * `demand` this is reads the log at the client's pace, so a replay from a cursor loses nothing.
 */
export type DemandDrivenSource<T> = (demand: Observable<number>) => ObservableInput<T>;

/** How far behind a client may fall before it is closed (see {@link ToWebSocketConfig.maxLag}). */
export interface WebSocketMaxLag {
  /** Values that may arrive while the socket stays full. Default: no limit. */
  frames?: number | undefined;
  /** How long, in ms, the socket may stay full. Default: no limit. */
  ms?: number | undefined;
}

/** The options of {@link toWebSocket}: a {@link QueueConfig}, the watermarks and eviction. */
export interface ToWebSocketConfig<T> extends QueueConfig<T> {
  /**
   * Bytes buffered in the socket (`bufferedAmount`) at which it counts as full: nothing more is
   * sent, values wait in the queue. Default: 262,144 (256 KiB).
   */
  highWaterMark?: number | undefined;
  /**
   * Bytes buffered at or below which a full socket takes values again. Default: a quarter of
   * `highWaterMark` (64 KiB by default).
   */
  lowWaterMark?: number | undefined;
  /**
   * How often, in ms, a full socket's `bufferedAmount` is read again (neither the browser nor
   * `ws` says when it drains). No timer runs while the socket is not full. Default: 10.
   */
  pollInterval?: number | undefined;
  /**
   * Slow-client eviction: once the socket has stayed full for `ms`, or `frames` values have
   * arrived meanwhile, the socket is closed with code 4008 and a reason carrying the resume
   * cursor (`slow consumer; resume after epoch:seq`, within the 123-byte limit of a close
   * reason), and the result errors with a `SlowConsumerError`. Default: none (a full socket
   * only makes the queue's `overflow` policy apply).
   */
  maxLag?: WebSocketMaxLag | undefined;
  /**
   * The resume cursor of a value sent. Default: `epoch:seq` for a value with a numeric `seq`
   * (an `EventFrame`), else none.
   */
  cursor?: ((value: T) => string | undefined) | undefined;
  /** The epoch the default `cursor` names (`bus.epoch`). Default: none (the seq alone). */
  epoch?: string | undefined;
  /** Turns a value into a message. Default: `JSON.stringify`. */
  serialize?: ((value: T) => WebSocketData) | undefined;
  /**
   * The message sent for a gap, before the next value, or `null` to send none (`onOverflow`
   * still hears of it). Default: `{"overflow":{policy,dropped,merged,fromSeq,toSeq}}` as JSON,
   * the seqs from the notice or from the `seq` of the values lost.
   */
  serializeGap?: ((notice: OverflowNotice<T>) => WebSocketData) | null | undefined;
  /**
   * Close the socket when the source ends: code 1000 on completion, 1011 on an error. Default:
   * `true`. Unsubscribing never closes it.
   */
  closeOnEnd?: boolean | undefined;
  /** Runs the polling and measures `maxLag.ms`. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Sends each value of `source` to a WebSocket (the browser's, or one of the `ws` package) as fast
 * as the socket drains: while its `bufferedAmount` is at or above `highWaterMark`, values wait in
 * a bounded queue whose `overflow` policy decides what is lost (terminal values by `classify`
 * never are; each gap is sent as a message and reported to `onOverflow` before the next value),
 * until the buffer is down to `lowWaterMark`. With `maxLag`, a client that stays full too long is
 * evicted: closed with code 4008 and its resume cursor, so that it reconnects with `after` and
 * reads what it missed from the log instead of holding memory for it.
 *
 * `source` may be an Observable, or a function of demand ({@link DemandDrivenSource}): then the
 * source emits only as the socket takes values, so a bus subscription reads the log at the
 * client's pace (a reconnect with a cursor replays without loss) and its own queue policy applies
 * to live frames while the client is slow.
 *
 * The result emits each value as it is sent; it completes when the source has completed and
 * everything queued was sent (closing the socket with 1000 unless `closeOnEnd` is false), or
 * when the socket closes. A source error closes the socket with 1011 and errors the result after
 * the values queued before it. Nothing is sent before the socket is open.
 *
 * ```text
 * capacity 2, overflow 'drop-oldest'; the socket is full from frame 2 to frame 8:
 * source: -a-b-c-d-e------|
 * sent:   -a-------(Gde)--(|)      G: the gap message { dropped: 2 } (b and c)
 * ```
 *
 * @example
 * ```ts
 * wss.on('connection', (socket) => {
 *   const frames = (demand: Observable<number>) =>
 *     bus.select({ runId: 'r1' }, { queue: { capacity: 512, overflow: 'drop-progress', demand } });
 *   toWebSocket(socket, frames, {
 *     capacity: 64,
 *     overflow: 'drop-oldest',
 *     epoch: bus.epoch,
 *     maxLag: { ms: 10_000 },
 *   }).subscribe({ error: (error) => console.warn(error) });
 * });
 * ```
 *
 * @throws RangeError or TypeError at once for a bad socket or bad options.
 */
export function toWebSocket<T>(
  socket: WebSocketLike,
  source: ObservableInput<T> | DemandDrivenSource<T>,
  options: ToWebSocketConfig<T>,
): Observable<T> {
  if (socket === null || typeof socket !== 'object' || typeof socket.send !== 'function') {
    throw typeError(OWNER, 'socket', 'a WebSocket', socket);
  }
  const config = checkConfig(options);
  return new Observable<T>((subscriber) =>
    new SocketSink(socket, subscriber, config).start(source),
  );
}

const OWNER = 'toWebSocket';
const OPEN = 1;
const CONNECTING = 0;

/** The options with their defaults, checked. */
interface SocketSinkConfig<T> {
  queue: QueueConfig<T>;
  high: number;
  low: number;
  pollInterval: number;
  maxFrames: number;
  maxMs: number;
  cursor: (value: T) => string | undefined;
  serialize: (value: T) => WebSocketData;
  serializeGap: ((notice: OverflowNotice<T>) => WebSocketData) | null;
  closeOnEnd: boolean;
  scheduler: SchedulerLike;
}

function checkConfig<T>(options: ToWebSocketConfig<T>): SocketSinkConfig<T> {
  validateQueueConfig(options, OWNER);
  const { highWaterMark = 262_144, pollInterval = 10, maxLag = {}, epoch } = options;
  checkPositiveInteger(highWaterMark, OWNER, 'highWaterMark');
  const { lowWaterMark = Math.floor(highWaterMark / 4) } = options;
  if (!Number.isInteger(lowWaterMark) || lowWaterMark < 0 || lowWaterMark >= highWaterMark) {
    throw rangeError(
      OWNER,
      'lowWaterMark',
      `an integer from 0 to ${highWaterMark - 1}`,
      lowWaterMark,
    );
  }
  checkPositiveNumber(pollInterval, OWNER, 'pollInterval', false, ' (ms)');
  checkOptions(maxLag, `${OWNER}: maxLag`);
  if (maxLag.frames !== undefined) checkPositiveInteger(maxLag.frames, OWNER, 'maxLag.frames');
  if (maxLag.ms !== undefined) checkPositiveNumber(maxLag.ms, OWNER, 'maxLag.ms', false, ' (ms)');
  if (epoch !== undefined && typeof epoch !== 'string') {
    throw typeError(OWNER, 'epoch', 'a string', epoch);
  }
  checkFunction(options.cursor, OWNER, 'cursor');
  checkFunction(options.serialize, OWNER, 'serialize');
  if (options.serializeGap !== null) checkFunction(options.serializeGap, OWNER, 'serializeGap');
  const { closeOnEnd = true, scheduler = asyncScheduler } = options;
  checkBoolean(closeOnEnd, OWNER, 'closeOnEnd');
  checkScheduler(scheduler, OWNER);
  return {
    queue: options,
    high: highWaterMark,
    low: lowWaterMark,
    pollInterval,
    maxFrames: maxLag.frames ?? Number.POSITIVE_INFINITY,
    maxMs: maxLag.ms ?? Number.POSITIVE_INFINITY,
    cursor: options.cursor ?? ((value) => defaultCursor(value, epoch)),
    serialize: options.serialize ?? ((value) => JSON.stringify(value)),
    serializeGap: options.serializeGap === undefined ? gapMessage : options.serializeGap,
    closeOnEnd,
    scheduler,
  };
}

/**
 * One socket's sink on the drain engine: the gate is open while the socket is open and not
 * full; a full socket is polled until it drains to the low watermark, or is evicted.
 */
class SocketSink<T> implements DrainSink<T, OverflowNotice<T>> {
  private engine!: DrainEngine<T, OverflowNotice<T>>;
  private readonly queue: CountingQueue<T>;
  private readonly poll: ScheduledTask;
  private fullSince = -1;
  private lastSent: { value: T } | undefined = undefined;
  /** Grants the source more credit, when it takes demand. */
  private grant: ((n: number) => void) | undefined = undefined;
  private done = false;
  private readonly onOpen = (): void => this.check();
  private readonly onClose = (): void => {
    if (this.done) return;
    this.done = true;
    this.engine.dispose();
    this.subscriber.complete();
  };

  constructor(
    private readonly socket: WebSocketLike,
    private readonly subscriber: Subscriber<T>,
    private readonly config: SocketSinkConfig<T>,
  ) {
    this.queue = new CountingQueue(new OverflowQueue<T>(config.queue));
    this.poll = new ScheduledTask(config.scheduler, () => this.check());
  }

  start(source: ObservableInput<T> | DemandDrivenSource<T>): () => void {
    const { socket, subscriber } = this;
    const input =
      typeof source === 'function'
        ? defer(() =>
            source(
              new Observable<number>((demand) => {
                this.grant = (n) => demand.next(n);
                demand.next(this.config.queue.capacity);
                return () => {
                  this.grant = undefined;
                };
              }),
            ),
          )
        : from(source);
    socket.addEventListener('open', this.onOpen);
    socket.addEventListener('close', this.onClose);
    drainSource(input, subscriber, this.queue, this, { schedule: 'now', credits: 0 }, (engine) => {
      this.engine = engine;
      if (socket.readyState > OPEN) this.onClose();
      else if (socket.readyState === OPEN) engine.setCredits(Number.POSITIVE_INFINITY);
    });
    return () => {
      this.done = true;
      this.poll.cancel();
      socket.removeEventListener('open', this.onOpen);
      socket.removeEventListener('close', this.onClose);
    };
  }

  get closed(): boolean {
    return this.done || this.subscriber.closed;
  }

  deliver(value: T): void {
    const { socket, config } = this;
    socket.send(config.serialize(value));
    this.lastSent = { value };
    this.grant?.(1);
    this.subscriber.next(value);
    if (socket.bufferedAmount >= config.high) this.becomeFull();
  }

  reportGap(notice: OverflowNotice<T>): void {
    const { config } = this;
    config.queue.onOverflow?.(notice);
    if (config.serializeGap !== null) this.socket.send(config.serializeGap(notice));
  }

  complete(): void {
    this.end(1000, 'done');
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.end(1011, 'source error');
    this.subscriber.error(error);
  }

  private end(code: number, reason: string): void {
    this.done = true;
    this.poll.cancel();
    const { socket } = this;
    if (this.config.closeOnEnd && socket.readyState <= OPEN) socket.close(code, reason);
  }

  private becomeFull(): void {
    this.fullSince = this.config.scheduler.now();
    this.queue.arrived = 0;
    this.queue.counting = true;
    this.engine.setCredits(0);
    this.poll.schedule(this.config.pollInterval);
  }

  /** The socket opened, or a poll: open the gate once drained, evict when too far behind. */
  private check(): void {
    const { socket, config, queue } = this;
    if (this.done || socket.readyState === CONNECTING) return;
    if (socket.readyState > OPEN) {
      this.onClose();
      return;
    }
    if (this.fullSince < 0 || socket.bufferedAmount <= config.low) {
      this.fullSince = -1;
      queue.counting = false;
      this.engine.setCredits(Number.POSITIVE_INFINITY);
      return;
    }
    const lagMs = config.scheduler.now() - this.fullSince;
    if (queue.arrived > config.maxFrames || lagMs >= config.maxMs) this.evict(lagMs);
    else this.poll.schedule(config.pollInterval);
  }

  private evict(lagMs: number): void {
    const { lastSent, config } = this;
    const cursor = lastSent === undefined ? undefined : config.cursor(lastSent.value);
    const error = new SlowConsumerError(cursor, this.queue.arrived, lagMs);
    this.end(4008, closeReason(cursor));
    this.engine.fail(error);
  }
}
