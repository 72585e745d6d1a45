import type { SchedulerLike } from 'rxjs';
import type { PushOutcome } from '../core/OverflowQueue.js';
import { ScheduledTask } from './ScheduledTask.js';

/**
 * What the engine takes items from: `OverflowQueue`, `PriorityOverflowQueue`, or any structure
 * offering the same steps (the lane merger of `mergeLanes`, the summary board of
 * `summarizeProgress`).
 */
export interface DrainQueue<T, N> {
  /** Whether nothing may be taken now. */
  readonly isEmpty: boolean;
  /** How many items a batch takes (the credits of a scheduled task or a flush tick). */
  readonly size: number;
  /** Takes the next item out; only called when `isEmpty` is false. */
  shift(): T;
  /**
   * The gap before the item just taken (values dropped or merged since the last call), or, when
   * the queue is empty and the stream ends, the gap nothing follows. `undefined` when none.
   */
  takeNotice(): N | undefined;
  /** Forgets every item (on unsubscribe). */
  clear(): void;
}

/** A queue that the engine itself pushes the source's values into. */
export interface PushQueue<T, N> extends DrainQueue<T, N> {
  push(value: T): PushOutcome;
  /** The error of the `'error'` policy's overflow. */
  overflowError(value: T): Error;
}

/** Where the engine hands things: the consumer side of an operator. */
export interface DrainSink<T, N> {
  /** Whether the consumer went away: the engine stops at once. */
  readonly closed: boolean;
  /** Delivers one item. A throw errors the stream at once. */
  deliver(item: T): void;
  /** Reports a gap, just before the item it precedes. A throw errors the stream at once. */
  reportGap(notice: N): void;
  complete(): void;
  error(error: unknown): void;
}

/**
 * When the engine drains:
 * - `'now'`: whenever there is something to take and credit to take it (demand, concurrency
 *   slots, waiting `next()` calls, or unlimited);
 * - a `SchedulerLike`: a burst is taken in one task on that scheduler; each task takes what was
 *   queued when it started;
 * - `'tick'`: only when {@link DrainEngine.tick} is called (a `flushOn` notifier); each tick takes
 *   what was queued at that moment.
 */
export type DrainSchedule = 'now' | 'tick' | SchedulerLike;

/** How a {@link DrainEngine} is configured: its gate, its schedule and its hooks. */
export interface DrainEngineConfig {
  /** When to drain. */
  schedule: DrainSchedule;
  /**
   * The gate under `'now'`: items that may be taken before more credit is granted
   * (`Infinity`: unlimited). Ignored by the other schedules, whose credit is each batch's size.
   */
  credits?: number | undefined;
  /** Stops the source (a push failed, or the stream failed): no value is accepted after. */
  stopSource?: (() => void) | undefined;
  /**
   * Whether the consumer side holds nothing more (`drainWith`: no handler in flight). The stream
   * ends only then. Default: always.
   */
  settled?: (() => boolean) | undefined;
  /** Runs after each drain that stopped with the stream still open (to arm a timer, say). */
  afterDrain?: (() => void) | undefined;
}

/**
 * The one drain loop of the library. Every consumer of a queue (boundedQueue, drainWith,
 * toAsyncIterable, mergeLanes, summarizeProgress, bus subscribers) is a configuration of it: a
 * queue, a gate (credits), a schedule and a sink.
 *
 * One step, always in this order: (1) stop if the gate is closed or the queue is empty; (2) take
 * the item off the queue, then the notice of the gap before it; (3) report the gap; (4) deliver
 * the item; repeat. Taking the item first means nothing a callback does during (3) can evict it
 * or let another value overtake its notice.
 *
 * The engine is never re-entered: a push, a grant or an unsubscribe from inside a callback only
 * changes state and returns, and the running step picks it up. It marks a drain as scheduled
 * before calling the scheduler and clears the mark inside the task, so a scheduler that runs the
 * task at once (`queueScheduler`) works. It ends only when the source is done, the queue is empty
 * and the sink is settled (with the source's error after the items accepted before it), reporting
 * a last gap first; when the consumer goes away mid-step it stops without throwing into the
 * producer.
 *
 * Exported from the root for the other entries (the Redis work queue): not part of the API.
 *
 * @internal
 */
export class DrainEngine<T, N> {
  private credits: number;
  private readonly batched: boolean;
  /** The drain task, under a scheduler. */
  private readonly task: ScheduledTask | undefined;
  private draining = false;
  private sourceDone = false;
  private endError: { error: unknown } | undefined = undefined;
  /** The final notification was sent (or the consumer left): nothing more happens. */
  private ended = false;
  private readonly stopSource: (() => void) | undefined;
  private readonly settled: (() => boolean) | undefined;
  private readonly afterDrain: (() => void) | undefined;

