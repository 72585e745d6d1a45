/**
 * RedisWorkQueue in one process, against a real redis-server started here: acknowledgement,
 * priorities, the concurrency bound, work conservation, retries, timeouts and dead letters,
 * taking over a dead consumer's jobs, close with a grace, and the refusals of bad input.
 */
import { Redis } from 'ioredis';
import {
  BehaviorSubject,
  firstValueFrom,
  type Observable,
  of,
  Subject,
  type Subscription,
  take,
  tap,
  toArray,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import { autoscale, type DrainStats, HandlerTimeoutError } from '../../../src/index.js';
import {
  DeliveryLimitError,
  idempotencyKey,
  RedisWorkQueue,
  type WorkOutcome,
} from '../../../src/redis/index.js';
import { forgetIdleConsumers } from '../../../src/redis/workQueueClaims.js';
import { takeNewScript } from '../../../src/redis/workQueueReads.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { failFastClient, serverForFile } from './serverForFile.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(version === undefined)('RedisWorkQueue (real redis-server)', () => {
  const shared = serverForFile();
  let n = 0;

  function queueOf<J>(levels = 1, extra: { maxPayloadBytes?: number } = {}): RedisWorkQueue<J> {
    return new RedisWorkQueue<J>({ redis: shared.redis, name: `wq${++n}`, levels, ...extra });
  }

  function outcomes<J, R>(work$: Observable<WorkOutcome<J, R>>, count: number) {
    return firstValueFrom(work$.pipe(take(count), toArray()));
  }

  /** The script call that reads new jobs over several levels, as {@link recordingClient} records it. */
  const readScript = `EVALSHA ${takeNewScript.sha}`;

  /** A client of the shared server recording the commands sent with `call` (EVALSHA with its SHA1). */
  function recordingClient(): { redis: Redis; sent: string[] } {
    const redis = shared.redis.duplicate();
    const sent: string[] = [];
    const call = redis.call.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    redis.call = ((...args: unknown[]) => {
      const [command, rest] = args;
      sent.push(command === 'EVALSHA' ? `EVALSHA ${(rest as unknown[])[0]}` : String(command));
      return call(...args);
    }) as typeof redis.call;
    return { redis, sent };
  }

  async function pendingOf(queue: RedisWorkQueue<unknown>, level = 0): Promise<number> {
    const summary = (await shared.redis.xpending(`${queue.name}:p${level}`, 'workers')) as [number];
    return summary[0];
  }

  it('runs each job, emits its result, and acknowledges and deletes it', async () => {
    const queue = queueOf<number>();
    for (let i = 0; i < 5; i++) await queue.add(i, { id: `j${i}` });
    const done = await outcomes(
      queue.process(
        async (job, context) => {
          expect(context.idempotencyKey).toBe(idempotencyKey(queue.name, context.id));
          return job * 10;
        },
        { pollMs: 10 },
      ),
      5,
    );
    expect(done.map((o) => [o.status, o.id, o.status === 'done' ? o.result : undefined])).toEqual(
      [0, 1, 2, 3, 4].map((i) => ['done', `j${i}`, i * 10]),
    );
    expect(await pendingOf(queue)).toBe(0);
    expect(await shared.redis.xlen(`${queue.name}:p0`)).toBe(0);
  });

  it('an id already added adds nothing; a job without id gets a random one', async () => {
    const queue = queueOf<string>();
    expect(await queue.add('a', { id: 'same' })).toEqual({ id: 'same', added: true });
    expect(await queue.add('b', { id: 'same' })).toEqual({ id: 'same', added: false });
    const other = await queue.add('c');
    expect(other.added).toBe(true);
    expect(other.id).toMatch(/^\S{8,}$/);
    expect(await shared.redis.xlen(`${queue.name}:p0`)).toBe(2);
  });

  it('addAll adds every job in one transaction, in order, each level to its stream', async () => {
    const queue = queueOf<number>(2);
    await queue.add(0, { id: 'taken' });
    await shared.redis.call('CONFIG', 'RESETSTAT');
    const added = await queue.addAll([
      { job: 1, id: 'a' },
      { job: 2, priority: 1 },
      { job: 3, id: 'taken' },
      { job: 4 },
    ]);
    expect(added.map((entry) => entry.added)).toEqual([true, true, false, true]);
    expect(added[0]?.id).toBe('a');
    expect(added[1]?.id).toMatch(/./);
    const stats = await shared.redis.info('commandstats');
    expect(/cmdstat_exec:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
    expect(await shared.redis.xlen(`${queue.name}:p0`)).toBe(3);
    expect(await shared.redis.xlen(`${queue.name}:p1`)).toBe(1);
    const done = await outcomes(
      queue.process(async (job) => job, { concurrency: 4 }),
      4,
    );
    expect(done.map((outcome) => outcome.status === 'done' && outcome.result)).toEqual([
      2, 0, 1, 4,
    ]);
    expect(await queue.addAll([])).toEqual([]);
  });

  it('addAll refuses the whole batch for one bad job, naming it and its index, writing nothing', async () => {
    const queue = queueOf<unknown>(2);
    await expect(queue.addAll([{ job: 1 }, { job: 2, id: 'bad', priority: 2 }])).rejects.toThrow(
      'RedisWorkQueue.addAll (job "bad", entry 1): priority must be an integer from 0 to 1, got 2',
    );
    await expect(queue.addAll([{ job: 1 }, { job: () => 1, id: 'fn' }])).rejects.toThrow(
      'RedisWorkQueue.addAll (job "fn", entry 1): job must be a JSON-serializable value',
    );
    expect(await shared.redis.exists(`${queue.name}:p0`, `${queue.name}:p1`)).toBe(0);
  });

  it('reads the highest level first', async () => {
    const queue = queueOf<string>(3);
    for (let i = 0; i < 4; i++) {
      await queue.add(`low${i}`, { priority: 0 });
      await queue.add(`high${i}`, { priority: 2 });
      await queue.add(`mid${i}`, { priority: 1 });
    }
    const order: string[] = [];
    await outcomes(
      queue.process(
        async (job) => {
          order.push(job);
        },
        { concurrency: 2, pollMs: 10 },
      ),
      12,
    );
    expect(order.map((job) => job.replace(/\d/, ''))).toEqual([
      ...Array(4).fill('high'),
      ...Array(4).fill('mid'),
      ...Array(4).fill('low'),
    ]);
  });

  it('reads every level in one round trip, highest first, no more than its free slots', async () => {
    const { redis, sent } = recordingClient();
    const queue = new RedisWorkQueue<string>({ redis, name: `wq${++n}`, levels: 4 });
    for (let i = 0; i < 4; i++) await queue.add(`low${i}`, { priority: 0 });
    await queue.add('mid0', { priority: 1 });
    for (let i = 0; i < 2; i++) await queue.add(`high${i}`, { priority: 3 });
    const started: string[] = [];
    const release = new Subject<void>();
    const subscription = queue
      .process(
        (job) => {
          started.push(job);
          return firstValueFrom(release);
        },
        { concurrency: 3 },
      )
      .subscribe();
    while (started.length < 3) await sleep(5);
    await sleep(20);
    // Two of level 3, none of level 2 (empty), one of level 1, and then none of level 0, the slots
    // being full: one script call (its source sent once more if Redis had not cached it), not one
    // read per level.
    expect(started).toEqual(['high0', 'high1', 'mid0']);
    expect(sent.filter((command) => command === 'XREADGROUP' || command === readScript)).toEqual([
      readScript,
    ]);
    expect(await pendingOf(queue, 3)).toBe(2);
    expect(await pendingOf(queue, 1)).toBe(1);
    // Level 0 never read (jobs read beyond the free slots would be put back, but read all the same).
    const [level0] = (await shared.redis.xinfo('GROUPS', `${queue.name}:p0`)) as string[][];
    expect(level0?.[level0.indexOf('last-delivered-id') + 1]).toBe('0-0');
    subscription.unsubscribe();
    await sleep(20);
    redis.disconnect();
  });

  it('never holds more jobs than its concurrency, in the process or in Redis', async () => {
    const queue = queueOf<number>();
    await Promise.all(Array.from({ length: 30 }, (_, i) => queue.add(i)));
    let running = 0;
    let most = 0;
    const pendingSeen: number[] = [];
    await outcomes(
      queue.process(
        async () => {
          running++;
          most = Math.max(most, running);
          pendingSeen.push(await pendingOf(queue));
          await sleep(5);
          running--;
        },
        { concurrency: 3, pollMs: 10 },
      ),
      30,
    );
    expect(most).toBe(3);
    expect(Math.max(...pendingSeen)).toBeLessThanOrEqual(3);
    expect(await pendingOf(queue)).toBe(0);
  });

  it('acknowledges the jobs that finish together in one transaction', async () => {
    const { redis, sent } = recordingClient();
    const queue = new RedisWorkQueue<number>({ redis, name: `wq${++n}` });
    await Promise.all(Array.from({ length: 8 }, (_, i) => queue.add(i)));
    await shared.redis.call('CONFIG', 'RESETSTAT');
    await outcomes(
      queue.process(async (job) => job, { concurrency: 8 }),
      8,
    );
    const stats = await shared.redis.info('commandstats');
    const calls = (command: string) =>
      Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // Eight jobs read at once, finished in one turn: one XACK and one XDEL of eight ids.
    expect(calls('xack')).toBe(1);
    expect(calls('xdel')).toBe(1);
    // A queue of one level reads with XREADGROUP itself, not through the script of several levels.
    expect(sent).toContain('XREADGROUP');
    expect(sent).not.toContain(readScript);
    expect(await pendingOf(queue)).toBe(0);
    redis.disconnect();
  });

  it('jobs read for the slots of acknowledgements that fail are put back, not held beyond the concurrency', async () => {
    const own = await RedisServer.start({ appendonly: false });
    const client = new Redis(own.port, '127.0.0.1');
    try {
      const queue = new RedisWorkQueue<number>({ redis: client, name: 'refused' });
      const ids = Array.from({ length: 12 }, (_, i) => `job-${i}`);
      await Promise.all(ids.map((id, i) => queue.add(i, { id })));
      // Every acknowledgement refused (its transaction aborted), and so every put-back; reads
      // still allowed.
      await client.call('ACL', 'SETUSER', 'default', '-xack');
      let running = 0;
      let most = 0;
      const done = outcomes(
        queue.process(
          async (job) => {
            most = Math.max(most, ++running);
            await sleep(1);
            running--;
            return job;
          },
          { concurrency: 2, pollMs: 10, visibilityMs: 300, claimEveryMs: 50 },
        ),
        12,
      );
      const pending: number[] = [];
      for (let k = 0; k < 30; k++) {
        pending.push(((await client.xpending('refused:p0', 'workers')) as [number])[0]);
        await sleep(10);
      }
      // The two jobs whose acknowledgements fail, and at most the two read for their slots
      // before the first failure was known (their put-back refused too): no more reads ahead
      // while the acknowledgements fail.
      expect(Math.max(...pending)).toBeLessThanOrEqual(4);
      await client.call('ACL', 'SETUSER', 'default', '+xack');
      const finished = await done;
      expect(finished.map((outcome) => outcome.id).sort()).toEqual([...ids].sort());
      expect(most).toBeLessThanOrEqual(2);
      expect(await client.xlen('refused:p0')).toBe(0);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });

  it('follows a reactive concurrency: raising it reads more at once, lowering it lets the jobs held finish', async () => {
    const queue = queueOf<number>();
    await Promise.all(Array.from({ length: 12 }, (_, i) => queue.add(i)));
    const concurrency = new BehaviorSubject(1);
    let running = 0;
    const seen: Array<[number, number]> = [];
    // Each job runs until the test lets it finish: no timing is assumed.
    const held: Array<() => void> = [];
    const work$ = queue.process(
      () =>
        new Promise<void>((resolve) => {
          running++;
          seen.push([concurrency.value, running]);
          held.push(() => {
            running--;
            resolve();
          });
        }),
      { concurrency, pollMs: 10 },
    );
    const done = outcomes(work$, 12);
    const until = async (check: () => boolean) => {
      while (!check()) await sleep(5);
    };
    await until(() => running === 1);
    concurrency.next(4);
    await until(() => running === 4);
    concurrency.next(2);
    // Lowered to 2 with 4 held: nothing starts until fewer than 2 are held.
    while (seen.length < 12 || held.length > 0) {
      await until(() => held.length > 0);
      (held.shift() as () => void)();
    }
    await done;
    const most = (limit: number) =>
      Math.max(...seen.filter(([c]) => c === limit).map(([, r]) => r));
    expect(most(1)).toBe(1);
    expect(most(4)).toBe(4);
    expect(seen.filter(([c]) => c === 2).length).toBeGreaterThan(0);
    expect(most(2)).toBeLessThanOrEqual(2);
  });

  it('a reactive concurrency that is not a positive integer errors the output, naming it', async () => {
    const queue = queueOf<number>();
    await queue.add(1);
    await expect(
      firstValueFrom(queue.process(async (job) => job, { concurrency: of(0), pollMs: 10 })),
    ).rejects.toThrow('RedisWorkQueue.process: concurrency must be a positive integer, got 0');
  });

  async function until(condition: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await sleep(5);
    }
  }

  it('reports its stats, waiting being the backlog in Redis read every statsEveryMs', async () => {
    const queue = queueOf<number>(2);
    await Promise.all(Array.from({ length: 10 }, (_, i) => queue.add(i, { priority: i % 2 })));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: DrainStats[] = [];
    const last = () => seen[seen.length - 1];
    const subscription = queue
      .process(
        async (job) => {
          await gate;
          return job;
        },
        { concurrency: 2, pollMs: 10, statsEveryMs: 30, stats: { next: (s) => seen.push(s) } },
      )
      .subscribe();
    try {
      // Two jobs held, eight waiting in the streams of both levels.
      await until(() => last()?.inFlight === 2 && last()?.waiting === 8);
      expect(last()).toMatchObject({ concurrency: 2, completed: 0 });
      // Jobs added by anyone show at the next reading.
      await Promise.all(Array.from({ length: 5 }, (_, i) => queue.add(100 + i)));
      await until(() => last()?.waiting === 13);
      release();
      await until(() => last()?.completed === 15 && last()?.waiting === 0);
      expect(last()).toMatchObject({ inFlight: 0, failed: 0, deadLettered: 0 });
    } finally {
      subscription.unsubscribe();
    }
  });

  it('reads the backlog every statsEveryMs, not per job', async () => {
    const queue = queueOf<number>();
    await Promise.all(Array.from({ length: 40 }, (_, i) => queue.add(i)));
    await shared.redis.call('CONFIG', 'RESETSTAT');
    const seen: DrainStats[] = [];
    const last = () => seen[seen.length - 1];
    // Jobs of 50 ms: the first report (a task after the reading) comes before a second read.
    const subscription = queue
      .process((job) => sleep(50).then(() => job), {
        concurrency: 4,
        statsEveryMs: 60_000,
        stats: { next: (s) => seen.push(s) },
      })
      .subscribe();
    try {
      await until(() => last()?.completed === 40);
      const stats = await shared.redis.info('commandstats');
      // One reading, when the worker started; then the jobs it took are subtracted.
      expect(/cmdstat_xlen:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
      // 40 less the jobs taken before the first report (without the reading: at most 4).
      expect(Math.max(...seen.map((s) => s.waiting))).toBeGreaterThanOrEqual(30);
      expect(last()).toMatchObject({ completed: 40, waiting: 0 });
    } finally {
      subscription.unsubscribe();
    }
  });

  it('autoscale drives a worker: up while jobs wait in Redis, down once they are done', async () => {
    const queue = queueOf<number>();
    await Promise.all(Array.from({ length: 60 }, (_, i) => queue.add(i)));
    const stats$ = new Subject<DrainStats>();
    const limits: number[] = [];
    let running = 0;
    let most = 0;
    const done: unknown[] = [];
    const subscription = queue
      .process(
        async (job) => {
          most = Math.max(most, ++running);
          await sleep(10);
          running--;
          return job;
        },
        {
          concurrency: autoscale(stats$, { min: 1, max: 4, cooldown: 20 }).pipe(
            tap((limit) => limits.push(limit)),
          ),
          stats: stats$,
          statsEveryMs: 20,
          pollMs: 10,
        },
      )
      .subscribe((outcome) => done.push(outcome));
    try {
      await until(() => done.length === 60);
      expect(limits.slice(0, 4)).toEqual([1, 2, 3, 4]);
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(4);
      // The backlog gone and the slots idle: back to min, one slot per cooldown.
      await until(() => limits[limits.length - 1] === 1);
      expect(Math.max(...limits)).toBe(4);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('is work-conserving in one process: a slow job holds one slot, the others go on', async () => {
    const queue = queueOf<number>();
    await queue.add(0);
    for (let i = 1; i <= 10; i++) await queue.add(i);
    const done = await outcomes(
      queue.process((job) => sleep(job === 0 ? 400 : 5).then(() => job), {
        concurrency: 2,
        pollMs: 10,
      }),
      11,
    );
    expect(done.map((o) => (o.status === 'done' ? o.result : -1))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0,
    ]);
  });

  it('retries a failing job in the worker, then acknowledges it', async () => {
    const queue = queueOf<string>();
    await queue.add('flaky', { id: 'f' });
    const attempts: number[] = [];
    const [outcome] = await outcomes(
      queue.process(
        async (_job, { attempt }) => {
          attempts.push(attempt);
          if (attempt < 3) throw new Error(`try ${attempt}`);
          return 'ok';
        },
        { retry: { maxAttempts: 3, backoff: () => 5 }, pollMs: 10 },
      ),
      1,
    );
    expect(attempts).toEqual([1, 2, 3]);
    expect(outcome).toMatchObject({ status: 'done', id: 'f', attempts: 3, result: 'ok' });
    expect(await queue.deadLetters()).toEqual([]);
  });

  it('moves a job to the dead-letter stream after its last attempt, and goes on', async () => {
    const queue = queueOf<string>();
    await queue.add('bad', { id: 'bad' });
    await queue.add('good', { id: 'good' });
    const done = await outcomes(
      queue.process(
        async (job) => {
          if (job === 'bad') throw new Error('refused');
          return job;
        },
        { retry: { maxAttempts: 2 }, pollMs: 10 },
      ),
      2,
    );
    const byId = Object.fromEntries(done.map((o) => [o.id, o]));
    expect(byId.bad).toMatchObject({ status: 'dead-lettered', attempts: 2, job: 'bad' });
    expect(byId.good).toMatchObject({ status: 'done', result: 'good' });
    const dead = await queue.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id: 'bad', json: '"bad"', attempts: 2, priority: 0 });
    expect(dead[0]!.error).toBe('Error: refused');
    expect(await pendingOf(queue)).toBe(0);
  });

  it('a handler that never settles times out with an error naming the job, and is dead-lettered', async () => {
    const queue = queueOf<string>();
    await queue.add('stuck', { id: 'stuck-1' });
    const [outcome] = await outcomes(
      queue.process(() => new Promise<never>(() => {}), { timeout: 50, pollMs: 10 }),
      1,
    );
    expect(outcome?.status).toBe('dead-lettered');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(HandlerTimeoutError);
    expect(String(error)).toContain('RedisWorkQueue: the handler did not settle within 50 ms');
    expect(String(error)).toContain('"job":"stuck-1"');
    expect((await queue.deadLetters())[0]?.error).toMatch(/^HandlerTimeoutError: /);
  });

  it('takes over the jobs of a consumer that died once they are idle for visibilityMs', async () => {
    const queue = queueOf<number>();
    const worker = queue.process(async (job) => job, {
      // Not a whole number of ms: Redis takes whole ms only.
      visibilityMs: 300.5,
      claimEveryMs: 50,
      pollMs: 20,
    });
    // A consumer takes two jobs and dies (it never acknowledges them).
    await shared.redis.call('XGROUP', 'CREATE', `${queue.name}:p0`, 'workers', '0', 'MKSTREAM');
    await queue.add(1, { id: 'orphan-1' });
    await queue.add(2, { id: 'orphan-2' });
    await shared.redis.call(
      'XREADGROUP',
      'GROUP',
      'workers',
      'dead',
      'COUNT',
      2,
      'STREAMS',
      `${queue.name}:p0`,
      '>',
    );
    const started = Date.now();
    const done = await outcomes(worker, 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(done.map((o) => [o.id, o.redelivered])).toEqual([
      ['orphan-1', true],
      ['orphan-2', true],
    ]);
    expect(await pendingOf(queue)).toBe(0);
  });

  // 400 ms: a keep-alive period (a sixth of it) that is not a whole number of ms, which Redis
  // refuses unless rounded.
  it.each([150, 400])(
    'a worker keeps the jobs it runs from being taken over, however long they run (visibilityMs %i)',
    async (visibilityMs) => {
      const queue = queueOf<number>();
      await queue.add(1, { id: 'slow' });
      const options = { visibilityMs, claimEveryMs: 30, pollMs: 10 };
      const runs: string[] = [];
      const first = outcomes(
        queue.process((job) => {
          runs.push('first');
          return sleep(4 * visibilityMs).then(() => job);
        }, options),
        1,
      );
      while (runs.length === 0) await sleep(10);
      const other = queue
        .process(async (job) => {
          runs.push('second');
          return job;
        }, options)
        .subscribe();
      const [outcome] = await first;
      other.unsubscribe();
      expect(outcome).toMatchObject({ id: 'slow', status: 'done', redelivered: false });
      expect(runs).toEqual(['first']);
    },
  );

  it('a job taken over more than maxDeliveries times runs no more: it is dead-lettered', async () => {
    const queue = queueOf<number>();
    await shared.redis.call('XGROUP', 'CREATE', `${queue.name}:p0`, 'workers', '0', 'MKSTREAM');
    await queue.add(1, { id: 'poison' });
    // Two workers took it and died.
    await shared.redis.call(
      'XREADGROUP',
      'GROUP',
      'workers',
      'dead1',
      'COUNT',
      1,
      'STREAMS',
      `${queue.name}:p0`,
      '>',
    );
    await sleep(30);
    await shared.redis.call('XAUTOCLAIM', `${queue.name}:p0`, 'workers', 'dead2', 10, '0-0');
    await sleep(30);
    const deliveries: number[] = [];
    const worker = (maxDeliveries: number) =>
      queue.process(
        async (job, context) => {
          deliveries.push(context.deliveries);
          return job;
        },
        { visibilityMs: 20, claimEveryMs: 10, pollMs: 10, maxDeliveries },
      );
    const [outcome] = await outcomes(worker(2), 1);
    expect(deliveries).toEqual([]);
    expect(outcome).toMatchObject({ id: 'poison', status: 'dead-lettered', attempts: 0 });
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(DeliveryLimitError);
    expect(String(error)).toBe(
      'DeliveryLimitError: RedisWorkQueue: job "poison" was delivered 3 times, over maxDeliveries (2): the workers that took it died or stalled',
    );
    expect((await queue.deadLetters())[0]).toMatchObject({ id: 'poison', attempts: 0 });
    // Within the limit, the job runs, and its handler learns how often it was delivered.
    await queue.add(2, { id: 'survivor' });
    await shared.redis.call(
      'XREADGROUP',
      'GROUP',
      'workers',
      'dead3',
      'COUNT',
      1,
      'STREAMS',
      `${queue.name}:p0`,
      '>',
    );
    await sleep(30);
    const [second] = await outcomes(worker(2), 1);
    expect(second).toMatchObject({ id: 'survivor', status: 'done', redelivered: true });
    expect(deliveries).toEqual([2]);
  });

  async function consumersOf(key: string): Promise<Map<string, number>> {
    const list = (await shared.redis.call('XINFO', 'CONSUMERS', key, 'workers')) as unknown[][];
    return new Map(list.map((fields) => [String(fields[1]), Number(fields[3])]));
  }

  it('removes only the consumers that hold nothing and were idle long enough, never the caller', async () => {
    const key = `${queueOf<number>().name}:p0`;
    const { redis } = shared;
    await redis.call('XGROUP', 'CREATE', key, 'workers', '0', 'MKSTREAM');
    for (const name of ['gone', 'me']) {
      await redis.call('XGROUP', 'CREATECONSUMER', key, 'workers', name);
    }
    await redis.xadd(key, '*', 'id', 'held', 'j', '1');
    await redis.call('XREADGROUP', 'GROUP', 'workers', 'holding', 'COUNT', 1, 'STREAMS', key, '>');
    await sleep(60);
    await redis.call('XGROUP', 'CREATECONSUMER', key, 'workers', 'fresh');
    const target = { redis, group: 'workers', consumer: 'me' };
    expect(await forgetIdleConsumers(target, [key], 50)).toEqual(['gone']);
    // 'holding' keeps its job and stays, however long idle; 'fresh' was idle for less; 'me' calls.
    expect(await consumersOf(key)).toEqual(
      new Map([
        ['fresh', 0],
        ['holding', 1],
        ['me', 0],
      ]),
    );
    expect(((await redis.xpending(key, 'workers')) as [number])[0]).toBe(1);
  });

  it("takes over a dead worker's jobs, then removes its consumer once idle for twice visibilityMs", async () => {
    const queue = queueOf<number>();
    const key = `${queue.name}:p0`;
    await queue.add(7, { id: 'orphan' });
    await shared.redis.call('XGROUP', 'CREATE', key, 'workers', '0', 'MKSTREAM');
    // A worker that read the job and died.
    await shared.redis.call(
      'XREADGROUP',
      'GROUP',
      'workers',
      'died',
      'COUNT',
      1,
      'STREAMS',
      key,
      '>',
    );
    const options = { consumer: 'alive', visibilityMs: 100, claimEveryMs: 20, pollMs: 10 };
    const [outcome] = await outcomes(
      queue.process(async (job) => job * 2, options),
      1,
    );
    expect(outcome).toMatchObject({ id: 'orphan', status: 'done', result: 14, redelivered: true });
    const sub = queue.process(async (job) => job, options).subscribe();
    try {
      while ((await consumersOf(key)).has('died')) await sleep(20);
      expect([...(await consumersOf(key)).keys()]).toEqual(['alive']);
    } finally {
      sub.unsubscribe();
    }
  });

  it('close lets held jobs finish within the grace, and puts the rest back for other workers at once', async () => {
    const queue = queueOf<number>();
    await queue.add(1, { id: 'short' });
    await queue.add(2, { id: 'long' });
    const seen: WorkOutcome<number, number>[] = [];
    let completed = false;
    const sub: Subscription = queue
      .process((job) => sleep(job === 1 ? 50 : 5_000).then(() => job), {
        concurrency: 2,
        pollMs: 10,
      })
      .subscribe({ next: (o) => seen.push(o), complete: () => (completed = true) });
    while ((await pendingOf(queue)) < 2) await sleep(10);
    await queue.close({ graceMs: 300 });
    expect(completed).toBe(true);
    expect(seen.map((o) => o.id)).toEqual(['short']);
    expect(await pendingOf(queue)).toBe(0);
    await expect(queue.add(3)).rejects.toThrow(`RedisWorkQueue "${queue.name}" is closed`);
    sub.unsubscribe();
    // Another instance (another process) takes the put-back job at once, marked redelivered.
    const other = new RedisWorkQueue<number>({ redis: shared.redis, name: queue.name });
    const [outcome] = await outcomes(
      other.process(async (job) => job, { pollMs: 10, visibilityMs: 60_000 }),
      1,
    );
    expect(outcome).toMatchObject({ id: 'long', status: 'done', redelivered: true });
  });

  it('unsubscribing puts the held jobs back at once', async () => {
    const queue = queueOf<number>();
    await queue.add(7, { id: 'held' });
    const sub = queue.process(() => new Promise<never>(() => {}), { pollMs: 10 }).subscribe();
    while ((await pendingOf(queue)) < 1) await sleep(10);
    sub.unsubscribe();
    await sleep(50);
    expect(await pendingOf(queue)).toBe(0);
    const [outcome] = await outcomes(
      queue.process(async (job) => job, { pollMs: 10 }),
      1,
    );
    expect(outcome).toMatchObject({ id: 'held', redelivered: true, result: 7 });
  });

  it('a job whose acknowledgement fails (Redis restarting) is acknowledged once Redis is back, not dead-lettered', async () => {
    const own = await RedisServer.start();
    // No offline queue: commands fail at once while the server is down.
    const client = await failFastClient(own.port);
    try {
      const queue = new RedisWorkQueue<number>({ redis: client, name: 'restart' });
      await queue.add(1, { id: 'across-restart' });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      const done = outcomes(
        queue.process(
          async (job) => {
            started = true;
            await gate;
            return job;
          },
          { pollMs: 20 },
        ),
        1,
      );
      while (!started) await sleep(10);
      await own.kill();
      release();
      await sleep(200);
      await own.restart();
      const [outcome] = await done;
      expect(outcome).toMatchObject({ id: 'across-restart', status: 'done', attempts: 1 });
      expect(await queue.deadLetters()).toEqual([]);
      expect(await client.xlen('restart:p0')).toBe(0);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });

  it('refuses bad jobs naming them, adding nothing', async () => {
    const queue = queueOf<unknown>(2, { maxPayloadBytes: 64 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(queue.add(circular, { id: 'loop' })).rejects.toThrow(
      /^RedisWorkQueue\.add \(job "loop"\): the job cannot be serialized to JSON/,
    );
    await expect(queue.add(10n, { id: 'big-int' })).rejects.toThrow(TypeError);
    await expect(queue.add(() => 1, { id: 'fn' })).rejects.toThrow(
      'RedisWorkQueue.add (job "fn"): job must be a JSON-serializable value, got a function',
    );
    await expect(queue.add('x', { id: 'p', priority: 2 })).rejects.toThrow(
      'RedisWorkQueue.add (job "p"): priority must be an integer from 0 to 1, got 2',
    );
    await expect(queue.add('x'.repeat(100), { id: 'huge' })).rejects.toThrow(
      'RedisWorkQueue.add (job "huge"): the job is 102 bytes of JSON, over maxPayloadBytes (64)',
    );
    await expect(queue.add('x', { id: '' })).rejects.toThrow(
      'RedisWorkQueue.add: id must be a non-empty string, got ""',
    );
    expect(await shared.redis.exists(`${queue.name}:p0`, `${queue.name}:p1`)).toBe(0);
  });

  it('refuses bad options at creation, naming the option', () => {
    expect(() => new RedisWorkQueue({ redis: shared.redis, name: '' })).toThrow(
      'RedisWorkQueue: name must be a non-empty string, got ""',
    );
    expect(() => new RedisWorkQueue({ redis: shared.redis, name: 'q', levels: 0 })).toThrow(
      'RedisWorkQueue: levels must be a positive integer, got 0',
    );
    expect(() => new RedisWorkQueue({ redis: {} as Redis, name: 'q' })).toThrow(
      'RedisWorkQueue: redis must be an ioredis client, got {}',
    );
    const queue = queueOf();
    expect(() => queue.process(async () => {}, { concurrency: 1.5 })).toThrow(
      'RedisWorkQueue.process: concurrency must be a positive integer, got 1.5',
    );
    expect(() => queue.process(async () => {}, { timeout: 0 })).toThrow(
      'RedisWorkQueue.process: timeout must be a positive number of ms or Infinity, got 0',
    );
    expect(() => queue.process(async () => {}, { stats: {} as never })).toThrow(
      'RedisWorkQueue.process: stats must be an Observer (with next), got',
    );
    expect(() => queue.process(async () => {}, { statsEveryMs: 0 })).toThrow(
      'RedisWorkQueue.process: statsEveryMs must be a finite positive number of ms, got 0',
    );
    expect(() => queue.process(async () => {}, { visibilityMs: -1 })).toThrow(
      'RedisWorkQueue.process: visibilityMs must be a finite positive number of ms, got -1',
    );
    expect(() => queue.process('no' as never)).toThrow(
      'RedisWorkQueue.process: handler must be a function, got "no"',
    );
  });
});
