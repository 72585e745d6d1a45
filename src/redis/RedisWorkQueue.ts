import { asyncScheduler, isObservable, Observable } from 'rxjs';
import {
  checkFunction,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
  rangeError,
  typeError,
} from '../core/checks.js';
import type { FailurePlan } from '../operators/HandlerPool.js';
import { randomId } from './config.js';
import { WorkerRun } from './WorkerRun.js';
import {
  addOnceScript,
  deadKey,
  encodeJob,
  idKey,
  levelKey,
  type WorkItem,
} from './workQueueEntries.js';
import type {
  AddedJob,
  AddJobOptions,
  DeadLetter,
  RedisWorkQueueConfig,
  WorkerConfig,
  WorkHandler,
  WorkOutcome,
} from './workQueueTypes.js';

const OWNER = 'RedisWorkQueue';

/**
 * A priority work queue shared by any number of processes, on Redis Streams consumer groups.
 * `add` appends a job to the stream of its priority level; `process` makes this process a worker,
 * whose output tells what became of each job it held.
 *
 * **Delivery is at least once.** A job is acknowledged (and deleted) only after its handler
 * succeeded; a worker that dies, or outlives `visibilityMs` on a job, leaves it to another worker,
 * which runs it again. So a handler may run more than once for one job: make its effects
 * idempotent with the job's {@link WorkContext.idempotencyKey}.
 *
 * - A worker reads only as many jobs as it has free slots (`concurrency`), so no worker ever holds
 *   more than its concurrency: backpressure reaches across the network, and the jobs a busy worker
 *   does not take stay in Redis for the others.
 * - Levels are read highest first: a lower level's job is read only when no higher one waits.
 * - A handler that throws, errors or outlives `timeout` is retried (`retry`) in that worker; after
 *   its last attempt the job moves to the dead-letter stream (`deadLetters()` reads it).
 * - Jobs of a worker that died are taken over (`XAUTOCLAIM`) once idle for `visibilityMs`; a
 *   live worker keeps the jobs it runs from looking idle. A job taken over more than
 *   `maxDeliveries` times goes to the dead-letter stream.
 * - `close({ graceMs })` stops every worker of this instance from taking jobs, lets the jobs they
 *   hold finish within the grace, and puts the rest back at once for other workers.
 *
 * @example
 * ```ts redis
 * import { Redis } from 'ioredis';
 * import { RedisWorkQueue } from 'rxjs-backpressure/redis';
 *
 * const queue = new RedisWorkQueue<{ to: string }>({ redis: new Redis(), name: 'mail', levels: 2 });
 * await queue.add({ to: 'ada@example.com' }, { priority: 1, id: 'welcome-ada' });
 * queue
 *   .process(async (job, { idempotencyKey }) => sendMail(job.to, idempotencyKey), {
 *     concurrency: 8,
 *     retry: { maxAttempts: 3, backoff: (attempt) => 100 * 2 ** attempt },
 *     timeout: 10_000,
 *   })
 *   .subscribe((outcome) => console.log(outcome.status, outcome.id));
 * ```
 */
export class RedisWorkQueue<J = unknown> {
  /** The queue's name (the prefix of its keys). */
  readonly name: string;
  /** How many priority levels it has. */
  readonly levels: number;
  private readonly config: RedisWorkQueueConfig;
  private readonly group: string;
  private readonly maxPayloadBytes: number;
  private readonly idTtlMs: number;
  /** The workers running, as close() stops them. */
  private readonly runs = new Set<{ stop(graceMs: number): Promise<void> }>();
  private closed = false;

  /** @throws RangeError or TypeError for bad options, naming the option and the value. */
  constructor(config: RedisWorkQueueConfig) {
    if (config === null || typeof config !== 'object') {
      throw typeError(OWNER, 'options', 'an object', config);
    }
    const { redis, name } = config;
    if (redis === null || typeof redis !== 'object' || typeof redis.multi !== 'function') {
      throw typeError(OWNER, 'redis', 'an ioredis client', redis);
    }
    if (typeof name !== 'string' || name === '') {
      throw typeError(OWNER, 'name', 'a non-empty string', name);
    }
    const levels = config.levels ?? 1;
    checkPositiveInteger(levels, OWNER, 'levels');
    if (levels > 32) throw rangeError(OWNER, 'levels', 'at most 32', levels);
    const group = config.group ?? 'workers';
    if (typeof group !== 'string' || group === '') {
      throw typeError(OWNER, 'group', 'a non-empty string', group);
    }
    this.maxPayloadBytes = config.maxPayloadBytes ?? 1024 * 1024;
    checkPositiveInteger(this.maxPayloadBytes, OWNER, 'maxPayloadBytes');
    this.idTtlMs = config.idTtlMs ?? 86_400_000;
    checkPositiveInteger(this.idTtlMs, OWNER, 'idTtlMs');
    this.config = config;
    this.name = name;
    this.levels = levels;
    this.group = group;
  }

