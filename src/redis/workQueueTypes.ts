import type { Redis } from 'ioredis';
import type { Observable, ObservableInput, Observer, SchedulerLike } from 'rxjs';
import type { DrainStats } from '../operators/drainStats.js';

/** The options of {@link RedisWorkQueue}. */
export interface RedisWorkQueueConfig {
  /**
   * An ioredis client. Every command of the queue goes through it but one: a worker waiting for
   * jobs blocks on a connection of its own (`redis.duplicate()`), which it closes when it ends.
   * `close()` leaves this client open. Required.
   */
  redis: Redis;
  /**
   * The queue's name, shared by every process that adds or works on it: the streams are
   * `<name>:p0` … `<name>:p<levels - 1>`, the dead letters `<name>:dead`. On Redis Cluster put it
   * in a hash tag (`{mail}`): one transaction or script may touch several of the queue's keys, which
   * must then share a slot. Required.
   */
  name: string;
  /** Priority levels: jobs take a priority from 0 to `levels - 1`, the highest read first. Default 1. */
  levels?: number | undefined;
  /** The consumer group every worker of this queue joins. Default `'workers'`. */
  group?: string | undefined;
  /** The largest job accepted by `add`, in bytes of its JSON (UTF-8). Default 1,048,576 (1 MiB). */
  maxPayloadBytes?: number | undefined;
  /**
   * How long a job `add`ed with an `id` keeps that id taken (a second `add` with it adds nothing),
   * in ms. Default 86,400,000 (a day).
   */
  idTtlMs?: number | undefined;
}

/** The options of {@link RedisWorkQueue.add}. */
export interface AddJobOptions {
  /** An integer from 0 to `levels - 1`; a higher one is taken first. Default 0. */
  priority?: number | undefined;
  /**
   * The job's id, handed to the handler (see {@link idempotencyKey}). While it is taken (see
   * `idTtlMs`), adding another job with it adds nothing. Default: a random id.
   */
  id?: string | undefined;
}

/** What {@link RedisWorkQueue.add} did. */
export interface AddedJob {
  /** The job's id. */
  readonly id: string;
  /** False when a job with this id was already added (within `idTtlMs`): nothing was added. */
  readonly added: boolean;
}

/** What a handler learns of the job it runs, besides the job itself. */
export interface WorkContext {
  /** The job's id (the same on every delivery of the job). */
  readonly id: string;
  /** The job's priority level. */
  readonly priority: number;
  /** Which attempt of this delivery this is: 1, then 2… under `retry`. */
  readonly attempt: number;
  /**
   * How many times Redis has delivered the job to a worker, this time included: more than 1 for
   * a job taken over from a worker that died or stalled.
   */
  readonly deliveries: number;
  /**
   * True when this worker took the job over from another worker (that died, or held it longer
   * than `visibilityMs`) or from a worker that closed before running it: the job may already have
   * run, in part or in full.
   */
  readonly redelivered: boolean;
  /** A key naming this job in this queue, the same on every delivery: see {@link idempotencyKey}. */
  readonly idempotencyKey: string;
}

/** The work a worker does per job. Its last emission (if any) becomes the outcome's `result`. */
export type WorkHandler<J, R> = (job: J, context: WorkContext) => ObservableInput<R>;

/** How {@link RedisWorkQueue.process} retries a job whose handler failed (as `drainWith`'s `retry`). */
export interface WorkRetryConfig {
  /** Attempts per delivery, the first included: a positive integer. Required. */
  maxAttempts: number;
  /** The wait in ms before attempt `n + 1`, given `n`, on `scheduler`. Default: `() => 0`. */
  backoff?: ((attempt: number) => number) | undefined;
}

