/**
 * RedisEventBus across processes beside a bare ioredis XADD + XREAD loop moving the same events:
 * frames per second from the first publish to the last delivery, and publish-to-delivery latency
 * (p50, p99) under that load, for 1, 3 and 8 publisher processes.
 *
 * Redis: the server on 127.0.0.1:$REDIS_PORT when that is set, else a redis-server this suite
 * starts (append-only with Redis's default `appendfsync everysec`); skipped with a message when neither is available.
 * $REDIS_BENCH_FRAMES sets the frames per case (default 30,000), $REDIS_BENCH_ROUNDS the rounds
 * (default 3), $REDIS_BENCH_PUBLISHERS the cases (default `1,3,8`): each round measures bare and bus back to back, in alternating order, and the
 * table shows the median round of each and the median of the rounds' ratios, with every round's
 * figures beside them (the machine is shared: a single round's ratio is noise-prone).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisBus } from '../../src/redis/index.js';
import { RedisServer, redisServerVersion } from '../../test/redis/redisServer.js';
import { type Measurement, median, medianRow, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const FRAMES = Number(process.env.REDIS_BENCH_FRAMES ?? 30_000);
const IN_FLIGHT = 32;
/** Rounds of each case; each round runs bare and bus back to back, their ratio is that round's. */
const ROUNDS = Math.max(1, Number(process.env.REDIS_BENCH_ROUNDS ?? 3));
/** Publisher processes per case: `$REDIS_BENCH_PUBLISHERS` (e.g. `1,8`), default 1, 3 and 8. */
const PUBLISHERS = (process.env.REDIS_BENCH_PUBLISHERS ?? '1,3,8')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const fixture = join(import.meta.dirname, '../fixtures/redisPublisher.ts');
const now = () => performance.timeOrigin + performance.now();

interface Publisher {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<void>;
}

function startPublisher(
  mode: 'bus' | 'bare',
  port: number,
  stream: string,
  count: number,
): Publisher {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fixture, mode, String(port), stream, String(count), String(IN_FLIGHT)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let output = '';
  const seen = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(word)) resolve();
      };
      child.stdout!.on('data', (data) => {
        output += data.toString();
        check();
      });
      child.once('exit', (code) => {
        check();
        reject(new Error(`publisher exited (${code}) before "${word}"`));
      });
    });
  return { child, ready: seen('ready'), done: seen('done') };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A subscriber that counts frames and records each one's latency. */
interface Sink {
  latencies: Float64Array;
  received: number;
  finished: Promise<number>;
  stop(): Promise<void>;
}

function makeSink(total: number): {
  sink: Omit<Sink, 'stop'>;
  record: (sentAt: number) => void;
} {
  const latencies = new Float64Array(total);
  let resolve!: (at: number) => void;
  const finished = new Promise<number>((done) => {
    resolve = done;
  });
  const sink = { latencies, received: 0, finished };
  const record = (sentAt: number) => {
    const at = now();
    if (sink.received < total) latencies[sink.received] = at - sentAt;
    sink.received++;
    if (sink.received === total) resolve(at);
  };
  return { sink, record };
}

async function busSink(port: number, stream: string, total: number): Promise<Sink> {
  const redis = new Redis(port, '127.0.0.1');
  const bus = await createRedisBus<{ t: number }>({ redis, stream });
  const { sink, record } = makeSink(total);
  const subscription = bus.select().subscribe((frame) => record(frame.payload!.t));
  return {
    ...sink,
    get received() {
      return sink.received;
    },
    stop: async () => {
      subscription.unsubscribe();
      await bus.close();
      redis.disconnect();
    },
  };
}

async function bareSink(port: number, stream: string, total: number): Promise<Sink> {
  const redis = new Redis(port, '127.0.0.1');
  const { sink, record } = makeSink(total);
  let running = true;
  const loop = (async () => {
    let last = '$';
    while (running && sink.received < total) {
      const reply = (await redis.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', stream, last)) as
        | [string, [string, string[]][]][]
        | null;
      const entries = reply?.[0]?.[1];
      if (entries === undefined) continue;
      for (const [id, fields] of entries) {
        const event = JSON.parse(fields[1]!) as { payload: { t: number } };
        record(event.payload.t);
        last = id;
      }
    }
  })().catch(() => undefined);
  // XREAD from '$' only sees entries added after it is issued: let it reach the server first.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    ...sink,
    stop: async () => {
      running = false;
      redis.disconnect();
      await loop;
    },
  };
}

