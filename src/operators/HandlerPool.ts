import { from, type ObservableInput, type SchedulerLike, type Subscriber } from 'rxjs';
import { checkPositiveInteger, rangeError } from '../core/checks.js';
import { HandlerTimeoutError } from '../core/HandlerTimeoutError.js';
import type { OverflowNotice } from '../core/types.js';
import { type DeadlineEntry, DeadlineList } from '../internal/DeadlineList.js';
import type { DrainEngine, DrainQueue, DrainSink } from '../internal/DrainEngine.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import type { DrainGauges, StatsReporter } from './drainStats.js';

/** The work `drainWith` does per value: the value, its index, and which attempt this is. */
export type DrainHandler<T, R> = (value: T, index: number, attempt: number) => ObservableInput<R>;

/** What the pool does when an attempt fails, as `drainWith`'s options set it. */
export interface FailurePlan<T> {
  /** Attempts per value, the first included (`Infinity`: until one succeeds). */
  maxAttempts: number;
  /** The wait before attempt `n + 1`, given `n` (ms on `scheduler`). */
  backoff: (attempt: number) => number;
  /** Where a value goes after its last attempt failed; without it that failure errors the output. */
  deadLetter: ((value: T, error: unknown, attempts: number) => void) | undefined;
  /** Ms an attempt may run before it fails (`Infinity`: no limit). */
  timeout: number;
  /** The clock of the backoff and timeout timers. */
  scheduler: SchedulerLike;
  /** Who the errors of timeouts and bad backoffs name. Default `'drainWith'`. */
  owner?: string | undefined;
}

const OWNER = 'drainWith';

/**
 * One value held by the pool, from its first attempt until it succeeds or is dead-lettered: its
 * attempt number, the work of the running attempt, its place among the running attempts'
 * deadlines, and the backoff wait before its next attempt. Its callbacks are made once, for every
 * attempt.
 */
class Job<T, R> implements DeadlineEntry<Job<T, R>> {
  attempt = 0;
  /** When the running attempt started (on the plan's scheduler), for the stats' durations. */
  startedAt = 0;
  inner: OperatorSubscriber<R> | undefined = undefined;
  /** The backoff before the next attempt (made at the first failure). */
  wait: ScheduledTask | undefined = undefined;
  deadline = 0;
  listed = false;
  earlier: Job<T, R> | undefined = undefined;
  later: Job<T, R> | undefined = undefined;
  readonly onError: (error: unknown) => void;
  readonly onComplete: () => void;

  constructor(
    pool: HandlerPool<T, R>,
    readonly value: T,
    readonly index: number,
  ) {
    this.onError = (error) => pool.attemptFailed(this, error);
    this.onComplete = () => pool.attemptCompleted(this);
  }
}

/**
 * The consumer side of `drainWith`: delivering a value takes one of the engine's credits (a slot)
 * and starts the handler on it; the slot is given back when the value's work completes, or when
 * the value is dead-lettered. The engine is thus the pool's gate: its credits are the free slots,
 * kept at "concurrency minus slots held" when the concurrency changes, and it ends the stream only
 * once no slot is held.
 *
 * Without a failure plan a failure errors the output at once (the plain path, one shared set of
 * callbacks for every handler call). With one, each value is a {@link Job} that keeps its slot
 * through its retries and their backoff, and whose attempts may time out.
 *
 * The Redis work queue runs its jobs on it too (hence its export from the root, for that entry).
 *
 * @internal
 */
export class HandlerPool<T, R> implements DrainSink<T, OverflowNotice<T>>, DrainGauges {
  /** Slots held: attempts running and values waiting out a backoff. */
  inFlight = 0;
  /** The concurrency in force. */
  concurrency: number;
  stats: StatsReporter | undefined = undefined;
  private calls = 0;
  private engine!: DrainEngine<T, OverflowNotice<T>>;
  /** The values held, with a failure plan (to cancel their timers on unsubscribe). */
  private readonly jobs: Set<Job<T, R>> | undefined;
  /** The deadlines of the running attempts, with a timeout. */
  private readonly deadlines: DeadlineList<Job<T, R>> | undefined;
  // One set of callbacks shared by every handler call of the plain path.
  private readonly onResult = (result: R): void => this.subscriber.next(result);
  private readonly onPlainError = (error: unknown): void => this.giveUp(error);
  private readonly onPlainComplete = (): void => {
    this.inFlight--;
    if (this.stats !== undefined) this.stats.completed++;
    this.engine.grant(1);
  };

  constructor(
    private readonly subscriber: Subscriber<R>,
    private readonly handler: DrainHandler<T, R>,
    private readonly onGap: ((notice: OverflowNotice<T>) => void) | undefined,
    private readonly queue: DrainQueue<T, OverflowNotice<T>>,
    concurrency: number,
    private readonly plan: FailurePlan<T> | undefined,
  ) {
    this.concurrency = concurrency;
    this.jobs = plan === undefined ? undefined : new Set();
    const timeout = plan?.timeout ?? Number.POSITIVE_INFINITY;
    this.deadlines =
      plan === undefined || timeout === Number.POSITIVE_INFINITY
        ? undefined
        : new DeadlineList<Job<T, R>>(plan.scheduler, timeout, (job) =>
            this.timedOut(job, timeout),
          );
  }

  attach(engine: DrainEngine<T, OverflowNotice<T>>): void {
    this.engine = engine;
  }

  get waiting(): number {
    return this.queue.size;
  }

  get closed(): boolean {
    return this.subscriber.closed;
  }

