import type { ObservableInput, SchedulerLike, Subscriber } from 'rxjs';
import { asapScheduler } from 'rxjs';
import { type LaneGap, LaneMerger, type LaneQueueOptions } from '../core/LaneMerger.js';
import { backwardsTimestamp, badTimestamp, type Laned } from '../core/laneOrder.js';
import type { OverflowNotice } from '../core/types.js';
import { DrainEngine, type DrainSink } from '../internal/DrainEngine.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';

const OWNER = 'mergeLanes';

/** What a {@link LaneRun} needs of `mergeLanes`' options (checked already). */
export interface LaneRunOptions<T> {
  readonly order?: 'arrival' | 'timestamp' | undefined;
  readonly timestamp?: ((value: T) => number) | undefined;
  readonly maxSkew?: number | undefined;
  readonly lane?:
    | (LaneQueueOptions<T> & {
        onOverflow?: ((notice: OverflowNotice<T>, lane: string) => void) | undefined;
      })
    | undefined;
  readonly onLate?: ((late: Laned<T>, lateCount: number) => void) | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

/**
 * One subscription of {@link mergeLanes} with a lane merger: the lanes push into the merger, a
 * drain engine takes from it (at once under `'timestamp'`, on the scheduler under `'arrival'`)
 * and hands to the subscriber, which is this run's sink.
 */
export class LaneRun<T> implements DrainSink<Laned<T>, LaneGap<T>> {
  private readonly merger: LaneMerger<T>;
  private readonly engine: DrainEngine<Laned<T>, LaneGap<T>>;
  private readonly byTimestamp: boolean;
  private readonly skewed: boolean;
  private readonly scheduler: SchedulerLike;
  private readonly timestamp: (value: T) => number;
  private readonly onLate: ((late: Laned<T>, lateCount: number) => void) | undefined;
  private readonly onOverflow: ((notice: OverflowNotice<T>, lane: string) => void) | undefined;
  private readonly laneSubscribers: OperatorSubscriber<T>[] = [];
  private lanesOpen: number;
  private lateCount = 0;
  /** Set by the first failure: then everything held goes out, and the stream errors with it. */
  private failure: { error: unknown } | undefined = undefined;
  /** The maxSkew timer, due when the smallest held value may go although lanes are idle. */
  private readonly timer: ScheduledTask;
  private timerDue = Number.NaN;

  constructor(
    private readonly subscriber: Subscriber<Laned<T>>,
    ids: readonly string[],
    options: LaneRunOptions<T>,
  ) {
    const { order, maxSkew, lane, scheduler = asapScheduler } = options;
    this.byTimestamp = order === 'timestamp';
    this.skewed = this.byTimestamp && maxSkew !== undefined && maxSkew !== Number.POSITIVE_INFINITY;
    this.scheduler = scheduler;
    this.timestamp = options.timestamp as (value: T) => number;
    this.onLate = options.onLate;
    this.onOverflow = lane?.onOverflow;
    this.lanesOpen = ids.length;
    this.timer = new ScheduledTask(scheduler, () => {
      this.timerDue = Number.NaN;
      this.engine.request();
    });
    this.merger = new LaneMerger<T>({
      ids,
      order: this.byTimestamp ? 'timestamp' : 'arrival',
      maxSkew,
      now: () => scheduler.now(),
      lane,
    });
    this.engine = new DrainEngine(this.merger, this, {
      schedule: this.byTimestamp ? 'now' : scheduler,
      credits: Number.POSITIVE_INFINITY,
      stopSource: () => {
        for (const laneSubscriber of this.laneSubscribers) laneSubscriber.unsubscribe();
      },
      afterDrain: this.skewed ? () => this.armTimer() : undefined,
    });
  }