/** The options of {@link RedisWorkQueue.process}. */
export interface WorkerConfig {
  /**
   * How many jobs this worker holds at once: it reads from Redis only as many jobs as it has free
   * slots, so it never holds more. A positive integer, or an Observable of them: raising it reads
   * more jobs at once; lowering it lets the jobs held finish and reads nothing until fewer are
   * held than the new value (nothing is read until it first emits; a bad value or an error of it
   * errors the output). Default 1.
   */
  concurrency?: number | Observable<number> | undefined;
  /**
   * Retries a job whose handler throws, errors or times out, in this worker, holding its slot
   * during the backoff. After the last attempt the job goes to the dead-letter stream. Default:
   * one attempt.
   */
  retry?: WorkRetryConfig | undefined;
  /**
   * Ms an attempt may run before it fails with a `HandlerTimeoutError` naming the job. A
   * positive number or `Infinity`. Default: `Infinity`.
   */
  timeout?: number | undefined;
  /**
   * How long a job may stay unacknowledged with a worker that gives no sign of life before another
   * worker takes it over (`XAUTOCLAIM`): the time a dead worker's jobs wait. A live worker keeps
   * the jobs it runs from looking idle (`XCLAIM … JUSTID` every third of it). Default 30,000 ms.
   */
  visibilityMs?: number | undefined;
  /**
   * How long to wait before trying again after Redis failed (a read, an acknowledgement, a
   * dead-letter write), in ms. An idle worker does not poll: it waits for a job to be added with a
   * blocking read on a connection of its own, which takes nothing. Default 100.
   */
  pollMs?: number | undefined;
  /** How often a worker with free slots looks for jobs to take over, in ms. Default `visibilityMs / 2`. */
  claimEveryMs?: number | undefined;
  /**
   * A job taken over more than this many times in all (its workers died or stalled with it) runs
   * no more: it goes to the dead-letter stream with a `DeliveryLimitError`. A positive integer.
   * Default 5.
   */
  maxDeliveries?: number | undefined;
  /** This worker's consumer name in the group: unique among live workers. Default: random. */
  consumer?: string | undefined;
  /** The clock of the polls, backoff waits and timeouts. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /**
   * Receives this worker's {@link DrainStats} when they change (at most once per task of
   * `scheduler`), as `drainWith`'s `stats` does, so that `autoscale` can drive `concurrency`
   * (through a Subject). `waiting` is the queue's backlog in Redis: the jobs of every level that no
   * worker of the group holds yet (each stream's XLEN minus its XPENDING count), read every
   * `statsEveryMs` rather than per job, plus the jobs this worker read and has not started.
   * `inFlight` and `concurrency` are this worker's; the counters count its attempts. Default: none.
   */
  stats?: Pick<Observer<DrainStats>, 'next'> | undefined;
  /** How often `stats` reads the backlog in Redis, in ms. Default 1,000. */
  statsEveryMs?: number | undefined;
}

/** What happened to a job a worker held: acknowledged after its handler succeeded. */
export interface WorkDone<J, R> {
  readonly status: 'done';
  readonly id: string;
  readonly job: J;
  readonly priority: number;
  /** Attempts made in this delivery. */
  readonly attempts: number;
  /** The handler's last emission, `undefined` when it emitted nothing. */
  readonly result: R | undefined;
  /** As {@link WorkContext.redelivered}. */
  readonly redelivered: boolean;
}

/** What happened to a job a worker held: moved to the dead-letter stream after its last attempt. */
export interface WorkDeadLettered<J> {
  readonly status: 'dead-lettered';
  readonly id: string;
  /** The job, or `undefined` when its entry could not be decoded (then `error` says why). */
  readonly job: J | undefined;
  readonly priority: number;
  readonly attempts: number;
  /** The last attempt's failure. */
  readonly error: unknown;
  readonly redelivered: boolean;
}

/** One outcome of {@link RedisWorkQueue.process}'s output, per job that worker finished. */
export type WorkOutcome<J, R> = WorkDone<J, R> | WorkDeadLettered<J>;

/** An entry of the dead-letter stream, as {@link RedisWorkQueue.deadLetters} reads it. */
export interface DeadLetter {
  /** The entry's id in the dead-letter stream. */
  readonly entryId: string;
  /** The job's id. */
  readonly id: string;
  /** The job's JSON, as it was added. */
  readonly json: string;
  readonly priority: number;
  readonly attempts: number;
  /** The last failure, as text. */
  readonly error: string;
  /** The consumer that gave up on it. */
  readonly consumer: string;
}
