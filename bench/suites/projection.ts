import { Redis } from 'ioredis';
import { EventBus } from '../../src/bus/EventBus.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';
import { MemorySnapshotStore } from '../../src/projection/MemorySnapshotStore.js';
import { projection } from '../../src/projection/projection.js';
import { RedisEventBus, RedisStreamArchive } from '../../src/redis/index.js';
import { RedisServer, redisServerVersion } from '../../test/redis/redisServer.js';
import { heapUsed, type Measurement, measure, printTable } from '../harness.js';
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

/**
 * The heap while a catch-up folds, every 100,000 frames, above where it started. In a timed run it
 * is read as it is, garbage included, so it depends on when V8 collects (`heap peak MB`). A pass
 * of its own, untimed, collects garbage before each reading: what the catch-up holds (`heap held
 * MB`).
 */
class HeapWatch {
  private readonly base: number;
  private peak = 0;

  constructor(private readonly collectFirst: boolean) {
    // A timed run starts right after the harness collected garbage: no collection inside it.
    this.base = collectFirst ? heapUsed() : process.memoryUsage().heapUsed;
  }

  folded(count: number): void {
    if (count % 100_000 !== 0) return;
    const used = this.collectFirst ? heapUsed() : process.memoryUsage().heapUsed;
    this.peak = Math.max(this.peak, used - this.base);
  }

  get column(): Record<string, string> {
    return {
      [this.collectFirst ? 'heap held MB' : 'heap peak MB']: (this.peak / 1_048_576).toFixed(1),
    };
  }
}

/** Measures a catch-up (best of `repeat` timed runs), then runs it once more untimed for the heap it holds. */
async function measureCatchUp(
  name: string,
  catchUp: (heap: HeapWatch) => Promise<void> | void,
  repeat = 3,
): Promise<Measurement> {
  const measurement = await measure(
    name,
    FRAMES,
    async () => {
      const heap = new HeapWatch(false);
      await catchUp(heap);
      return heap.column;
    },
    repeat,
  );
  const held = new HeapWatch(true);
  await catchUp(held);
  measurement.extra = { ...measurement.extra, ...held.column };
  return measurement;
}

/** Catches up over the whole log of an in-memory bus. */
function catchUp(heap: HeapWatch, bus: EventBus<{ n: number }>, snapshots?: MemorySnapshotStore) {
  let folded = 0;
  let caught: Totals | undefined;
  const subscription = projection(bus, {
    name: 'totals',
    initial,
    reduce: (totals: Totals, frame: EventFrame<{ n: number }>) => {
      heap.folded(++folded);
      return fold(totals, frame);
    },
    ...(snapshots === undefined ? {} : { snapshots: { store: snapshots, every: 10_000 } }),
  }).subscribe(({ state }) => {
    caught = state;
  });
  subscription.unsubscribe();
  snapshots?.delete('totals');
  if (caught?.count !== FRAMES) throw new Error(`folded ${caught?.count}, not ${FRAMES}`);
}

export const suite: BenchSuite = {
  name: 'projection',
  title: `catch-up of a projection over ${FRAMES.toLocaleString('en-US')} frames, against Array.reduce over the same frames`,
  async run() {
    await inMemory();
    await onRedis();
  },
};

/**
 * The catch-ups in memory. Their buses are let go before the Redis part, whose heap figures would
 * otherwise depend on when V8 collects with hundreds of MB still live.
 */
async function inMemory(): Promise<void> {
  const inHistory = filledBus({ history: FRAMES });
  const frames: EventFrame<{ n: number }>[] = [];
  inHistory.replay({}).subscribe((frame) => frames.push(frame));
  const rows = [
    await measure('Array.reduce over the frames (an array)', FRAMES, () => {
      const totals = frames.reduce(fold, initial);
      if (totals.count !== FRAMES) throw new Error('short');
    }),
    await measureCatchUp('projection: catch-up from history', (heap) => catchUp(heap, inHistory)),
    await measureCatchUp('projection: catch-up from history, snapshot every 10,000', (heap) =>
      catchUp(heap, inHistory, new MemorySnapshotStore()),
    ),
  ];
  frames.length = 0;
  const before = heapUsed();
  const archived = filledBus({ history: 1024, archive: new MemoryArchive() });
  console.log(
    `(the archived bus holds ${((heapUsed() - before) / 1_048_576).toFixed(0)} MB of frames)`,
  );
  rows.push(
    await measureCatchUp('projection: catch-up from a MemoryArchive (1,024 in history)', (heap) =>
      catchUp(heap, archived),
    ),
  );
  printTable(rows);
}

/**
 * The same catch-up on a RedisEventBus, against the Redis replay rate (a bare
 * `RedisStreamArchive.replay` over the same stream, counting frames, in XRANGE pages of 1,024 (the default)
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
    const archive = new RedisStreamArchive<{ n: number }>({ redis, stream });
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
      await measureCatchUp(
        'projection: catch-up on a RedisEventBus (history 1,000, default pages)',
        async (heap) => {
          // The default XRANGE page on both sides (1,024 entries), as the bus reads them.
          const bus = await RedisEventBus.create<{ n: number }>({ redis, stream, history: 1000 });
          let folded = 0;
          await new Promise<void>((resolve, reject) => {
            const subscription = projection(bus, {
              name: 'totals',
              initial,
              reduce: (totals: Totals, frame: EventFrame<{ n: number }>) => {
                heap.folded(++folded);
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