  /**
   * Appends a job to the stream of its priority. Rejects, adding nothing, when the job cannot be
   * serialized to JSON, is larger than `maxPayloadBytes`, or has a priority the queue does not
   * have (each error names the job), and after `close()`.
   */
  async add(job: J, options: AddJobOptions = {}): Promise<AddedJob> {
    if (this.closed) throw new Error(`${OWNER} "${this.name}" is closed`);
    const given = options.id;
    if (given !== undefined && (typeof given !== 'string' || given === '')) {
      throw typeError(`${OWNER}.add`, 'id', 'a non-empty string', given);
    }
    const id = given ?? randomId();
    const priority = options.priority ?? 0;
    const json = encodeJob(job, id, priority, this.levels, this.maxPayloadBytes);
    const key = levelKey(this.name, priority);
    const { redis } = this.config;
    if (given === undefined) {
      await redis.xadd(key, '*', 'id', id, 'j', json);
      return { id, added: true };
    }
    const entry = await redis.eval(
      addOnceScript,
      2,
      key,
      idKey(this.name, id),
      this.idTtlMs,
      id,
      json,
    );
    return { id, added: entry !== null };
  }

  /**
   * Appends several jobs in one transaction (`MULTI` … `EXEC`, one round trip): all of them, or
   * none when one is refused. Each entry is a job with its `priority` and `id`, as for
   * {@link RedisWorkQueue.add}; the result says, in the same order, what was added (a job whose
   * `id` is taken adds nothing). Every job is checked before anything is written: a job that
   * cannot be serialized, is larger than `maxPayloadBytes`, or has a priority the queue does not
   * have rejects the whole call, naming the job and its index.
   */
  async addAll(entries: ReadonlyArray<{ job: J } & AddJobOptions>): Promise<AddedJob[]> {
    if (this.closed) throw new Error(`${OWNER} "${this.name}" is closed`);
    if (!Array.isArray(entries)) {
      throw typeError(`${OWNER}.addAll`, 'entries', 'an array of { job, priority?, id? }', entries);
    }
    const { redis } = this.config;
    const transaction = redis.multi();
    const ids: string[] = [];
    const once: boolean[] = [];
    entries.forEach((entry, index) => {
      const { job, id: given, priority = 0 } = entry ?? ({} as { job: J } & AddJobOptions);
      if (given !== undefined && (typeof given !== 'string' || given === '')) {
        throw typeError(`${OWNER}.addAll (entry ${index})`, 'id', 'a non-empty string', given);
      }
      const id = given ?? randomId();
      const json = encodeJob(job, id, priority, this.levels, this.maxPayloadBytes, index);
      const key = levelKey(this.name, priority);
      if (given === undefined) transaction.xadd(key, '*', 'id', id, 'j', json);
      else transaction.eval(addOnceScript, 2, key, idKey(this.name, id), this.idTtlMs, id, json);
      ids.push(id);
      once.push(given !== undefined);
    });
    if (ids.length === 0) return [];
    const replies = await transaction.exec();
    if (replies === null) throw new Error(`${OWNER}.addAll: the transaction was aborted`);
    return replies.map(([error, reply], index) => {
      if (error !== null) throw error;
      return { id: ids[index] as string, added: !once[index] || reply !== null };
    });
  }

