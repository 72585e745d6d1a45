/**
 * RedisWorkQueue beside BullMQ on one redis-server, with real worker processes
 * (bench/workers/worker.ts): jobs per second with 1 and 4 worker processes of concurrency 16, a
 * no-op handler and a 1 ms handler, while this process enqueues the jobs in batches (BullMQ's
 * `addBulk`, RedisWorkQueue's `addAll`); both with their default options (BullMQ's jobs removed
 * once completed, as RedisWorkQueue deletes an acknowledged job). A case runs from the first
 * enqueue to the last job finished. Then recovery: a worker holding 4 jobs is SIGKILLed and the time until the first and
 * the last of them start in another worker is measured (visibility timeout 1 s for both:
 * RedisWorkQueue's `visibilityMs` 1,000 and `claimEveryMs` 100, BullMQ's `lockDuration` 1,000 and
 * `stalledInterval` 100). After the table, the ceiling of the cell of one worker with a 1 ms handler
 * for a worker that never holds more than its concurrency (bench/fixtures/workerFloor.ts), against
 * BullMQ's median in the same run.
 *
 * BullMQ is installed in bench/workers by `npm run bench:workers` (`npm ci --prefix
 * bench/workers`, after `npm run build`: the workers run the built package, as BullMQ's run
 * BullMQ's build); without it the suite is skipped with a message. Redis: a redis-server this
 * suite starts (append-only, `appendfsync everysec`). $WORKERS_BENCH_JOBS sets the jobs per case
 * (default 10,000), $WORKERS_BENCH_ROUNDS the rounds (default 3, the two libraries in alternating
 * order; the table shows each one's median round and the median of the rounds' ratios),
 * $WORKERS_BENCH_KILLS the kills per library (default 3).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisWorkQueue } from '../../src/redis/index.js';
import { RedisServer, redisServerVersion } from '../../test/redis/redisServer.js';
import { slotFloor } from '../fixtures/workerFloor.js';
import { type Measurement, median, medianRow, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const JOBS = Number(process.env.WORKERS_BENCH_JOBS ?? 10_000);
const ROUNDS = Math.max(1, Number(process.env.WORKERS_BENCH_ROUNDS ?? 3));
const KILLS = Math.max(1, Number(process.env.WORKERS_BENCH_KILLS ?? 3));
const CONCURRENCY = 16;
const BATCH = 1_000;
const dir = join(import.meta.dirname, '../workers');
const fixture = join(dir, 'worker.ts');
const bullmqPackage = join(dir, 'node_modules/bullmq/package.json');

type Lib = 'rxjs' | 'bullmq';
const LABEL: Record<Lib, string> = { rxjs: 'RedisWorkQueue', bullmq: 'BullMQ' };

/** A worker process, with what it printed. */
class WorkerProcess {
  readonly child: ChildProcess;
  completed = 0;
  failed = 0;
  lastAt = 0;
  /** Job id → when its handler started (recovery case). */
  readonly starts = new Map<string, number>();
  readonly ready: Promise<void>;
  private buffer = '';

