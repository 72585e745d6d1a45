import type { Redis } from 'ioredis';
import {
  from,
  Observable,
  type Observer,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { checkPositiveInteger, rangeError } from '../core/checks.js';
import { OverflowQueue } from '../core/OverflowQueue.js';
import type { OverflowNotice } from '../core/types.js';
import { DrainEngine } from '../internal/DrainEngine.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import type { DrainStats } from '../operators/drainStats.js';
import { type FailurePlan, HandlerPool } from '../operators/HandlerPool.js';
import { keepHeld } from './workQueueClaims.js';
import { idempotencyKey, type WorkItem } from './workQueueEntries.js';
import { createGroups, readJobs } from './workQueueReads.js';
import { WorkerStats } from './workQueueStats.js';
import type { WorkHandler, WorkOutcome } from './workQueueTypes.js';
import { IDLE_WAIT_MS, IdleWake } from './workQueueWake.js';
import { Acknowledger, DeliveryLimitError, moveToDeadLetters, putBack } from './workQueueWrites.js';

/** A worker's settings, checked and with their defaults. */
export interface WorkerSettings {
  redis: Redis;
  name: string;
  group: string;
  levels: number;
  consumer: string;
  /** The concurrency, or the Observable of them (nothing is read until it first emits). */
  concurrency: number | Observable<number>;
  visibilityMs: number;
  pollMs: number;
  claimEveryMs: number;
  maxDeliveries: number;
  scheduler: SchedulerLike;
  plan: FailurePlan<WorkItem<unknown>>;
  /** Where the worker's stats go, if anywhere, and how often the backlog is read. */
  stats: Pick<Observer<DrainStats>, 'next'> | undefined;
  statsEveryMs: number;
}

/**
 * One subscription of `RedisWorkQueue.process`: the jobs it holds run on `drainWith`'s handler
 * pool (retries, backoff, timeouts, dead letters), gated by the drain engine's credits, which are
 * its free slots. It reads from Redis only when it has free slots, and only as many jobs as it has
 * (`XAUTOCLAIM` of jobs idle longer than the visibility timeout first, then `XREADGROUP` of new
 * ones, each from the highest level down): it never holds more than its concurrency. With free
 * slots and nothing to read, it waits for a job to be added ({@link IdleWake}) instead of polling,
 * and still looks for jobs to take over every `claimEveryMs`. While it holds jobs, it claims them
 * again for itself every third of the visibility timeout, so that a long job is not taken over
 * while it runs.
 */
export class WorkerRun<J, R> {
  private readonly queue: OverflowQueue<WorkItem<J>>;
  private readonly pool: HandlerPool<WorkItem<J>, WorkOutcome<J, R>>;
  private readonly engine: DrainEngine<WorkItem<J>, OverflowNotice<WorkItem<J>>>;
  /** The jobs this worker holds, by stream and entry id: read and not yet acknowledged. */
  private readonly held = new Map<string, WorkItem<J>>();
  private readonly acks: Acknowledger;
  private readonly stats: WorkerStats | undefined = undefined;
  /**
   * Jobs whose acknowledgement is sent and not yet answered. A read sent after it runs after it in
   * Redis, so it may already take their slots: the jobs it brings start as the answers free them.
   */
  private acking = 0;
  /** The last acknowledgement failed: no reading ahead until one succeeds. */
  private ackFailed = false;
  /** Reads again after a failed read (Redis unreachable), or when a takeover is due. */
  private readonly poll: ScheduledTask;
  /** With free slots and nothing to read: waits for a job to be added (or a takeover to be due). */
  private readonly idle: IdleWake;
  /** Keeps the jobs held from looking idle to the other workers, every third of visibilityMs. */
  private readonly beat: ScheduledTask;
  private reading = false;
  private stopped = false;
  /** Dead-letter writes in progress (the output ends only once they are done). */
  private writes = 0;
  private lastClaim = Number.NEGATIVE_INFINITY;
  private groupsReady: Promise<void> | undefined = undefined;
  private grace: Subscription | undefined = undefined;
  private released: Promise<void> = Promise.resolve();
  private readonly ended: Promise<void>;

  constructor(
    private readonly subscriber: Subscriber<WorkOutcome<J, R>>,
    private readonly handler: WorkHandler<J, R>,
    private readonly s: WorkerSettings,
  ) {
    this.acks = new Acknowledger(s, (count) => {
      this.acking += count;
      if (!this.ackFailed) this.pump();
    });
    this.poll = new ScheduledTask(s.scheduler, () => this.pump());
    this.idle = new IdleWake(s, s.scheduler, () => this.pump());
    this.beat = new ScheduledTask(s.scheduler, () => {
      if (this.held.size === 0) return;
      keepHeld(this.s, this.held.values(), s.visibilityMs / 6).catch(() => undefined);
      this.beat.schedule(s.visibilityMs / 3);
    });
    const reactive = typeof s.concurrency !== 'number';
    const initial = typeof s.concurrency === 'number' ? s.concurrency : 0;
    // A read takes at most the free slots, each handed out at once: the queue only passes jobs on.
    this.queue = new OverflowQueue<WorkItem<J>>({
      capacity: reactive ? MAX_QUEUED : initial,
      overflow: 'error',
    });
    this.pool = new HandlerPool<WorkItem<J>, WorkOutcome<J, R>>(
      subscriber,
      (item, _index, attempt) => this.attempt(item, attempt),
      undefined,
      this.queue,
      initial,
      {
        ...(s.plan as FailurePlan<WorkItem<J>>),
        deadLetter: (item, error, attempts) => this.deadLetter(item, error, attempts),
      },
    );
    this.engine = new DrainEngine(this.queue, this.pool, {
      schedule: 'now',
      credits: initial,
      settled: () => this.pool.inFlight === 0 && this.writes === 0,
      afterDrain: () => {
        this.pump();
        this.pool.stats?.changed();
      },
    });
    this.pool.attach(this.engine);
    if (s.stats !== undefined) {
      this.stats = new WorkerStats(s.stats, this.pool, s, s.statsEveryMs, s.scheduler, (error) =>
        this.engine.fail(error),
      );
      this.pool.stats = this.stats.reporter;
      this.stats.start();
    }
    if (typeof s.concurrency !== 'number') {
      const fail = (error: unknown): void => this.engine.fail(error);
      subscriber.add(
        s.concurrency.subscribe({
          next: (limit) => {
            try {
              checkPositiveInteger(limit, `${OWNER}.process`, 'concurrency');
              if (limit > MAX_QUEUED) {
                throw rangeError(`${OWNER}.process`, 'concurrency', `at most ${MAX_QUEUED}`, limit);
              }
              this.pool.setConcurrency(limit);
            } catch (error) {
              fail(error);
            }
          },
          error: fail,
        }),
      );
    }
    this.ended = new Promise((resolve) => subscriber.add(() => resolve()));
    subscriber.add(() => this.teardown());
    this.pump();
  }

  /**
   * Stops taking jobs; the output completes once the jobs held are done. Those still running
   * after `graceMs` are cancelled and put back in their streams, to be taken at once by others.
   */
  stop(graceMs: number): Promise<void> {
    if (!this.subscriber.closed) {
      this.stopped = true;
      this.poll.cancel();
      this.idle.close();
      this.grace ??= this.s.scheduler.schedule(() => this.subscriber.complete(), graceMs);
      this.engine.complete();
    }
    return this.ended.then(() => this.released);
  }

  private teardown(): void {
    this.stopped = true;
    this.poll.cancel();
    this.idle.close();
    this.beat.cancel();
    this.stats?.stop();
    this.grace?.unsubscribe();
    this.engine.dispose();
    this.pool.dispose();
    const held = [...this.held.values()];
    this.held.clear();
    this.released = putBack(this.s, held);
  }

  /**
   * Reads as many jobs as there are free slots, unless a read is under way or there was nothing
   * to read: then the idle wait calls it once a job is added, and the poll task once jobs of
   * other workers may be taken over (the wait, which takes nothing, goes on meanwhile).
   */
  private pump(): void {
    if (this.reading || this.stopped) return;
    if (this.idle.isWaiting) {
      const untilTakeover = this.untilTakeover();
      if (untilTakeover > 0) {
        this.poll.schedule(untilTakeover);
        return;
      }
    }
    const free = this.pool.concurrency - this.pool.inFlight - this.queue.size + this.ahead();
    if (free <= 0) return;
    this.reading = true;
    this.poll.cancel();
    this.read(free).then(
      (items) => this.took(items),
      () => {
        // Redis unreachable, or the streams were deleted: the groups are made again next time.
        this.groupsReady = undefined;
        this.reading = false;
        if (!this.stopped) this.poll.schedule(this.s.pollMs);
      },
    );
  }

  private took(items: WorkItem<J>[]): void {
    if (this.stopped) {
      this.reading = false;
      this.putBackLater(items);
      return;
    }
    // Still marked as reading while the jobs are handed out, so that the drains they cause do not
    // read again before every job of this read is counted.
    let room = this.pool.concurrency - this.pool.inFlight - this.queue.size + this.ahead();
    const excess: WorkItem<J>[] = [];
    for (const item of items) {
      // Read for the slot of an acknowledgement that failed meanwhile: not held, put back.
      if (room-- <= 0) {
        excess.push(item);
        continue;
      }
      item.held = true;
      this.held.set(heldKey(item), item);
      if (item.deliveries > this.s.maxDeliveries) {
        // Delivered to workers that all died or stalled with it: it runs no more.
        if (this.pool.stats !== undefined) this.pool.stats.deadLettered++;
        this.deadLetter(item, new DeliveryLimitError(item, this.s.maxDeliveries), 0);
      } else {
        this.engine.accept(item);
      }
    }
    if (excess.length > 0) this.putBackLater(excess);
    this.stats?.took(items.length - excess.length);
    if (this.held.size > 0 && !this.beat.isPending) this.beat.schedule(this.s.visibilityMs / 3);
    this.reading = false;
    if (items.length === 0 && !this.stopped && !this.idle.isWaiting) {
      this.idle.start(IDLE_WAIT_MS, this.s.pollMs);
    }
    this.pump();
  }

  private async read(free: number): Promise<WorkItem<J>[]> {
    this.groupsReady ??= createGroups(this.s);
    await this.groupsReady;
    const takeOver = this.untilTakeover() <= 0;
    if (takeOver) this.lastClaim = this.s.scheduler.now();
    return readJobs<J>(this.s, free, takeOver, this.held);
  }

  /** Ms until the next look for jobs of other workers to take over (`claimEveryMs` apart). */
  private untilTakeover(): number {
    return this.lastClaim + this.s.claimEveryMs - this.s.scheduler.now();
  }

  /** One attempt at a job: the handler's work, then XACK (and XDEL) once it completed. */
  private attempt(item: WorkItem<J>, attempt: number): Observable<WorkOutcome<J, R>> {
    return new Observable<WorkOutcome<J, R>>((sub) => {
      if (item.decodeError !== undefined) throw item.decodeError;
      let result: R | undefined;
      return from(
        this.handler(item.job as J, {
          id: item.id,
          priority: item.level,
          attempt,
          deliveries: item.deliveries,
          redelivered: item.redelivered,
          idempotencyKey: idempotencyKey(this.s.name, item.id),
        }),
      ).subscribe({
        next: (value) => {
          result = value;
        },
        error: (error) => sub.error(error),
        complete: () => {
          // The handler succeeded: a failed acknowledgement (Redis unreachable) is tried again,
          // holding the slot, rather than counted as a failure of the job.
          const tryAcknowledge = (): void => {
            this.acks.acknowledge(item).then(
              () => {
                this.acking--;
                this.ackFailed = false;
                this.forget(item);
                if (sub.closed) return;
                sub.next({
                  status: 'done',
                  id: item.id,
                  job: item.job as J,
                  priority: item.level,
                  attempts: attempt,
                  result,
                  redelivered: item.redelivered,
                });
                sub.complete();
              },
              () => {
                this.acking--;
                this.ackFailed = true;
                this.keepWithinConcurrency();
                if (!sub.closed) this.s.scheduler.schedule(tryAcknowledge, this.s.pollMs);
              },
            );
          };
          tryAcknowledge();
        },
      });
    });
  }

  /**
   * An acknowledgement failed, so its job keeps its slot: jobs read for that slot meanwhile, not yet
   * started, are put back in their streams rather than held beyond the concurrency.
   */
  private keepWithinConcurrency(): void {
    const excess: WorkItem<J>[] = [];
    while (
      this.queue.size > 0 &&
      this.pool.inFlight + this.queue.size - this.ahead() > this.pool.concurrency
    ) {
      const item = this.queue.shift();
      this.forget(item);
      excess.push(item);
    }
    if (excess.length > 0) this.putBackLater(excess);
  }

  /** The slots a read may take ahead of their acknowledgement's answer. */
  private ahead(): number {
    return this.ackFailed ? 0 : this.acking;
  }

  /** Puts jobs not held back in their streams, after the puts-back before them. */
  private putBackLater(items: WorkItem<J>[]): void {
    const released = this.released;
    this.released = released.then(() => putBack(this.s, items));
  }

  /** The pool gave up on a job: it moves to the dead-letter stream (its slot is already free). */
  private deadLetter(item: WorkItem<J>, error: unknown, attempts: number): void {
    this.writes++;
    const write = (): void => {
      moveToDeadLetters(this.s, item, error, attempts).then(
        () => {
          this.writes--;
          this.forget(item);
          this.subscriber.next({
            status: 'dead-lettered',
            id: item.id,
            job: item.job,
            priority: item.level,
            attempts,
            error,
            redelivered: item.redelivered,
          });
          this.engine.request();
        },
        () => {
          // Redis unreachable: tried again while the output is open; once it ends, the job is
          // put back in its stream with the others held (or taken over after the visibility
          // timeout, when Redis stays unreachable).
          if (!this.subscriber.closed) this.s.scheduler.schedule(write, this.s.pollMs);
        },
      );
    };
    write();
  }

  private forget(item: WorkItem<J>): void {
    item.held = false;
    this.held.delete(heldKey(item));
  }
}

const OWNER = 'RedisWorkQueue';

/** The largest reactive concurrency (the capacity of the queue jobs pass through). */
const MAX_QUEUED = 65_536;

function heldKey(item: WorkItem<unknown>): string {
  return `${item.key} ${item.entryId}`;
}
