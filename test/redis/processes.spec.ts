/**
 * Several Node processes sharing one Redis stream through RedisEventBus: real child processes
 * (test/redis/fixtures), a real redis-server (killed and restarted where a test says so).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeEventBody, encodeFields } from '../../src/redis/codec.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from './redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const fixtures = join(import.meta.dirname, 'fixtures');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Child {
  process: ChildProcess;
  stdout: string;
  exited: Promise<number | null>;
}

const children: Child[] = [];

function run(fixture: string, args: Array<string | number>, nodeOptions: string[] = []): Child {
  const child = spawn(
    process.execPath,
    [...nodeOptions, '--import', 'tsx', join(fixtures, fixture), ...args.map(String)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const handle: Child = {
    process: child,
    stdout: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (data) => {
    handle.stdout += data.toString();
  });
  child.stderr!.on('data', (data) => {
    handle.stdout += data.toString();
  });
  children.push(handle);
  return handle;
}

async function until(check: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

interface SendResult {
  i?: number;
  seq?: number;
  error?: string;
  done?: boolean;
}

function resultsOf(child: Child): SendResult[] {
  return child.stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as SendResult);
}

describe.skipIf(version === undefined)('RedisEventBus across processes (real redis-server)', () => {
  let server: RedisServer;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    server = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'rxjs-bp-procs-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGKILL');
        await child.exited;
      }
    }
    if (!server.running) await server.restart();
  });
  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function startSubscribers(
    stream: string,
    count: number,
  ): Promise<{ files: string[]; subs: Child[] }> {
    const files = Array.from({ length: count }, (_, k) => join(dir, `${stream}-sub${k}.log`));
    const subs = files.map((file) => run('subscriber.ts', [server.port, stream, file]));
    await until(
      () => subs.every((sub) => sub.stdout.includes('ready')),
      'subscribers ready',
      30_000,
    );
    return { files, subs };
  }

  /** Checks one subscriber's log: seqs 1..total exactly once, in order, no gap notice. */
  function expectComplete(file: string, total: number): string[] {
    const lines = linesOf(file);
    expect(lines.map((line) => Number(line.split(' ')[0]))).toEqual(
      Array.from({ length: total }, (_, k) => k + 1),
    );
    expect(lines.filter((line) => line.includes('gap:'))).toEqual([]);
    return lines;
  }

  it('three publishers, three subscribers: every subscriber sees seq 1..N once, in order, the same frames', async () => {
    const stream = `procs-${++n}`;
    const { files } = await startSubscribers(stream, 3);
    const perPublisher = 300;
    const pubs = ['A', 'B', 'C'].map((id) =>
      run('publisher.ts', [server.port, stream, id, perPublisher]),
    );
    await Promise.all(pubs.map((pub) => pub.exited));
    for (const pub of pubs) {
      const results = resultsOf(pub).filter((r) => r.done !== true);
      expect(results.filter((r) => r.error !== undefined)).toEqual([]);
      expect(results).toHaveLength(perPublisher);
    }
    const total = 3 * perPublisher;
    await until(
      () => files.every((file) => linesOf(file).length >= total),
      'subscribers to catch up',
      30_000,
    );
    const first = expectComplete(files[0]!, total);
    for (const file of files.slice(1)) expect(expectComplete(file, total)).toEqual(first);
    const events = first.map((line) => line.split(' ')[1]);
    expect(new Set(events).size).toBe(total);
    // Each publisher's send results name the seq its frame got: the subscribers agree.
    for (const [k, pub] of pubs.entries()) {
      for (const r of resultsOf(pub)) {
        if (r.seq !== undefined) expect(first[r.seq - 1]).toBe(`${r.seq} ${'ABC'[k]}:${r.i}`);
      }
    }
  }, 90_000);

  it('redis-server killed and restarted mid-run: no frame lost or doubled, every send resolves or rejects clearly', async () => {
    const stream = `procs-${++n}`;
    const { files } = await startSubscribers(stream, 3);
    const perPublisher = 300;
    // Paced (16 sends in flight, 100 ms apart each): the run lasts about 2 s, the outage 0.7 s.
    const pubs = ['A', 'B', 'C'].map((id) =>
      run('publisher.ts', [server.port, stream, id, perPublisher, 100]),
    );
    await until(() => linesOf(files[0]!).length >= 100, 'the first frames', 30_000);
    const beforeOutage = linesOf(files[0]!).length;
    expect(beforeOutage).toBeLessThan(3 * perPublisher);
    await server.kill();
    await sleep(700);
    await server.restart();
    await Promise.all(pubs.map((pub) => pub.exited));
    const resolved = new Map<number, string>();
    for (const [k, pub] of pubs.entries()) {
      const results = resultsOf(pub).filter((r) => r.done !== true);
      expect(results).toHaveLength(perPublisher);
      for (const r of results) {
        if (r.seq !== undefined) resolved.set(r.seq, `${'ABC'[k]}:${r.i}`);
        else
          expect(r.error).toMatch(
            /^RedisUnavailableError: Redis stream .* is unavailable: send gave up/,
          );
      }
    }
    const redis = new Redis(server.port, '127.0.0.1');
    const total = await redis.xlen(stream);
    redis.disconnect();
    expect(total).toBeGreaterThanOrEqual(resolved.size);
    await until(
      () => files.every((file) => linesOf(file).length >= total),
      'subscribers to catch up',
      30_000,
    );
    const first = expectComplete(files[0]!, total);
    for (const file of files.slice(1)) expect(expectComplete(file, total)).toEqual(first);
    expect(new Set(first.map((line) => line.split(' ')[1])).size).toBe(total);
    for (const [seq, event] of resolved) expect(first[seq - 1]).toBe(`${seq} ${event}`);
  }, 90_000);

  it('a subscriber process killed mid-run resumes from its persisted cursor with no gap and no duplicate', async () => {
    const stream = `procs-${++n}`;
    const { files, subs } = await startSubscribers(stream, 1);
    const file = files[0]!;
    const pubs = ['A', 'B', 'C'].map((id) =>
      run('publisher.ts', [server.port, stream, id, 300, 10]),
    );
    await until(() => linesOf(file).length >= 150, 'the first frames', 30_000);
    subs[0]!.process.kill('SIGKILL');
    await subs[0]!.exited;
    const before = linesOf(file).length;
    await sleep(300);
    const again = run('subscriber.ts', [server.port, stream, file]);
    await until(() => again.stdout.includes('ready'), 'restart', 30_000);
    expect(again.stdout).toContain(`ready ${before}`);
    await Promise.all(pubs.map((pub) => pub.exited));
    await until(() => linesOf(file).length >= 900, 'catch up', 30_000);
    expectComplete(file, 900);
  }, 90_000);

  // The 1,000,000 frames (about 20 s on an idle 2-core machine, 60 s on a busy one);
  // REDIS_REPLAY_FRAMES=250000 shortens it. Buffering the replay would grow the heap by far more
  // than the bound checked, and would not fit in the child's 64 MB old space at all.
  const replayFrames = Number(process.env.REDIS_REPLAY_FRAMES ?? 1_000_000);

  /** A stream of `total` model deltas, loaded server-side in chunks. */
  async function loadStream(stream: string, total: number): Promise<void> {
    const redis = new Redis(server.port, '127.0.0.1');
    const fields = encodeFields(
      1,
      encodeEventBody({ kind: 'model.delta', runId: 'r', payload: { text: 'token' } }, 'main', 1),
    );
    // Server-side bulk load in chunks (a client round trip per frame would dominate the test),
    // in the current encoding: field m is '<version> <laneSeq>'.
    const version = fields[1]!.split(' ')[0];
    const load = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
      redis.call('XADD', KEYS[1], i .. '-0', 'm', '${version} ' .. i, 'e', ARGV[3]) end`;
    for (let from = 1; from <= total; from += 100_000) {
      await redis.eval(load, 1, stream, from, Math.min(from + 99_999, total), fields[3]!);
    }
    expect(await redis.xlen(stream)).toBe(total);
    redis.disconnect();
  }

  it(`replays ${replayFrames.toLocaleString('en-US')} frames from an early cursor with a bounded heap`, async () => {
    const stream = `procs-${++n}`;
    const total = replayFrames;
    await loadStream(stream, total);
    // 64 MB of old space could not hold the replay if it were buffered (a million frames take
    // several hundred MB as objects): the child would die with an out-of-memory error.
    const replay = run(
      'replay.ts',
      [server.port, stream, 10],
      ['--max-old-space-size=64', '--expose-gc'],
    );
    const code = await replay.exited;
    expect(replay.stdout).toMatch(/"count"/);
    expect(code).toBe(0);
    const result = JSON.parse(replay.stdout.trim().split('\n').at(-1)!) as {
      count: number;
      firstSeq: number;
      lastSeq: number;
      dense: boolean;
      baselineHeapMb: number;
      peakHeapMb: number;
      ms: number;
    };
    expect(result).toMatchObject({ count: total - 10, firstSeq: 11, lastSeq: total, dense: true });
    // A few pages plus garbage not yet collected, whatever the count (1,000,000 frames: 8.6 MB
    // before, 31 MB at the peak); a buffered replay of 250,000 frames alone would take ~60 MB.
    expect(result.peakHeapMb - result.baselineHeapMb).toBeLessThan(40);
    console.log(
      `replayed ${result.count} frames in ${result.ms.toFixed(0)} ms, heap ${result.baselineHeapMb.toFixed(1)} MB before, peak ${result.peakHeapMb.toFixed(1)} MB`,
    );
  }, 150_000);
  it(`a bus subscriber with a 'backpressure' queue and a slow consumer replays ${replayFrames.toLocaleString('en-US')} frames in 64 MB`, async () => {
    const stream = `procs-${++n}`;
    await loadStream(stream, replayFrames);
    // The bus reads the stream page by page as the consumer takes frames: were it to buffer
    // the replay, the child's 64 MB of old space could not hold it.
    const replay = run(
      '../../bus/fixtures/slowReplay.ts',
      ['redis', replayFrames, server.port, stream],
      ['--max-old-space-size=64', '--expose-gc'],
    );
    const code = await replay.exited;
    expect(replay.stdout).toMatch(/"count"/);
    expect(code).toBe(0);
    const result = JSON.parse(replay.stdout.trim().split('\n').at(-1)!) as {
      count: number;
      dense: boolean;
      baselineHeapMb: number;
      peakHeapMb: number;
    };
    expect(result).toMatchObject({ count: replayFrames, dense: true });
    expect(result.peakHeapMb - result.baselineHeapMb).toBeLessThan(40);
  }, 150_000);
});
