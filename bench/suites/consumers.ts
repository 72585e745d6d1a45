import { pushable } from 'it-pushable';
import { mergeMap, Observable, Subject, type Subscription } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import { toAsyncIterable } from '../../src/interop/toAsyncIterable.js';
import { drainWith } from '../../src/operators/drainWith.js';
import { heapUsed, type Measurement, measure, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

/** Values pulled through each `for await` loop. */
const PULLED = 1_000_000;
/** eachValueFrom's backlog is an array it shift()s from: quadratic, so its burst is smaller. */
const SMALL_BURST = 50_000;
/** Values a producer floods while the loop is stalled, measured at each of these counts. */
const STALLED_FLOODS = [250_000, 500_000, 1_000_000];
/** Values through drainWith / mergeMap, and their concurrency. */
const HANDLED = 200_000;
/** mergeMap's backlog is an array it shift()s from: quadratic, so the burst is smaller. */
const HANDLER_BURST = 20_000;
const CONCURRENCY = 4;
const SLOW_FLOOD = 1_000_000;
/**
 * Turns of the two bridges compared most closely, each keeping its best run: on a shared machine
 * two runs in a row leave the ratio at the mercy of one busy moment.
 */
const BRIDGE_TURNS = 5;

interface Event {
  seq: number;
  text: string;
}
const event = (seq: number): Event => ({ seq, text: 'delta' });

/** A source that emits `count` events synchronously when subscribed. */
function burst(count: number): Observable<Event> {
  return new Observable<Event>((subscriber) => {
    for (let seq = 0; seq < count && !subscriber.closed; seq++) subscriber.next(event(seq));
    subscriber.complete();
  });
}

/**
 * A source that emits `count` events in chunks of `chunk`, one chunk per macrotask, as a
 * producer fed by I/O does. The bench runs on Node, so setImmediate is the macrotask.
 */
function paced(count: number, chunk: number): Observable<Event> {
  return new Observable<Event>((subscriber) => {
    let seq = 0;
    let pending: ReturnType<typeof setImmediate> | undefined;
    const emitChunk = (): void => {
      const end = Math.min(count, seq + chunk);
      while (seq < end && !subscriber.closed) subscriber.next(event(seq++));
      if (seq >= count) subscriber.complete();
      else pending = setImmediate(emitChunk);
    };
    emitChunk();
    return () => {
      if (pending !== undefined) clearImmediate(pending);
    };
  });
}

/** it-pushable fed by a subscription: the way it is used to bridge an Observable. */
function viaPushable(source: Observable<Event>): AsyncIterable<Event> & { stop(): void } {
  const buffer = pushable<Event>({ objectMode: true });
  const subscription = source.subscribe({
    next: (value) => buffer.push(value),
    error: (error: unknown) => buffer.end(error as Error),
    complete: () => buffer.end(),
  });
  return Object.assign(buffer, { stop: () => subscription.unsubscribe() });
}

async function consume(iterable: AsyncIterable<Event>, expected: number): Promise<void> {
  let count = 0;
  let last = -1;
  for await (const value of iterable) {
    count++;
    last = value.seq;
  }
  if (count !== expected || last !== expected - 1) {
    throw new Error(`consumed ${count} values (last ${last}), expected ${expected}`);
  }
}

/**
 * Measures the cases in turns (one run of each, then again), keeping each case's best run: a
 * busy moment of a shared machine then slows one run of every case, not every run of one.
 */
async function measureInTurns(
  cases: Array<[name: string, events: number, run: () => Promise<void>]>,
): Promise<Measurement[]> {
  const best: Measurement[] = [];
  for (let turn = 0; turn < BRIDGE_TURNS; turn++) {
    for (const [index, [name, events, run]] of cases.entries()) {
      const measured = await measure(name, events, run, 1);
      const kept = best[index];
      if (kept === undefined || measured.ms < kept.ms) best[index] = measured;
    }
  }
  return best;
}

/** Prints toAsyncIterable's speed as a multiple of it-pushable's, from rows naming both. */
function printBridgeRatio(rows: Measurement[]): void {
  const ours = rows.find((row) => row.name === 'toAsyncIterable');
  const peer = rows.find((row) => row.name === 'it-pushable');
  if (ours === undefined || peer === undefined) return;
  console.log(
    `\ntoAsyncIterable speed / it-pushable speed: ${(ours.perSecond / peer.perSecond).toFixed(2)}x (goal >= 1x)`,
  );
}

/** Heap growth (MB) while a producer floods `count` events into a loop stalled after one value. */
async function stalledHeap(
  count: number,
  open: (source: Subject<Event>) => { first: () => Promise<unknown>; close: () => void },
): Promise<number> {
  const source = new Subject<Event>();
  const consumer = open(source);
  const first = consumer.first();
  source.next(event(-1));
  await first;
  const before = heapUsed();
  for (let seq = 0; seq < count; seq++) source.next(event(seq));
  const grown = (heapUsed() - before) / 1_048_576;
  consumer.close();
  return grown;
}

function stalledToAsyncIterable(source: Subject<Event>) {
  const iterator = toAsyncIterable(source, { capacity: 1_000, overflow: 'drop-oldest' });
  return { first: () => iterator.next(), close: () => void iterator.return?.() };
}
function stalledEachValueFrom(source: Subject<Event>) {
  const iterator = eachValueFrom(source);
  return { first: () => iterator.next(), close: () => void iterator.return?.() };
}
function stalledPushable(source: Subject<Event>) {
  const iterable = viaPushable(source);
  const iterator = iterable[Symbol.asyncIterator]();
  return {
    first: () => iterator.next(),
    close: () => {
      iterable.stop();
      void iterator.return?.();
    },
  };
}

/** Runs `count` events of `source` through `pipeline` with an async handler, until it completes. */
async function handled(
  source: Observable<Event>,
  pipeline: (source: Observable<Event>) => Observable<number>,
  count: number,
): Promise<void> {
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    pipeline(source).subscribe({
      next: () => received++,
      error: reject,
      complete: resolve,
    });
  });
  if (received !== count) throw new Error(`received ${received} of ${count}`);
}

