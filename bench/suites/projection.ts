import { Redis } from 'ioredis';
import { EventBus } from '../../src/bus/EventBus.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';
import { MemorySnapshotStore } from '../../src/projection/MemorySnapshotStore.js';
import { projection } from '../../src/projection/projection.js';
import { RedisEventBus, RedisStreamArchive } from '../../src/redis/index.js';
import { RedisServer, redisServerVersion } from '../../test/redis/redisServer.js';
import { heapUsed, measure, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

/** Frames in the log; `PROJECTION_FRAMES=100000 npm run bench -- projection` runs a smaller one. */
const FRAMES = Number(process.env.PROJECTION_FRAMES ?? 1_000_000);

interface Totals {
  count: number;
  tokens: number;
}

const initial: Totals = { count: 0, tokens: 0 };

/** The fold measured: a count and a sum, as a status table or a cost total would be. */
function fold(totals: Totals, frame: EventFrame<{ n: number }>): Totals {
  return { count: totals.count + 1, tokens: totals.tokens + (frame.payload?.n ?? 0) };
}

function filledBus(config: ConstructorParameters<typeof EventBus>[0]): EventBus<{ n: number }> {
  const bus = new EventBus<{ n: number }>(config);
  for (let i = 0; i < FRAMES; i++) {
    bus.publish({
      kind: i % 4 === 3 ? 'tool.call' : 'usage',
      runId: `r${i % 64}`,
      payload: { n: i % 7 },
    });
  }
  return bus;
}

/** Catches up over the whole log; returns the heap it grew by at most while folding, in MB. */
function catchUp(bus: EventBus<{ n: number }>, snapshots?: MemorySnapshotStore) {
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let folded = 0;
  let caught: Totals | undefined;
  const subscription = projection(bus, {
    name: 'totals',
    initial,
    reduce: (totals: Totals, frame: EventFrame<{ n: number }>) => {
      if (++folded % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      return fold(totals, frame);
    },
    ...(snapshots === undefined ? {} : { snapshots: { store: snapshots, every: 10_000 } }),
  }).subscribe(({ state }) => {
    caught = state;
  });
  subscription.unsubscribe();
  snapshots?.delete('totals');
  if (caught?.count !== FRAMES) throw new Error(`folded ${caught?.count}, not ${FRAMES}`);
  return { 'heap peak MB': (peak / 1_048_576).toFixed(1) };
}

export const suite: BenchSuite = {
  name: 'projection',
  title: `catch-up of a projection over ${FRAMES.toLocaleString('en-US')} frames, against Array.reduce over the same frames`,
  async run() {
    const inHistory = filledBus({ history: FRAMES });
    const frames: EventFrame<{ n: number }>[] = [];
    inHistory.replay({}).subscribe((frame) => frames.push(frame));
    const rows = [
      await measure('Array.reduce over the frames (an array)', FRAMES, () => {
        const totals = frames.reduce(fold, initial);
        if (totals.count !== FRAMES) throw new Error('short');
      }),
      await measure('projection: catch-up from history', FRAMES, () => catchUp(inHistory)),
      await measure('projection: catch-up from history, snapshot every 10,000', FRAMES, () =>
        catchUp(inHistory, new MemorySnapshotStore()),
      ),
    ];
    frames.length = 0;
    const before = heapUsed();
    const archived = filledBus({ history: 1024, archive: new MemoryArchive() });
    console.log(
      `(the archived bus holds ${((heapUsed() - before) / 1_048_576).toFixed(0)} MB of frames)`,
    );
    rows.push(
      await measure('projection: catch-up from a MemoryArchive (1,024 in history)', FRAMES, () =>
        catchUp(archived),
      ),
    );
    printTable(rows);
    await onRedis();
  },
};

/**
 * The same catch-up on a RedisEventBus, against the Redis replay rate (a bare
 * `RedisStreamArchive.replay` over the same stream, counting frames, in XRANGE pages of 1,000
 * entries as the bus's): a redis-server of its own, the stream loaded through the bus in batches.
 */
async function onRedis(): Promise<void> {
  if (redisServerVersion() === undefined) {
    console.log('\nRedis: skipped (no redis-server installed)');
    return;
  }
  const server = await RedisServer.start({ appendfsync: 'everysec' });
  const redis = new Redis(server.port, '127.0.0.1');
  try {
    const stream = 'projection-bench';
    const loader = await RedisEventBus.create<{ n: number }>({ redis, stream });
    for (let i = 0; i < FRAMES; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, FRAMES - i) }, (_, k) => ({
        kind: (i + k) % 4 === 3 ? 'tool.call' : 'usage',
        runId: `r${(i + k) % 64}`,
        payload: { n: (i + k) % 7 },
      }));
      await loader.publishAll(batch);
    }
    await loader.close();
    const archive = new RedisStreamArchive<{ n: number }>({ redis, stream, pageSize: 1000 });
    const rows = [
      await measure(
        'Redis replay: RedisStreamArchive.replay, counting',
        FRAMES,
        async () => {
          let count = 0;
          await new Promise<void>((resolve, reject) =>
            archive
              .replay({}, 0)
              .subscribe({ next: () => count++, error: reject, complete: resolve }),
          );
          if (count !== FRAMES) throw new Error(`replayed ${count}`);
        },
        1,
      ),
      await measure(
        'projection: catch-up on a RedisEventBus (history 1,000, pages of 1,000)',
        FRAMES,
        async () => {
          // The bare replay's page size: the same XRANGE pages on both sides.
          const bus = await RedisEventBus.create<{ n: number }>({
            redis,
            stream,
            history: 1000,
            pageSize: 1000,
          });
          const base = process.memoryUsage().heapUsed;
          let peak = 0;
          let folded = 0;
          await new Promise<void>((resolve, reject) => {
            const subscription = projection(bus, {
              name: 'totals',
              initial,
              reduce: (totals: Totals, frame: EventFrame<{ n: number }>) => {
                if (++folded % 100_000 === 0) {
                  peak = Math.max(peak, process.memoryUsage().heapUsed - base);
                }
                return fold(totals, frame);
              },
            }).subscribe({
              next: ({ state, caughtUp }) => {
                if (!caughtUp) return;
                if (state.count !== FRAMES) reject(new Error(`folded ${state.count}`));
                subscription.unsubscribe();
                resolve();
              },
              error: reject,
            });
          });
          await bus.close();
          return { 'heap peak MB': (peak / 1_048_576).toFixed(1) };
        },
        1,
      ),
    ];
    console.log(`\n${FRAMES.toLocaleString('en-US')} frames on a redis-server of its own:\n`);
    printTable(rows);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