  /**
   * A new concurrency: raising it starts waiting values at once; lowering it starts nothing until
   * fewer slots than the new value are held. Anything but a positive integer or `Infinity` is
   * thrown (the caller errors the output with it).
   */
  setConcurrency(limit: number): void {
    checkPositiveInteger(limit, OWNER, 'concurrency', true);
    this.concurrency = limit;
    this.stats?.changed();
    this.engine.setCredits(limit - this.inFlight);
  }

  /** Takes a slot and starts the handler on `value`. */
  deliver(value: T): void {
    this.inFlight++;
    const index = this.calls++;
    if (this.jobs === undefined) {
      this.startPlain(value, index);
      return;
    }
    const job = new Job<T, R>(this, value, index);
    this.jobs.add(job);
    this.startAttempt(job);
  }

  reportGap(notice: OverflowNotice<T>): void {
    this.onGap?.(notice);
  }

  complete(): void {
    try {
      this.stats?.flush();
    } catch (error) {
      this.subscriber.error(error);
      return;
    }
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.stats?.cancel();
    this.subscriber.error(error);
  }

  /** Cancels every timer (the consumer unsubscribed, or the stream ended). */
  dispose(): void {
    this.stats?.cancel();
    this.deadlines?.clear();
    if (this.jobs === undefined) return;
    for (const job of this.jobs) job.wait?.cancel();
    this.jobs.clear();
  }

  /** An attempt of `job` ended: its duration goes to the stats. */
  private timed(job: Job<T, R>): void {
    if (this.stats === undefined) return;
    this.stats.durations.add((this.plan as FailurePlan<T>).scheduler.now() - job.startedAt);
  }

  /** Starts (or starts again) the work of a job, with its timeout armed first. */
  startAttempt(job: Job<T, R>): void {
    const attempt = ++job.attempt;
    if (this.stats !== undefined) job.startedAt = (this.plan as FailurePlan<T>).scheduler.now();
    if (attempt > 1 && this.stats !== undefined) {
      this.stats.retried++;
      this.stats.changed();
    }
    let work: ReturnType<typeof from<ObservableInput<R>>>;
    try {
      work = from(this.handler(job.value, job.index, attempt));
    } catch (error) {
      this.attemptFailed(job, error);
      return;
    }
    const inner = new OperatorSubscriber<R>(this.onResult, job.onError, job.onComplete);
    job.inner = inner;
    // Joined first, so that an unsubscribe during a synchronous inner emission stops it at once.
    this.subscriber.add(inner);
    work.subscribe(inner);
    // Counted down only for work still running (work that settled synchronously needs none), and
    // from after the work's own timers, so that work settling right at the limit is in time.
    if (job.inner === inner) this.deadlines?.add(job);
  }

  attemptCompleted(job: Job<T, R>): void {
    this.deadlines?.remove(job);
    this.timed(job);
    job.inner = undefined;
    this.release(job);
    if (this.stats !== undefined) this.stats.completed++;
    this.engine.grant(1);
  }

  timedOut(job: Job<T, R>, timeout: number): void {
    const inner = job.inner;
    job.inner = undefined;
    inner?.unsubscribe();
    const owner = this.plan?.owner ?? OWNER;
    this.attemptFailed(job, new HandlerTimeoutError(owner, job.value, job.attempt, timeout));
  }

  /**
   * An attempt failed: another one after the backoff (the slot kept meanwhile), else the value
   * goes to `deadLetter` and its slot is given back, else the failure errors the output.
   */
  attemptFailed(job: Job<T, R>, error: unknown): void {
    const plan = this.plan as FailurePlan<T>;
    this.deadlines?.remove(job);
    this.timed(job);
    const inner = job.inner;
    job.inner = undefined;
    inner?.unsubscribe();
    if (this.stats !== undefined) {
      this.stats.failed++;
      this.stats.changed();
    }
    if (job.attempt < plan.maxAttempts) {
      let delay: number;
      try {
        delay = plan.backoff(job.attempt);
      } catch (thrown) {
        this.engine.fail(thrown);
        return;
      }
      if (typeof delay !== 'number' || !(delay >= 0) || delay === Number.POSITIVE_INFINITY) {
        this.engine.fail(
          rangeError(
            plan.owner ?? OWNER,
            `retry.backoff(${job.attempt})`,
            'a finite number of ms >= 0',
            delay,
          ),
        );
        return;
      }
      job.wait ??= new ScheduledTask(plan.scheduler, () => this.startAttempt(job));
      job.wait.schedule(delay);
      return;
    }
    if (plan.deadLetter === undefined) {
      this.engine.fail(error);
      return;
    }
    // The slot is given back before calling out, and granted after: whatever deadLetter does
    // (push into the source, unsubscribe) meets a pool already without this value.
    this.release(job);
    if (this.stats !== undefined) this.stats.deadLettered++;
    try {
      plan.deadLetter(job.value, error, job.attempt);
    } catch (thrown) {
      this.engine.fail(thrown);
      return;
    }
    this.engine.grant(1);
  }

  private release(job: Job<T, R>): void {
    this.inFlight--;
    this.jobs?.delete(job);
  }

  /** The plain path: no retry, no dead letter, no timeout. A failure errors the output. */
  private startPlain(value: T, index: number): void {
    let work: ReturnType<typeof from<ObservableInput<R>>>;
    try {
      work = from(this.handler(value, index, 1));
    } catch (error) {
      this.giveUp(error);
      return;
    }
    const inner = new OperatorSubscriber<R>(this.onResult, this.onPlainError, this.onPlainComplete);
    // Joined first, so that an unsubscribe during a synchronous inner emission stops it at once.
    this.subscriber.add(inner);
    work.subscribe(inner);
  }

  private giveUp(error: unknown): void {
    if (this.stats !== undefined) this.stats.failed++;
    this.engine.fail(error);
  }
}