  /**
   * Makes this process a worker of the queue, for as long as the returned Observable is
   * subscribed: each subscription is one worker (one consumer of the group), which emits one
   * {@link WorkOutcome} per job it finished (acknowledged, or moved to the dead-letter stream).
   * It completes after `close()` once its jobs are done; unsubscribing cancels the jobs it holds
   * and puts them back at once for other workers.
   *
   * @throws RangeError or TypeError for a bad handler or options, naming the option and value.
   */
  process<R>(
    handler: WorkHandler<J, R>,
    options: WorkerConfig = {},
  ): Observable<WorkOutcome<J, R>> {
    const owner = `${OWNER}.process`;
    checkFunction(handler, owner, 'handler', true);
    const concurrency = options.concurrency ?? 1;
    if (!isObservable(concurrency)) checkPositiveInteger(concurrency, owner, 'concurrency');
    const visibilityMs = positiveMs(options.visibilityMs, owner, 'visibilityMs', 30_000);
    const pollMs = positiveMs(options.pollMs, owner, 'pollMs', 100);
    const claimEveryMs = positiveMs(options.claimEveryMs, owner, 'claimEveryMs', visibilityMs / 2);
    const maxDeliveries = options.maxDeliveries ?? 5;
    checkPositiveInteger(maxDeliveries, owner, 'maxDeliveries');
    const scheduler = options.scheduler ?? asyncScheduler;
    checkScheduler(scheduler, owner);
    const { retry, timeout = Number.POSITIVE_INFINITY } = options;
    checkPositiveNumber(timeout, owner, 'timeout', true, ' of ms or Infinity');
    if (retry !== undefined) {
      if (retry === null || typeof retry !== 'object') {
        throw typeError(owner, 'retry', 'an object ({ maxAttempts, backoff? })', retry);
      }
      checkPositiveInteger(retry.maxAttempts, owner, 'retry.maxAttempts');
      checkFunction(retry.backoff, owner, 'retry.backoff');
    }
    const { consumer, stats } = options;
    if (stats !== undefined && typeof stats?.next !== 'function') {
      throw typeError(owner, 'stats', 'an Observer (with next)', stats);
    }
    const statsEveryMs = positiveMs(options.statsEveryMs, owner, 'statsEveryMs', 1_000);
    if (consumer !== undefined && (typeof consumer !== 'string' || consumer === '')) {
      throw typeError(owner, 'consumer', 'a non-empty string', consumer);
    }
    const plan: FailurePlan<WorkItem<unknown>> = {
      maxAttempts: retry?.maxAttempts ?? 1,
      backoff: retry?.backoff ?? (() => 0),
      deadLetter: undefined,
      timeout,
      scheduler,
      owner: OWNER,
    };
    return new Observable<WorkOutcome<J, R>>((subscriber) => {
      if (this.closed) {
        subscriber.error(new Error(`${OWNER} "${this.name}" is closed`));
        return;
      }
      const run = new WorkerRun<J, R>(subscriber, handler, {
        redis: this.config.redis,
        name: this.name,
        group: this.group,
        levels: this.levels,
        consumer: consumer ?? `${this.name}-${randomId()}`,
        concurrency,
        visibilityMs,
        pollMs,
        claimEveryMs,
        maxDeliveries,
        scheduler,
        plan,
        stats,
        statsEveryMs,
      });
      this.runs.add(run);
      subscriber.add(() => this.runs.delete(run));
    });
  }

  /**
   * Stops every worker of this instance from taking jobs: each finishes the jobs it holds within
   * `graceMs` (default 30,000), then its output completes; jobs still running then are cancelled
   * and put back in their streams, where other workers take them at once. `add` and `process`
   * are refused afterwards. The Redis client stays open.
   */
  async close(options: { graceMs?: number | undefined } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 30_000;
    if (!(typeof graceMs === 'number' && graceMs >= 0)) {
      throw rangeError(`${OWNER}.close`, 'graceMs', 'a non-negative number of ms', graceMs);
    }
    this.closed = true;
    await Promise.all([...this.runs].map((run) => run.stop(graceMs)));
  }

  /** The oldest entries of the dead-letter stream (at most `count`, default 100). */
  async deadLetters(count = 100): Promise<DeadLetter[]> {
    checkPositiveInteger(count, `${OWNER}.deadLetters`, 'count');
    const entries = (await this.config.redis.xrange(
      deadKey(this.name),
      '-',
      '+',
      'COUNT',
      count,
    )) as Array<[string, string[]]>;
    return entries.map(([entryId, fields]) => {
      const at: Record<string, string> = {};
      for (let k = 0; k + 1 < fields.length; k += 2)
        at[fields[k] as string] = fields[k + 1] as string;
      return {
        entryId,
        id: at.id ?? '',
        json: at.j ?? '',
        priority: Number(at.p),
        attempts: Number(at.a),
        error: at.e ?? '',
        consumer: at.c ?? '',
      };
    });
  }
}

/** A duration option: its default when absent, else a finite number of ms above 0. */
function positiveMs(value: unknown, owner: string, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  checkPositiveNumber(value, owner, option, false, ' of ms');
  return value as number;
}
