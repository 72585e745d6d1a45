/**
 * A worker's {@link DrainStats}, as `drainWith` reports them, with `waiting` the queue's backlog in
 * Redis: polled every `statsEveryMs`, not read per job.
 */
import type { Observer, SchedulerLike } from 'rxjs';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import { type DrainGauges, type DrainStats, StatsReporter } from '../operators/drainStats.js';
import { levelKey } from './workQueueEntries.js';
import type { ReadTarget } from './workQueueReads.js';

/**
 * The jobs of a queue that no worker of the group has taken yet: over every level, the stream's
 * length (XLEN) minus the jobs workers hold (XPENDING's count). Acknowledged and dead-lettered
 * jobs are deleted from their streams, so what is left is waiting or held.
 */
export async function backlogOf(
  target: Omit<ReadTarget, 'consumer' | 'visibilityMs'>,
): Promise<number> {
  const { redis, name, group, levels } = target;
  const batch = redis.pipeline();
  for (let level = 0; level < levels; level++) {
    batch.xlen(levelKey(name, level)).xpending(levelKey(name, level), group);
  }
  const replies = (await batch.exec()) ?? [];
  let backlog = 0;
  for (let k = 0; k + 1 < replies.length; k += 2) {
    const [lengthError, length] = replies[k] as [Error | null, unknown];
    const [pendingError, summary] = replies[k + 1] as [Error | null, unknown];
    if (lengthError !== null) throw lengthError;
    // No group yet (no worker has read this level): nothing is held.
    if (pendingError !== null && !String(pendingError).includes('NOGROUP')) throw pendingError;
    backlog += Number(length) - (pendingError === null ? Number((summary as [number])[0]) : 0);
  }
  return Math.max(0, backlog);
}

/**
 * The stats of one worker: its pool's slots and counters, and the backlog in Redis, read when the
 * worker starts and then every `everyMs` on `scheduler`; between two readings, the jobs this worker
 * takes are subtracted from it (those other workers take, or producers add, show at the next
 * reading). A reading that fails (Redis unreachable, the groups not made yet) keeps the last
 * backlog.
 */
export class WorkerStats implements DrainGauges {
  /** The pool's counters (bumped by the pool) and the reports. */
  readonly reporter: StatsReporter;
  private backlog = 0;
  private stopped = false;
  private readonly poll: ScheduledTask;

  constructor(
    observer: Pick<Observer<DrainStats>, 'next'>,
    /** The worker's own gauges: `waiting` are the jobs it read and has not started. */
    private readonly pool: DrainGauges,
    private readonly target: Omit<ReadTarget, 'consumer' | 'visibilityMs'>,
    private readonly everyMs: number,
    scheduler: SchedulerLike,
    onThrow: (error: unknown) => void,
  ) {
    this.reporter = new StatsReporter(observer, this, scheduler, onThrow);
    this.poll = new ScheduledTask(scheduler, () => this.read());
  }

  get waiting(): number {
    return this.backlog + this.pool.waiting;
  }

  get inFlight(): number {
    return this.pool.inFlight;
  }

  get concurrency(): number {
    return this.pool.concurrency;
  }

  /** Reads the backlog now, then every `everyMs`. */
  start(): void {
    this.read();
  }

  /** This worker took `count` jobs from the backlog. */
  took(count: number): void {
    this.backlog = Math.max(0, this.backlog - count);
  }

  /** Reads nothing more. */
  stop(): void {
    this.stopped = true;
    this.poll.cancel();
  }

  private read(): void {
    backlogOf(this.target)
      .then(
        (backlog) => {
          if (this.stopped) return;
          this.backlog = backlog;
          this.reporter.changed();
        },
        () => undefined,
      )
      .finally(() => {
        if (!this.stopped) this.poll.schedule(this.everyMs);
      });
  }
}