  constructor(lib: Lib, port: number, queue: string, jobMs: number, log: boolean) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fixture,
        lib,
        String(port),
        queue,
        String(log ? 4 : CONCURRENCY),
        String(jobMs),
        log ? '1' : '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (data: Buffer) => {
        this.buffer += data.toString();
        let end = this.buffer.indexOf('\n');
        while (end >= 0) {
          const line = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 1);
          const [word, a, b, c] = line.split(' ');
          if (word === 'ready') resolve();
          else if (word === 'c') {
            this.completed = Number(a);
            this.lastAt = Number(b);
            this.failed = Number(c);
          } else if (word === 's') this.starts.set(a as string, Number(b));
          end = this.buffer.indexOf('\n');
        }
      });
      this.child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready`)));
    });
  }

  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }
}

/** Enqueues jobs `from` to `to - 1` in one batch, as each library's fastest path allows. */
type Producer = { add(from: number, to: number): Promise<unknown>; close(): Promise<unknown> };

interface BullQueue {
  addBulk(jobs: Array<{ name: string; data: unknown; opts?: unknown }>): Promise<unknown>;
  close(): Promise<unknown>;
}

async function producer(lib: Lib, port: number, name: string): Promise<Producer> {
  if (lib === 'rxjs') {
    const redis = new Redis(port, '127.0.0.1');
    const queue = new RedisWorkQueue<{ i: number }>({ redis, name });
    return {
      add: (from, to) => {
        const jobs: Array<{ job: { i: number } }> = [];
        for (let i = from; i < to; i++) jobs.push({ job: { i } });
        return queue.addAll(jobs);
      },
      close: async () => redis.disconnect(),
    };
  }
  const specifier = join(dir, 'node_modules/bullmq/dist/esm/index.js');
  const { Queue } = (await import(specifier)) as {
    Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
  };
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: client });
  return {
    add: (from, to) => {
      const jobs = [];
      // Completed jobs removed, as RedisWorkQueue deletes an acknowledged job's entry.
      for (let i = from; i < to; i++) {
        jobs.push({ name: 'job', data: { i }, opts: { removeOnComplete: true } });
      }
      return queue.addBulk(jobs);
    },
    close: async () => {
      await queue.close();
      client.disconnect();
    },
  };
}

async function startWorkers(
  lib: Lib,
  port: number,
  name: string,
  count: number,
  jobMs: number,
  log = false,
): Promise<WorkerProcess[]> {
  const workers = Array.from(
    { length: count },
    () => new WorkerProcess(lib, port, name, jobMs, log),
  );
  await Promise.all(workers.map((worker) => worker.ready));
  return workers;
}

async function throughput(
  lib: Lib,
  port: number,
  processes: number,
  jobMs: number,
): Promise<Measurement> {
  const name = `bench-${lib}-${processes}-${jobMs}-${Date.now()}`;
  const workers = await startWorkers(lib, port, name, processes, jobMs);
  const produce = await producer(lib, port, name);
  try {
    const start = Date.now();
    for (let from = 0; from < JOBS; from += BATCH) {
      await produce.add(from, Math.min(JOBS, from + BATCH));
    }
    const enqueued = Date.now() - start;
    const deadline = start + 180_000;
    const total = () => workers.reduce((sum, worker) => sum + worker.completed + worker.failed, 0);
    while (total() < JOBS) {
      if (Date.now() > deadline) throw new Error(`${lib}: ${total()} of ${JOBS} jobs after 180 s`);
      await sleep(10);
    }
    const end = Math.max(...workers.map((worker) => worker.lastAt));
    const ms = end - start;
    return {
      name: `${LABEL[lib]}, ${processes} worker${processes === 1 ? '' : 's'}, ${jobMs === 0 ? 'no-op' : `${jobMs} ms`} handler`,
      events: JOBS,
      ms,
      perSecond: JOBS / (ms / 1000),
      heapDeltaMb: 0,
      extra: {
        'enqueued in ms': enqueued,
        failed: workers.reduce((sum, worker) => sum + worker.failed, 0),
      },
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await produce.close();
  }
}

/**
 * One kill: a worker holding 4 jobs (each of a minute) is SIGKILLed while a second, idle worker
 * runs; the ms from the kill to the first and the last of those jobs starting in the second.
 */
async function recovery(lib: Lib, port: number, round: number): Promise<[number, number]> {
  const name = `recover-${lib}-${round}-${Date.now()}`;
  const [victim] = await startWorkers(lib, port, name, 1, 60_000, true);
  const produce = await producer(lib, port, name);
  const others: WorkerProcess[] = [];
  try {
    await produce.add(0, 4);
    while (victim!.starts.size < 4) await sleep(5);
    others.push(...(await startWorkers(lib, port, name, 1, 60_000, true)));
    // The kill falls anywhere in the victim's keep-alive period (a lock renewal, a reclaim).
    await sleep(300 + Math.random() * 700);
    const killedAt = Date.now();
    await victim!.kill();
    const taker = others[0]!;
    const deadline = killedAt + 30_000;
    while ([...victim!.starts.keys()].some((id) => !taker.starts.has(id))) {
      if (Date.now() > deadline) throw new Error(`${lib}: jobs not taken over after 30 s`);
      await sleep(5);
    }
    const times = [...victim!.starts.keys()].map((id) => taker.starts.get(id)! - killedAt);
    return [Math.min(...times), Math.max(...times)];
  } finally {
    await Promise.all([victim!, ...others].map((worker) => worker.kill()));
    await produce.close();
  }
}

export const suite: BenchSuite = {
  name: 'workers',
  title: `RedisWorkQueue vs BullMQ, worker processes of concurrency ${CONCURRENCY} on one redis-server (${JOBS.toLocaleString('en-US')} jobs per case enqueued in batches of ${BATCH} meanwhile, ${ROUNDS} rounds in alternating order, median round shown), and recovery after a SIGKILL (visibility 1 s, ${KILLS} kills each)`,
  async run() {
    if (!existsSync(bullmqPackage)) {
      console.log('skipped: BullMQ is not installed (npm run bench:workers installs it)');
      return;
    }
    if (redisServerVersion() === undefined) {
      console.log('skipped: no redis-server (install redis-server)');
      return;
    }
    const bullmqVersion = (JSON.parse(readFileSync(bullmqPackage, 'utf8')) as { version: string })
      .version;
    console.log(`BullMQ ${bullmqVersion}, ${redisServerVersion()}\n`);
    const server = await RedisServer.start({ appendfsync: 'everysec' });
    const admin = new Redis(server.port, '127.0.0.1');
    try {
      const rows: Measurement[] = [];
      /** Each cell's median jobs/s, by `<jobMs> <processes>`. */
      const cells = new Map<string, Record<Lib, number>>();
      for (const jobMs of [0, 1]) {
        for (const processes of [1, 4]) {
          const measured: Record<Lib, Measurement[]> = { rxjs: [], bullmq: [] };
          const ratios: number[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            const order: Lib[] = round % 2 === 0 ? ['bullmq', 'rxjs'] : ['rxjs', 'bullmq'];
            const pair: Partial<Record<Lib, Measurement>> = {};
            for (const lib of order) {
              pair[lib] = await throughput(lib, server.port, processes, jobMs);
              measured[lib].push(pair[lib]);
              await admin.flushall();
            }
            ratios.push(pair.rxjs!.perSecond / pair.bullmq!.perSecond);
          }
          const ours = medianRow(measured.rxjs);
          ours.extra = {
            ...ours.extra,
            'vs BullMQ': `${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')})`,
          };
          rows.push(medianRow(measured.bullmq), ours);
          cells.set(`${jobMs} ${processes}`, {
            rxjs: ours.perSecond,
            bullmq: medianRow(measured.bullmq).perSecond,
          });
        }
      }
      printTable(rows);
      const cell = cells.get('1 1')!;
      const floor = await slotFloor(admin, CONCURRENCY, 1);
      console.log(
        `\nThe ceiling of one worker with a 1 ms handler that never holds more than its ${CONCURRENCY} jobs: each slot waits for its handler (${floor.handlerMs.toFixed(2)} ms, ${CONCURRENCY} timers at once), then for a round trip that acknowledges its batch and reads the next (${floor.roundTripMs.toFixed(3)} ms, measured alone), so at most ${(floor.ceiling / 1000).toFixed(1)} k jobs/s on average, before any JavaScript: ${(floor.ceiling / cell.bullmq).toFixed(2)}x BullMQ's median in this run (RedisWorkQueue: ${(cell.rxjs / cell.bullmq).toFixed(2)}x).`,
      );
      console.log(
        '\n| recovery after SIGKILL | first job ms | last job ms (per kill) | median last |',
      );
      console.log('| --- | --- | --- | --- |');
      for (const lib of ['bullmq', 'rxjs'] as const) {
        const kills: Array<[number, number]> = [];
        for (let round = 0; round < KILLS; round++) {
          kills.push(await recovery(lib, server.port, round));
          await admin.flushall();
        }
        console.log(
          `| ${LABEL[lib]} | ${kills.map(([first]) => first).join(', ')} | ${kills.map(([, last]) => last).join(', ')} | ${median(kills.map(([, last]) => last))} |`,
        );
      }
    } finally {
      admin.disconnect();
      await server.stop();
    }
  },
};