async function runCase(
  mode: 'bus' | 'bare',
  port: number,
  publishers: number,
): Promise<Measurement> {
  const stream = `bench-${mode}-${publishers}-${Date.now()}`;
  const perPublisher = Math.ceil(FRAMES / publishers);
  const total = perPublisher * publishers;
  const pubs = Array.from({ length: publishers }, () =>
    startPublisher(mode, port, stream, perPublisher),
  );
  await Promise.all(pubs.map((pub) => pub.ready));
  const sink = await (mode === 'bus' ? busSink : bareSink)(port, stream, total);
  const start = now();
  for (const pub of pubs) pub.child.stdin!.write('go\n');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${mode}: ${sink.received} of ${total} frames after 120 s`)),
      120_000,
    );
  });
  let published = 0;
  void Promise.all(pubs.map((pub) => pub.done)).then(() => {
    published = now();
  });
  // Cleared, or it would hold the bench process open for two minutes after the last case.
  const end = await Promise.race([sink.finished, timeout]).finally(() => clearTimeout(timer));
  await Promise.all(pubs.map((pub) => pub.done));
  if (published === 0) published = now();
  await sink.stop();
  const ms = end - start;
  const sorted = sink.latencies.slice(0, total).sort();
  const redis = new Redis(port, '127.0.0.1');
  await redis.del(stream, `${stream}:seq`, `${stream}:lanes`);
  redis.disconnect();
  return {
    name: `${mode === 'bus' ? 'RedisEventBus' : 'bare ioredis XADD+XREAD'}, ${publishers} publisher${publishers === 1 ? '' : 's'}`,
    events: total,
    ms,
    perSecond: total / (ms / 1000),
    heapDeltaMb: 0,
    extra: {
      'p50 ms': percentile(sorted, 50).toFixed(2),
      'p99 ms': percentile(sorted, 99).toFixed(2),
      'publishers done ms': (published - start).toFixed(0),
    },
  };
}

export const suite: BenchSuite = {
  name: 'redis',
  title: `RedisEventBus across processes vs a bare ioredis XADD+XREAD loop (${FRAMES.toLocaleString('en-US')} frames per case, ${IN_FLIGHT} in flight per publisher, ${ROUNDS} rounds, bare and bus in alternating order; median round shown)`,
  async run() {
    let port = process.env.REDIS_PORT === undefined ? undefined : Number(process.env.REDIS_PORT);
    let server: RedisServer | undefined;
    if (port === undefined) {
      if (redisServerVersion() === undefined) {
        console.log(
          'skipped: no Redis (set REDIS_PORT to a server on 127.0.0.1, or install redis-server)',
        );
        return;
      }
      server = await RedisServer.start({ appendfsync: 'everysec' });
      port = server.port;
    }
    try {
      const rows: Measurement[] = [];
      for (const publishers of PUBLISHERS) {
        const bare: Measurement[] = [];
        const bus: Measurement[] = [];
        const ratios: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          // Alternating order: neither side always runs first (a warm JIT in the bench process,
          // a longer append-only file, another process's load arriving).
          const order = round % 2 === 0 ? (['bare', 'bus'] as const) : (['bus', 'bare'] as const);
          const measured: Partial<Record<'bare' | 'bus', Measurement>> = {};
          for (const mode of order) measured[mode] = await runCase(mode, port, publishers);
          bare.push(measured.bare!);
          bus.push(measured.bus!);
          ratios.push(measured.bus!.perSecond / measured.bare!.perSecond);
        }
        const busRow = medianRow(bus);
        busRow.extra = {
          ...busRow.extra,
          'vs bare': `${(median(ratios) * 100).toFixed(0)}% (rounds: ${ratios.map((ratio) => `${(ratio * 100).toFixed(0)}%`).join(', ')})`,
        };
        rows.push(medianRow(bare), busRow);
      }
      printTable(rows);
    } finally {
      await server?.stop();
    }
  },
};