/** The same asynchronous per-event work for both: a promise that settles a microtask later. */
const persist = (value: Event): Promise<number> => Promise.resolve(value.seq);

/** Heap growth (MB) while `count` events flood a pipeline whose handler never finishes. */
function slowHandlerHeap(pipeline: (source: Subject<Event>) => Observable<number>): number {
  const source = new Subject<Event>();
  const subscription: Subscription = pipeline(source).subscribe();
  const before = heapUsed();
  for (let seq = 0; seq < SLOW_FLOOD; seq++) source.next(event(seq));
  const grown = (heapUsed() - before) / 1_048_576;
  subscription.unsubscribe();
  return grown;
}
const stuck = (): Promise<number> => new Promise<number>(() => {});

export const suite: BenchSuite = {
  name: 'consumers',
  title: 'toAsyncIterable vs rxjs-for-await and it-pushable; drainWith vs mergeMap',
  async run() {
    const lossless = { capacity: PULLED, overflow: 'error' } as const;
    const paced100 = () => paced(PULLED, 100);
    const pacedRows: Measurement[] = await measureInTurns([
      ['toAsyncIterable', PULLED, () => consume(toAsyncIterable(paced100(), lossless), PULLED)],
      ['it-pushable', PULLED, () => consume(viaPushable(paced100()), PULLED)],
    ]);
    pacedRows.splice(
      1,
      0,
      await measure('rxjs-for-await eachValueFrom', PULLED, () =>
        consume(eachValueFrom(paced100()), PULLED),
      ),
    );
    console.log(
      `${PULLED.toLocaleString('en-US')} events through for await, produced 100 per macrotask:\n`,
    );
    printTable(pacedRows);
    printBridgeRatio(pacedRows);

    const burstRows: Measurement[] = await measureInTurns([
      ['toAsyncIterable', PULLED, () => consume(toAsyncIterable(burst(PULLED), lossless), PULLED)],
      ['it-pushable', PULLED, () => consume(viaPushable(burst(PULLED)), PULLED)],
    ]);
    burstRows.push(
      await measure(
        `rxjs-for-await eachValueFrom (${SMALL_BURST.toLocaleString('en-US')} only)`,
        SMALL_BURST,
        () => consume(eachValueFrom(burst(SMALL_BURST)), SMALL_BURST),
        1,
      ),
    );
    console.log(
      `\n${PULLED.toLocaleString('en-US')} events through for await, all produced in one synchronous burst:\n`,
    );
    printTable(burstRows);
    printBridgeRatio(burstRows);
    console.log(
      `\n(eachValueFrom buffers in an array it shift()s from, which is quadratic on a large backlog: it runs on ${SMALL_BURST.toLocaleString('en-US')} events here.)`,
    );

    console.log(
      '\nHeap growth (MB) while the producer floods a loop stalled after its first value:\n',
    );
    const header = [
      'consumer',
      ...STALLED_FLOODS.map((count) => `${count.toLocaleString('en-US')} events`),
    ];
    console.log(`| ${header.join(' | ')} |`);
    console.log(`| ${header.map(() => '---').join(' | ')} |`);
    for (const [name, open] of [
      ['toAsyncIterable, capacity 1,000, drop-oldest', stalledToAsyncIterable],
      ['rxjs-for-await eachValueFrom', stalledEachValueFrom],
      ['it-pushable', stalledPushable],
    ] as const) {
      const heaps: string[] = [];
      for (const count of STALLED_FLOODS) heaps.push((await stalledHeap(count, open)).toFixed(1));
      console.log(`| ${name} | ${heaps.join(' | ')} |`);
    }

    const viaMergeMap = (source: Observable<Event>) => source.pipe(mergeMap(persist, CONCURRENCY));
    const viaDrainWith = (source: Observable<Event>) =>
      source.pipe(
        drainWith(persist, { capacity: HANDLED, overflow: 'error', concurrency: CONCURRENCY }),
      );
    const viaDrainWithPriority = (source: Observable<Event>) =>
      source.pipe(
        drainWith(persist, {
          capacity: HANDLED,
          overflow: 'error',
          concurrency: CONCURRENCY,
          priority: (value) => value.seq & 3,
        }),
      );
    const viaDrainWithWorkers = (source: Observable<Event>) =>
      source.pipe(
        drainWith(persist, {
          capacity: HANDLED,
          overflow: 'error',
          concurrency: CONCURRENCY,
          retry: { maxAttempts: 3 },
          timeout: 60_000,
          deadLetter: () => {},
          stats: { next: () => {} },
        }),
      );
    for (const [shape, count, make] of [
      ['produced 100 per macrotask', HANDLED, () => paced(HANDLED, 100)],
      ['one synchronous burst', HANDLER_BURST, () => burst(HANDLER_BURST)],
    ] as const) {
      const handlerRows = [
        await measure(`mergeMap(handler, ${CONCURRENCY})`, count, () =>
          handled(make(), viaMergeMap, count),
        ),
        await measure(`drainWith(handler, { concurrency: ${CONCURRENCY} })`, count, () =>
          handled(make(), viaDrainWith, count),
        ),
        await measure(`drainWith(handler, { concurrency: ${CONCURRENCY}, priority })`, count, () =>
          handled(make(), viaDrainWithPriority, count),
        ),
        await measure(
          `drainWith(handler, { concurrency: ${CONCURRENCY}, retry, timeout, deadLetter, stats })`,
          count,
          () => handled(make(), viaDrainWithWorkers, count),
        ),
      ];
      console.log(
        `\n${count.toLocaleString('en-US')} events, ${shape}, an async handler (a promise per event), lossless:\n`,
      );
      printTable(handlerRows);
      const ratio = (handlerRows[0]?.perSecond ?? 0) / (handlerRows[1]?.perSecond ?? 1);
      console.log(`\ndrainWith time / mergeMap time: ${ratio.toFixed(2)}x (target <= 1.5x)`);
    }

    const mergeMapHeap = slowHandlerHeap((source) => source.pipe(mergeMap(stuck, CONCURRENCY)));
    const drainWithHeap = slowHandlerHeap((source) =>
      source.pipe(
        drainWith(stuck, { capacity: 1_000, overflow: 'drop-oldest', concurrency: CONCURRENCY }),
      ),
    );
    console.log(
      `\nHeap growth while ${SLOW_FLOOD.toLocaleString('en-US')} events flood a handler that never finishes: mergeMap ${mergeMapHeap.toFixed(1)} MB, drainWith (capacity 1,000) ${drainWithHeap.toFixed(1)} MB`,
    );
  },
};
