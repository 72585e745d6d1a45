import type { Observer, SchedulerLike } from 'rxjs';
import { type LatencyStats, LatencyWindow } from '../core/LatencyWindow.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';

/** What `drainWith` reports to its `stats` observer: a snapshot of its pool and its counters. */
export interface DrainStats {
  /** Values waiting in the queue for a free slot. */
  readonly waiting: number;
  /** Slots held: handler attempts running, and values waiting out a retry's backoff. */
  readonly inFlight: number;
  /** The concurrency in force (0 until a reactive `concurrency` first emits). */
  readonly concurrency: number;
  /** Values whose handler's work completed. */
  readonly completed: number;
  /** Attempts that failed: the handler threw, its work erred, or it timed out. */
  readonly failed: number;
  /** Attempts started again after a failure. */
  readonly retried: number;
  /** Values handed to `deadLetter` after their last attempt failed. */
  readonly deadLettered: number;
  /**
   * How long the handler's attempts took (from the call to the end of its work, completed or
   * failed), over the last 1,024 attempts, in ms on the operator's `scheduler`.
   */
  readonly handlerMs: LatencyStats;
}

/**
 * Where {@link StatsReporter} reads the pool's gauges.
 *
 * @internal
 */
export interface DrainGauges {
  readonly waiting: number;
  readonly inFlight: number;
  readonly concurrency: number;
}

/**
 * Reports a {@link DrainStats} snapshot when something changed, at most once per task of the
 * scheduler: every change marks a report as due, and the report, when it runs, reads the gauges
 * and the counters as they are then and says nothing when they equal the last snapshot. The
 * counters are bumped by the pool; the gauges are read from it.
 *
 * @internal
 */
export class StatsReporter {
  completed = 0;
  failed = 0;
  retried = 0;
  deadLettered = 0;
  /** The durations of the last attempts. */
  readonly durations = new LatencyWindow(1024);
  private last: DrainStats | undefined = undefined;
  private readonly task: ScheduledTask;

  /**
   * @param onThrow - what the observer's `next` throws in a scheduled report (it errors the stream).
   */
  constructor(
    private readonly observer: Pick<Observer<DrainStats>, 'next'>,
    private readonly gauges: DrainGauges,
    scheduler: SchedulerLike,
    onThrow: (error: unknown) => void,
  ) {
    this.task = new ScheduledTask(scheduler, () => {
      try {
        this.report();
      } catch (error) {
        onThrow(error);
      }
    });
  }

  /** Something changed: a report is due on the scheduler (one for any number of changes). */
  changed(): void {
    this.task.schedule();
  }

  /** Reports now whatever is due (the stream is about to complete). A throw is the caller's. */
  flush(): void {
    this.task.cancel();
    this.report();
  }

  /** Reports nothing more (the stream ended otherwise, or was unsubscribed). */
  cancel(): void {
    this.task.cancel();
  }

  private report(): void {
    const { gauges, last } = this;
    const { waiting, inFlight, concurrency } = gauges;
    if (
      last !== undefined &&
      last.waiting === waiting &&
      last.inFlight === inFlight &&
      last.concurrency === concurrency &&
      last.completed === this.completed &&
      last.failed === this.failed &&
      last.retried === this.retried &&
      last.deadLettered === this.deadLettered
    ) {
      return;
    }
    const snapshot: DrainStats = {
      waiting,
      inFlight,
      concurrency,
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      deadLettered: this.deadLettered,
      handlerMs: this.durations.stats(),
    };
    this.last = snapshot;
    this.observer.next(snapshot);
  }
}