  constructor(
    private readonly queue: DrainQueue<T, N>,
    private readonly sink: DrainSink<T, N>,
    config: DrainEngineConfig,
  ) {
    const { schedule } = config;
    this.batched = schedule !== 'now';
    this.task =
      typeof schedule === 'object' ? new ScheduledTask(schedule, () => this.tick()) : undefined;
    this.credits = this.batched ? 0 : (config.credits ?? Number.POSITIVE_INFINITY);
    this.stopSource = config.stopSource;
    this.settled = config.settled;
    this.afterDrain = config.afterDrain;
  }

  /** Whether the source is done (completed, errored, or stopped by a failed push). */
  get isSourceDone(): boolean {
    return this.sourceDone;
  }

  /** Whether the stream is over: the final notification was sent, or the consumer left. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Pushes a source value into the queue (a {@link PushQueue}). A push that throws (a classifier,
   * a coalesce key or merge) or overflows under `'error'` stops the source: the error then ends
   * the stream after the values already queued.
   */
  accept(value: T): void {
    if (this.sourceDone) return;
    const queue = this.queue as PushQueue<T, N>;
    let outcome: PushOutcome;
    try {
      outcome = queue.push(value);
    } catch (error) {
      this.stop(error);
      return;
    }
    if (outcome === 'overflow') this.stop(queue.overflowError(value));
    else this.request();
  }

  /** There may be something new to take (a value was put in the queue by other means). */
  request(): void {
    if (this.task === undefined) {
      // Under 'tick' there is no credit outside a tick: the drain only checks for the end.
      this.drain();
    } else if (!this.draining && !this.queue.isEmpty) {
      this.task.schedule();
    } else {
      this.finishIfDone();
    }
  }

  /** Opens the gate for `n` more items (`Infinity`: for good), under the `'now'` schedule. */
  grant(n: number): void {
    this.credits += n;
    this.drain();
  }

  /**
   * Sets the gate to `n` items under the `'now'` schedule, whatever it was: how a gate whose limit
   * changes (a reactive `concurrency`) is kept at "limit minus items held". Below zero the gate
   * stays closed until that many grants have come back.
   */
  setCredits(n: number): void {
    this.credits = n;
    this.drain();
  }

  /** A flush tick or a scheduled task: takes what is queued now. */
  tick(): void {
    this.credits = this.queue.size;
    this.drain();
  }

  /** The source completed: the stream completes once the queue is empty. */
  complete(): void {
    this.sourceDone = true;
    this.request();
  }

  /** The source errored: the stream errors once the values queued before are delivered. */
  error(error: unknown): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.endError = { error };
    this.request();
  }

  /** Stops taking values: the stream ends with `error` after the values already queued. */
  stop(error: unknown): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.endError = { error };
    this.stopSource?.();
    this.request();
  }

  /** Errors the stream at once (the consumer side failed): queued values are not delivered. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.dispose();
    this.stopSource?.();
    this.sink.error(error);
  }

  /** Stops everything and frees the queue (the consumer unsubscribed). */
  dispose(): void {
    // Done as well as ended: a value the source still sends is not queued.
    this.ended = true;
    this.sourceDone = true;
    this.task?.cancel();
    this.queue.clear();
  }

  /** Runs the steps while the gate is open and the queue holds something. */
  drain(): void {
    if (this.draining || this.ended) return;
    this.draining = true;
    const { queue, sink } = this;
    try {
      while (this.credits > 0 && !queue.isEmpty && !sink.closed && !this.ended) {
        this.credits--;
        const item = queue.shift();
        const notice = queue.takeNotice();
        if (notice !== undefined) {
          sink.reportGap(notice);
          if (sink.closed || this.ended) return;
        }
        sink.deliver(item);
      }
    } catch (error) {
      this.fail(error);
      return;
    } finally {
      this.draining = false;
    }
    if (this.ended || sink.closed) return;
    if (this.batched) {
      this.credits = 0;
      if (this.task !== undefined && !queue.isEmpty) this.task.schedule();
    }
    this.afterDrain?.();
    this.finishIfDone();
  }

  private finishIfDone(): void {
    if (!this.sourceDone || this.draining || this.ended || this.sink.closed) return;
    if (!this.queue.isEmpty || (this.settled !== undefined && !this.settled())) return;
    const { sink } = this;
    const end = this.endError;
    this.ended = true;
    const notice = this.queue.takeNotice();
    if (notice !== undefined) {
      try {
        sink.reportGap(notice);
      } catch (error) {
        sink.error(error);
        return;
      }
      if (sink.closed) return;
    }
    if (end === undefined) sink.complete();
    else sink.error(end.error);
  }
}
