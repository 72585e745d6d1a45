import { EventBus } from '../../src/bus/EventBus.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';
import { MemorySnapshotStore } from '../../src/projection/MemorySnapshotStore.js';
import { projection } from '../../src/projection/projection.js';
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
  },
};