  /** Subscribes the lanes, in the order given. */
  start(inputs: ReadonlyArray<{ rank: number; input: ObservableInput<T> }>): void {
    const { subscriber, engine } = this;
    subscriber.add(() => {
      this.disarmTimer();
      engine.dispose();
    });
    for (const { rank } of inputs) {
      const laneSubscriber = new OperatorSubscriber<T>(
        (value) => this.onValue(rank, value),
        this.end,
        () => this.onComplete(rank),
      );
      this.laneSubscribers.push(laneSubscriber);
      // Joined before any lane is subscribed: an unsubscribe during a synchronous emission then
      // closes every lane at once.
      subscriber.add(laneSubscriber);
    }
    if (inputs.length === 0) engine.complete();
    inputs.forEach(({ input }, index) => {
      if (this.failure === undefined) {
        subscribeWithin(subscriber, input, this.laneSubscribers[index]!);
      }
    });
  }

  get closed(): boolean {
    return this.subscriber.closed;
  }

  deliver(item: Laned<T>): void {
    this.subscriber.next(item);
  }

  /**
   * A first throw of `onOverflow` ends the stream like a failing lane (the gap was handed over,
   * so what follows it may still go); a throw while ending reaches the engine, which errors at
   * once.
   */
  reportGap({ notice, lane }: LaneGap<T>): void {
    const { onOverflow } = this;
    if (onOverflow === undefined) return;
    if (this.failure !== undefined) {
      onOverflow(notice, lane);
      return;
    }
    try {
      onOverflow(notice, lane);
    } catch (error) {
      this.end(error);
    }
  }

  complete(): void {
    // The lanes had all completed before the failure (a throwing onOverflow), so the engine,
    // whose source was done, did not take the failure as its end.
    if (this.failure !== undefined) this.subscriber.error(this.failure.error);
    else this.subscriber.complete();
  }

  error(error: unknown): void {
    this.subscriber.error(error);
  }

  /** A lane's value; whatever this throws (a callback, a refused value) ends the stream. */
  private onValue(rank: number, value: T): void {
    if (this.failure !== undefined) return;
    const merger = this.merger;
    if (!this.byTimestamp) {
      if (merger.push(rank, value, 0, 0) === 'overflow') throw merger.overflowError(rank, value);
      this.engine.request();
      return;
    }
    const ts = this.timestamp(value);
    // NaN is the only number not equal to itself; the check is inlined on this hot path.
    // biome-ignore lint/suspicious/noSelfCompare: see above.
    if (typeof ts !== 'number' || ts !== ts) throw badTimestamp(OWNER, merger.idOf(rank), ts);
    if (merger.isLate(rank, ts)) {
      const late = merger.lateValue(rank, value);
      this.onLate?.(late, ++this.lateCount);
      merger.pushLate(rank, late);
    } else {
      const outcome = merger.push(rank, value, ts, this.skewed ? this.scheduler.now() : 0);
      if (outcome === 'backwards') {
        throw backwardsTimestamp(OWNER, merger.idOf(rank), merger.lastTsOf(rank), ts);
      }
      if (outcome === 'overflow') throw merger.overflowError(rank, value);
    }
    // Without maxSkew, a value that cannot go yet needs no drain (and no timer).
    if (this.skewed || !merger.isEmpty) this.engine.request();
  }

  private onComplete(rank: number): void {
    if (this.failure !== undefined) return;
    this.merger.endLane(rank);
    if (--this.lanesOpen === 0) this.engine.complete();
    else this.engine.request();
  }

  /**
   * Ends the stream with `error`: every lane is let go, so nothing more is accepted, and every
   * value already held goes out first, at once (an error never drops what was
   * accepted).
   */
  private readonly end = (error: unknown): void => {
    if (this.failure !== undefined || this.engine.isEnded) return;
    this.failure = { error };
    this.merger.beginEnding();
    this.engine.stop(error);
    // Under 'arrival' the values held go now, not in the next task on the scheduler.
    if (!this.byTimestamp) this.engine.tick();
  };

  /** After a drain: a timer for the smallest held value when it waits for idle lanes. */
  private armTimer(): void {
    const due = this.merger.releaseDue();
    if (Number.isNaN(due)) {
      this.disarmTimer();
    } else if (!this.timer.isPending || this.timerDue !== due) {
      this.timer.cancel();
      this.timerDue = due;
      this.timer.schedule(Math.max(0, due - this.scheduler.now()));
    }
  }

  private disarmTimer(): void {
    this.timer.cancel();
    this.timerDue = Number.NaN;
  }
}
