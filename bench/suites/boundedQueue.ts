import { asapScheduler, map, NEVER, type Observable, observeOn, Subject } from 'rxjs';
import { coalesce, type OverflowPolicy } from '../../src/core/types.js';
import { boundedQueue } from '../../src/operators/boundedQueue.js';
import { heapUsed, type Measurement, printTable, rate } from '../harness.js';
import type { BenchSuite } from './types.js';

const BURST = 1_000_000;
const OVERFLOW_PUSHES = 1_000_000;
const CAPACITIES = [100, 10_000, 1_000_000];
const FLOOD = 10_000_000;
const OBSERVE_ON_BURSTS = [2_500, 5_000, 10_000];

/** One tick, a microtask after the synchronous burst. */
function nextTick(): Observable<void> {
  const tick = new Subject<void>();
  queueMicrotask(() => tick.next());
  return tick;
}

/** Time for `count` synchronous `next` calls through `pipeline`, until everything is delivered. */
async function throughSubject(
  name: string,
  count: number,
  pipeline: (source: Observable<number>) => Observable<number>,
): Promise<Measurement> {
  let best = Number.POSITIVE_INFINITY;
  let heapDeltaMb = 0;
  for (let attempt = 0; attempt < 4; attempt++) {
    const source = new Subject<number>();
    let received = 0;
    const done = new Promise<void>((resolve) => {
      pipeline(source).subscribe({ next: () => received++, complete: resolve });
    });
    const before = heapUsed();
    const start = performance.now();
    for (let value = 0; value < count; value++) source.next(value);
    source.complete();
    await done;
    const ms = performance.now() - start;
    if (received !== count) throw new Error(`${name}: received ${received} of ${count}`);
    if (attempt > 0 && ms < best) best = ms;
    heapDeltaMb = Math.max(heapDeltaMb, (heapUsed() - before) / 1_048_576);
  }
  return { name, events: count, ms: best, perSecond: count / (best / 1000), heapDeltaMb };
}

const policies: Array<[string, OverflowPolicy<number>]> = [
  ['drop-oldest', 'drop-oldest'],
  ['drop-incoming', 'drop-incoming'],
  ['drop-progress', 'drop-progress'],
  ['coalesce', coalesce((acc, next) => acc + next)],
];

/** Per-value cost of pushes into a full queue whose consumer never asks for anything. */
function sustainedOverflow(overflow: OverflowPolicy<number>, capacity: number) {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const source = new Subject<number>();
    const subscription = source
      .pipe(
        boundedQueue({
          capacity,
          overflow,
          classify: () => 'progress',
          terminalReserve: 0,
          demand: NEVER,
        }),
      )
      .subscribe();
    for (let value = 0; value < capacity; value++) source.next(value);
    const start = performance.now();
    for (let value = 0; value < OVERFLOW_PUSHES; value++) source.next(value);
    const ms = performance.now() - start;
    subscription.unsubscribe();
    if (ms < best) best = ms;
  }
  return best / OVERFLOW_PUSHES;
}

export const suite: BenchSuite = {
  name: 'boundedQueue',
  title: 'boundedQueue beside bare RxJS, and under sustained overflow at three capacities',
  async run() {
    const burst: Measurement[] = [
      await throughSubject('Subject -> subscriber (floor)', BURST, (source) => source),
      await throughSubject('map(x => x)', BURST, (source) => source.pipe(map((x) => x))),
      await throughSubject('boundedQueue, asap delivery, no overflow', BURST, (source) =>
        source.pipe(boundedQueue({ capacity: BURST, overflow: 'error' })),
      ),
      await throughSubject('boundedQueue, flushOn tick, no overflow', BURST, (source) =>
        source.pipe(boundedQueue({ capacity: BURST, overflow: 'error', flushOn: nextTick() })),
      ),
      await throughSubject('boundedQueue, demand Infinity (pass-through)', BURST, (source) =>
        source.pipe(
          boundedQueue({
            capacity: 16,
            overflow: 'error',
            demand: [Number.POSITIVE_INFINITY],
          }),
        ),
      ),
    ];
    console.log(`A synchronous burst of ${BURST.toLocaleString('en-US')} values:\n`);
    printTable(burst);
    console.log(
      `\nobserveOn(asapScheduler) cannot take that burst: RxJS's asap flush shifts its action array once per value, so a burst of n values costs O(n²). Side by side on smaller bursts (its time grows with the square of the burst):\n`,
    );
    const small: Measurement[] = [];
    for (const count of OBSERVE_ON_BURSTS) {
      small.push(
        await throughSubject(`observeOn(asapScheduler), ${count} values`, count, (source) =>
          source.pipe(observeOn(asapScheduler)),
        ),
      );
      small.push(
        await throughSubject(`boundedQueue flushOn tick, ${count} values`, count, (source) =>
          source.pipe(boundedQueue({ capacity: count, overflow: 'error', flushOn: nextTick() })),
        ),
      );
    }
    printTable(small);
    const flushRate = burst[3]?.perSecond ?? 0;
    const observeOnRate = small[small.length - 2]?.perSecond ?? 1;
    console.log(
      `\nflushOn mode at ${BURST.toLocaleString('en-US')} values vs observeOn(asapScheduler) at ${OBSERVE_ON_BURSTS.at(-1)}: ${(flushRate / observeOnRate).toFixed(1)}x faster per value (target >= 1x)`,
    );

    console.log(
      `\nSustained overflow: ${OVERFLOW_PUSHES.toLocaleString('en-US')} pushes into a full queue, stalled consumer (ns per value):\n`,
    );
    const header = ['policy', ...CAPACITIES.map((c) => `capacity ${c.toLocaleString('en-US')}`)];
    console.log(`| ${header.join(' | ')} | 1,000,000 vs 100 |`);
    console.log(`| ${header.map(() => '---').join(' | ')} | --- |`);
    for (const [name, overflow] of policies) {
      const costs = CAPACITIES.map((capacity) => sustainedOverflow(overflow, capacity));
      const ratio = (costs[2] ?? 0) / (costs[0] ?? 1);
      console.log(
        `| ${name} | ${costs.map((ms) => `${(ms * 1e6).toFixed(0)} ns (${rate(1000 / ms)})`).join(' | ')} | ${ratio.toFixed(2)}x (target <= 1.5x) |`,
      );
    }

    const source = new Subject<number>();
    const before = heapUsed();
    const subscription = source
      .pipe(boundedQueue({ capacity: 1_000, overflow: 'drop-oldest', demand: NEVER }))
      .subscribe();
    const start = performance.now();
    for (let value = 0; value < FLOOD; value++) source.next(value);
    const ms = performance.now() - start;
    const grownMb = (heapUsed() - before) / 1_048_576;
    subscription.unsubscribe();
    console.log(
      `\nFlood of ${FLOOD.toLocaleString('en-US')} values into capacity 1,000, stalled consumer: ${rate(FLOOD / (ms / 1000))}, heap grew ${grownMb.toFixed(2)} MB (target < 16 MB)`,
    );
  },
};
