/**
 * A worker process of the workers bench (bench/suites/workers.ts):
 * `node --import tsx worker.ts <rxjs|bullmq> <port> <queue> <concurrency> <jobMs> <recovery>`.
 *
 * Runs the queue's jobs with `concurrency` at once, each handler waiting `jobMs` ms (0: none, a
 * no-op handler), until killed. Prints `ready` once it takes jobs, then on stdout, at most every
 * 20 ms, `c <completed> <time of the last completion> <failed>`. Times are `Date.now()`.
 *
 * - `rxjs`: `RedisWorkQueue.process` from this repository's build (dist/), default options.
 * - `bullmq`: BullMQ's `Worker` (from bench/workers/node_modules), default options.
 *
 * With `recovery` set to `1`, it prints `s <job id> <time>` when a handler starts, and both use
 * a visibility timeout of 1 s checked every 100 ms: RedisWorkQueue's `visibilityMs` 1,000 and
 * `claimEveryMs` 100, BullMQ's `lockDuration` 1,000 and `stalledInterval` 100.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

// The built package, as users run it (`npm run bench:workers` builds it first), like BullMQ's own
// build: the sources run through tsx carry its helpers on every function made per job.
const built = join(import.meta.dirname, '../../dist/redis/index.js');
if (!existsSync(built)) throw new Error('worker.ts: no dist/redis/index.js (run npm run build)');
const { RedisWorkQueue } = (await import(
  pathToFileURL(built).href
)) as typeof import('../../src/redis/index.js');

const [lib, port, name, concurrencyText, jobMsText, log] = process.argv.slice(2) as string[];
const concurrency = Number(concurrencyText);
const jobMs = Number(jobMsText);
const recovery = log === '1';

let completed = 0;
let failed = 0;
let lastAt = 0;
let reported = 0;
const done = (): void => {
  completed++;
  lastAt = Date.now();
};
const fail = (): void => {
  failed++;
  lastAt = Date.now();
};
setInterval(() => {
  if (completed + failed === reported) return;
  reported = completed + failed;
  process.stdout.write(`c ${completed} ${lastAt} ${failed}\n`);
}, 20);

const work = async (id: string): Promise<void> => {
  if (recovery) process.stdout.write(`s ${id} ${Date.now()}\n`);
  if (jobMs > 0) await sleep(jobMs);
};

if (lib === 'rxjs') {
  const queue = new RedisWorkQueue<{ i: number }>({
    redis: new Redis(Number(port), '127.0.0.1'),
    name: name as string,
  });
  queue
    .process(
      (_job, { id }) => work(id),
      recovery ? { concurrency, visibilityMs: 1_000, claimEveryMs: 100 } : { concurrency },
    )
    .subscribe({
      next: (outcome) => {
        if (outcome.status === 'done') done();
        else fail();
      },
      error: (error) => {
        console.error(error);
        process.exit(1);
      },
    });
} else if (lib === 'bullmq') {
  // Not resolved by the type checker: BullMQ is installed only for this bench.
  const specifier = 'bullmq';
  const { Worker } = (await import(specifier)) as {
    Worker: new (
      name: string,
      processor: (job: { id?: string }) => Promise<void>,
      options: Record<string, unknown>,
    ) => {
      on(event: 'completed' | 'failed', listener: () => void): void;
      on(event: 'error', listener: (error: unknown) => void): void;
      waitUntilReady(): Promise<unknown>;
    };
  };
  const worker = new Worker(name as string, (job) => work(String(job.id)), {
    // A client of its own (BullMQ loaded as ES module takes a client, not connection options).
    connection: new Redis(Number(port), '127.0.0.1', { maxRetriesPerRequest: null }),
    concurrency,
    ...(recovery ? { lockDuration: 1_000, stalledInterval: 100 } : {}),
  });
  worker.on('completed', done);
  worker.on('failed', fail);
  worker.on('error', (error) => console.error(error));
  await worker.waitUntilReady();
} else {
  throw new Error(`worker.ts: unknown library ${lib}`);
}
process.stdout.write('ready\n');
