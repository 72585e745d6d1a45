/**
 * RedisWorkQueue across real worker processes (test/redis/workQueue/fixtures/worker.ts) on a
 * real redis-server: four workers, one of them SIGKILLed mid-job again and again (and started
 * again as a new worker). Every job ends acknowledged or in the dead-letter stream; the jobs run
 * twice are at most those the killed workers held; higher priorities drain first; no worker ever
 * holds more jobs than its concurrency, by its own count and by Redis's pending lists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWorkQueue } from '../../../src/redis/index.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const fixture = join(import.meta.dirname, 'fixtures', 'worker.ts');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Worker {
  process: ChildProcess;
  log: string;
  stdout: string;
  exited: Promise<void>;
}

function linesOf(file: string): string[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '));
}

describe.skipIf(version === undefined)(
  'RedisWorkQueue across processes (real redis-server)',
  () => {
    let server: RedisServer;
    let redis: Redis;
    let dir: string;
    const workers: Worker[] = [];

    beforeAll(async () => {
      server = await RedisServer.start({ appendonly: false });
      redis = new Redis(server.port, '127.0.0.1');
      dir = mkdtempSync(join(tmpdir(), 'rxjs-bp-workers-'));
    });
    afterAll(async () => {
      for (const worker of workers) {
        if (worker.process.exitCode === null && worker.process.signalCode === null) {
          worker.process.kill('SIGKILL');
          await worker.exited;
        }
      }
      redis?.disconnect();
      await server?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const name = 'jobs';
    const levels = 3;
    const concurrency = 4;
    /** How long each job runs, ms: long enough for a replacement worker to boot between kills. */
    const jobMs = 100;

    function start(): Worker {
      const log = join(dir, `worker${workers.length}.log`);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fixture, server.port, name, levels, concurrency, jobMs, log].map(
          String,
        ),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const worker: Worker = {
        process: child,
        log,
        stdout: '',
        exited: new Promise((resolve) => child.once('exit', () => resolve())),
      };
      child.stdout!.on('data', (data) => {
        worker.stdout += data.toString();
      });
      child.stderr!.on('data', (data) => {
        worker.stdout += data.toString();
      });
      workers.push(worker);
      return worker;
    }

    async function ready(worker: Worker): Promise<void> {
      const deadline = Date.now() + 20_000;
      while (!worker.stdout.includes('ready')) {
        if (Date.now() > deadline) throw new Error(`worker not ready: ${worker.stdout}`);
        await sleep(20);
      }
    }

    /** Jobs pending in the group, all levels. */
    async function pendingTotal(): Promise<number> {
      let count = 0;
      for (let level = 0; level < levels; level++) {
        count += ((await redis.xpending(`${name}:p${level}`, 'workers')) as [number])[0];
      }
      return count;
    }

    /** Jobs each consumer holds now, by Redis's pending lists (all levels read in one MULTI). */
    async function heldByConsumer(): Promise<number[]> {
      const batch = redis.multi();
      for (let level = 0; level < levels; level++) batch.xpending(`${name}:p${level}`, 'workers');
      const replies = (await batch.exec()) ?? [];
      const held = new Map<string, number>();
      for (const [error, summary] of replies) {
        if (error !== null) continue;
        for (const [consumer, count] of ((summary as unknown[])[3] ?? []) as [string, string][]) {
          held.set(consumer, (held.get(consumer) ?? 0) + Number(count));
        }
      }
      return [...held.values()];
    }

    it('four workers, one SIGKILLed mid-job again and again: every job acknowledged or dead-lettered', async () => {
      const queue = new RedisWorkQueue<{ i: number; fail?: boolean }>({ redis, name, levels });
      const total = 1_200;
      const priorityOf = (i: number) => i % levels;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          queue.add(
            { i, ...(i % 101 === 0 ? { fail: true } : {}) },
            {
              id: `job${i}`,
              priority: priorityOf(i),
            },
          ),
        ),
      );
      const pool = [start(), start(), start(), start()];
      await Promise.all(pool.map(ready));

      let mostHeld = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          mostHeld = Math.max(mostHeld, ...(await heldByConsumer().catch(() => [])), 0);
          await sleep(10);
        }
      })();
      /** Jobs that ended (acknowledged or dead-lettered), by the workers' logs. */
      const finished = () => {
        const ends = new Set<string>();
        for (const worker of workers) {
          for (const line of linesOf(worker.log)) if (line[0] !== 's') ends.add(line[1] as string);
        }
        return ends.size;
      };
      /** The jobs a worker started and has not finished, by its log. */
      const inFlight = (worker: Worker) => {
        const lines = linesOf(worker.log);
        const ended = new Set(lines.filter((l) => l[0] !== 's').map((l) => l[1]));
        return new Set(lines.filter((l) => l[0] === 's' && !ended.has(l[1])).map((l) => l[1]));
      };
      // While most jobs are still to do: kill a live worker that holds jobs (SIGKILL, mid-job), and
      // start a new one in its place. The next kill waits for that one to be ready, so that three
      // live workers are there to take the killed one's jobs over (a worker booting takes none).
      const killed: Worker[] = [];
      let heldWhenKilled = 0;
      /** Per kill: when, and the jobs the killed worker held. */
      const kills: Array<{ at: number; jobs: Set<string | undefined> }> = [];
      while (killed.length < 4 && finished() < total * 0.7) {
        await sleep(200);
        const live = workers.filter((w) => !killed.includes(w) && w.stdout.includes('ready'));
        if (live.length < 4) continue;
        const victim = live.find((w) => inFlight(w).size > 0);
        if (victim === undefined) continue;
        victim.process.kill('SIGKILL');
        const at = Date.now();
        await victim.exited;
        killed.push(victim);
        const jobs = inFlight(victim);
        kills.push({ at, jobs });
        heldWhenKilled += jobs.size;
        start();
      }
      expect(killed.length).toBeGreaterThanOrEqual(2);

      // Done when Redis says so: every level's stream empty (an acknowledged or dead-lettered
      // job is deleted from it), the failing jobs in the dead-letter stream.
      const failing = Array.from({ length: total }, (_, i) => i).filter((i) => i % 101 === 0);
      const left = async () => {
        let count = 0;
        for (let level = 0; level < levels; level++) count += await redis.xlen(`${name}:p${level}`);
        return count + failing.length - (await redis.xlen(`${name}:dead`));
      };
      const deadline = Date.now() + 30_000;
      while ((await left()) > 0) {
        if (Date.now() > deadline) throw new Error(`${await left()} of ${total} jobs left`);
        await sleep(50);
      }
      sampling = false;
      await sampler;

      // Every job ended once, acknowledged or in the dead-letter stream (the failing ones), and
      // said so in a log; except those a killed worker acknowledged just before it died, before
      // writing its log line.
      const acked = new Map<string, number>();
      const dead = new Map<string, number>();
      for (const worker of workers) {
        for (const [kind, id] of linesOf(worker.log)) {
          if (kind === 'o') acked.set(id as string, (acked.get(id as string) ?? 0) + 1);
          if (kind === 'd') dead.set(id as string, (dead.get(id as string) ?? 0) + 1);
        }
      }
      expect((await queue.deadLetters(1_000)).map((d) => d.id).sort()).toEqual(
        failing.map((i) => `job${i}`).sort(),
      );
      expect([...dead.keys()].every((id) => failing.includes(Number(id.slice(3))))).toBe(true);
      expect([...acked.values(), ...dead.values()].every((count) => count === 1)).toBe(true);
      const startedByKilled = new Set(
        killed.flatMap((worker) =>
          linesOf(worker.log)
            .filter((l) => l[0] === 's')
            .map((l) => l[1]),
        ),
      );
      const unlogged = Array.from({ length: total }, (_, i) => `job${i}`).filter(
        (id) => !acked.has(id) && !dead.has(id),
      );
      expect(unlogged.every((id) => startedByKilled.has(id))).toBe(true);
      expect(unlogged.length).toBeLessThanOrEqual(heldWhenKilled);
      expect(await pendingTotal()).toBe(0);

      // Duplicates: jobs started by more than one process, at most the jobs the killed ones held.
      const runners = new Map<string, Set<number>>();
      for (const [k, worker] of workers.entries()) {
        for (const [kind, id] of linesOf(worker.log)) {
          if (kind !== 's') continue;
          const set = runners.get(id as string) ?? new Set();
          set.add(k);
          runners.set(id as string, set);
        }
      }
      const duplicated = [...runners.values()].filter((set) => set.size > 1).length;

      // Recovery: from a kill to the last of the killed worker's jobs starting elsewhere (those it
      // had not acknowledged), within visibilityMs (1 s) plus a claim period (0.1 s), with room for
      // a busy machine; a takeover that waited for a replacement to boot would take 2 s or more.
      const starts = new Map<string, Array<[Worker, number]>>();
      for (const worker of workers) {
        for (const [kind, id, , , at] of linesOf(worker.log)) {
          if (kind !== 's') continue;
          const list = starts.get(id as string) ?? [];
          list.push([worker, Number(at)]);
          starts.set(id as string, list);
        }
      }
      /** Per kill: ms from the kill to each of the killed worker's jobs starting elsewhere. */
      const restarts = kills.map(({ at, jobs }, k) =>
        [...jobs].flatMap((id) => {
          const elsewhere = (starts.get(id as string) ?? [])
            .filter(([worker, when]) => worker !== killed[k] && when >= at)
            .map(([, when]) => when);
          return elsewhere.length === 0 ? [] : [Math.min(...elsewhere) - at];
        }),
      );
      const recoveries = restarts.map((times) => Math.max(0, ...times));
      const firsts = restarts.map((times) => (times.length === 0 ? 0 : Math.min(...times)));
      console.info(
        `work queue across processes: ${total} jobs, ${killed.length} workers killed holding ${heldWhenKilled} jobs, ${duplicated} jobs ran in two processes, at most ${mostHeld} held by one consumer, their jobs running elsewhere after ${restarts.map((_, k) => `${firsts[k]}-${recoveries[k]}`).join(', ')} ms (first-last job, per kill)`,
      );
      expect(Math.max(...recoveries)).toBeLessThan(2_000);
      expect(heldWhenKilled).toBeGreaterThan(0);
      expect(duplicated).toBeLessThanOrEqual(heldWhenKilled);

      // No worker ever held more than its concurrency: by its own count, and in Redis.
      for (const worker of workers) {
        for (const line of linesOf(worker.log)) {
          if (line[0] === 's') expect(Number(line[2])).toBeLessThanOrEqual(concurrency);
        }
      }
      expect(mostHeld).toBeLessThanOrEqual(concurrency);

      // Higher priorities drain first: by the time of each job's first start, the first third of
      // the jobs are nearly all of the highest level, the last third nearly all of the lowest (jobs
      // taken over from a killed worker start late whatever their level).
      const firstStart = new Map<string, [number, number]>();
      for (const worker of workers) {
        for (const [kind, id, , priority, at] of linesOf(worker.log)) {
          if (kind !== 's') continue;
          const seen = firstStart.get(id as string);
          if (seen === undefined || Number(at) < seen[0]) {
            firstStart.set(id as string, [Number(at), Number(priority)]);
          }
        }
      }
      const byTime = [...firstStart.values()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
      expect(byTime).toHaveLength(total);
      const third = total / 3;
      const share = (from: number, level: number) =>
        byTime.slice(from, from + third).filter((p) => p === level).length / third;
      expect(share(0, 2)).toBeGreaterThan(0.9);
      expect(share(2 * third, 0)).toBeGreaterThan(0.9);
    }, 60_000);
  },
);
