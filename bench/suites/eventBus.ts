import { asyncScheduler, NEVER, type SchedulerLike, Subject } from 'rxjs';
import { EventBus } from '../../src/bus/EventBus.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { AgentEvent, EventBusConfig, EventFilter } from '../../src/bus/types.js';
import { heapUsed, type Measurement, measure, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const PUBLISHES = 1_000_000;
const FANOUT_EVENTS = 500_000;
/** The flood; `BUS_FLOOD=1000000 npm run bench -- eventBus` runs a smaller one. */
const FLOOD = Number(process.env.BUS_FLOOD ?? 10_000_000);
const ARCHIVED = 1_000_000;

/** `count` distinct events spread over `runs` runs (reused round-robin by the loops). */
function eventsOver(runs: number, count = Math.max(runs, 1024)): AgentEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: i % 4 === 3 ? 'tool.call' : 'model.delta',
    runId: `run-${i % runs}`,
    payload: { text: 'x' },
  }));
}

/** Prints how many times slower the second row is than the first. */
function ratioNote(rows: Measurement[], label: string): void {
  const [base, other] = rows;
  if (base === undefined || other === undefined) return;
  console.log(`\n${label}: ${(base.perSecond / other.perSecond).toFixed(2)}x\n`);
}

/** CPU time of this process in ms: unlike wall time, it leaves out the slices other processes
 * of a shared machine get while a case runs (the cases are synchronous: nothing waits). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs the cases in turns (so a load spike on a shared machine hits them all alike) and keeps
 * each one's best CPU time.
 */
function interleaved(
  count: number,
  cases: Array<[name: string, run: () => void]>,
  rounds = 9,
): Measurement[] {
  const best = cases.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < rounds; round++) {
    cases.forEach(([, run], index) => {
      const start = cpuMs();
      run();
      const ms = cpuMs() - start;
      // The first round warms the JIT up.
      if (round > 0) best[index] = Math.min(best[index] as number, ms);
    });
  }
  return cases.map(([name], index) => {
    const ms = best[index] as number;
    return { name, events: count, ms, perSecond: count / (ms / 1000), heapDeltaMb: 0 };
  });
}

/** publish -> one subscriber, beside a bare Subject with one subscriber, same events. */
async function publishVsSubject(): Promise<void> {
  const events = eventsOver(16);
  const mask = events.length - 1;
  let received = 0;
  // The clock alone (Date.now) is slow on some VMs: the same bus with a counter as its clock
  // shows what the bus itself costs.
  let tick = 0;
  const counterClock: SchedulerLike = {
    now: () => tick++,
    schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'],
  };
  let clockSum = 0;
  const busCase = (name: string, config: EventBusConfig, filter?: EventFilter) =>
    [
      name,
      () => {
        const bus = new EventBus(config);
        bus.select(filter).subscribe(() => received++);
        for (let i = 0; i < PUBLISHES; i++) bus.publish(events[i & mask] as AgentEvent);
      },
    ] as [string, () => void];
  const subjectCase: [string, () => void] = [
    'bare Subject.next -> 1 subscriber',
    () => {
      const subject = new Subject<AgentEvent>();
      subject.subscribe(() => received++);
      for (let i = 0; i < PUBLISHES; i++) subject.next(events[i & mask] as AgentEvent);
    },
  ];
  // The headline pair first, alone: the variants below share the bus's code with other
  // configurations (frozen frames, another scheduler, no history), which makes the JIT's code
  // for them generic, as it would be in an application that ran all of them.
  const rows = interleaved(PUBLISHES, [
    subjectCase,
    busCase('EventBus.publish -> 1 select() subscriber (defaults)', {}),
  ]);
  printTable(rows);
  ratioNote(rows, 'EventBus (defaults) cost / bare Subject cost (target: <= 3x)');
  const variants = interleaved(PUBLISHES, [
    subjectCase,
    busCase('EventBus.publish -> 1 select() subscriber (freeze: true)', { freeze: true }),
    busCase('EventBus.publish -> 1 select() subscriber (counter clock)', {
      scheduler: counterClock,
    }),
    busCase('EventBus.publish -> 1 select() subscriber (history 0)', { history: 0 }),
    busCase('EventBus.publish -> 1 select() subscriber (metrics: { latency: true })', {
      metrics: { latency: true },
    }),
    busCase('EventBus.publish -> 1 subscriber of 1 run in 16', {}, { runId: 'run-3' }),
    [
      'Date.now() alone (the default clock)',
      () => {
        for (let i = 0; i < PUBLISHES; i++) clockSum += Date.now();
      },
    ],
  ]);
  if (clockSum === 0 || received === 0) console.log('');
  printTable(variants);
  ratioNote(variants, 'EventBus (freeze: true) cost / bare Subject cost');
  ratioNote(
    [variants[0] as Measurement, variants[2] as Measurement],
    'EventBus with a counter clock / bare Subject',
  );
}

/** Per-event publish cost with N subscribers each filtered to its own run. */
async function filteredFanout(): Promise<void> {
  let received = 0;
  const cases = [10, 10_000].map((subscribers): [string, () => void] => {
    const events = eventsOver(subscribers, 16_384);
    const bus = new EventBus({ history: 1024 });
    for (let s = 0; s < subscribers; s++) {
      bus.select({ runId: `run-${s}` }).subscribe(() => received++);
    }
    return [
      `${subscribers.toLocaleString('en-US')} subscribers, one run each`,
      () => {
        for (let i = 0; i < FANOUT_EVENTS; i++) bus.publish(events[i & 16_383] as AgentEvent);
      },
    ];
  });
  const rows = interleaved(FANOUT_EVENTS, cases, 7);
  if (received === 0) console.log('');
  printTable(rows);
  ratioNote(rows, 'per-event cost, 10,000 subscribers / 10 subscribers (target: <= 2x)');
}

/** A flood through a bus with a stalled lossy subscriber: heap stays bounded. */
async function stalledFlood(): Promise<void> {
  const events = eventsOver(4);
  const mask = events.length - 1;
  const bus = new EventBus({ history: 10_000 });
  let delivered = 0;
  // A UI that never asks: demand never comes, so its queue fills and drops progress.
  bus
    .select({}, { queue: { capacity: 1_000, overflow: 'drop-progress', demand: NEVER } })
    .subscribe(() => delivered++);
  const warm = 100_000;
  for (let i = 0; i < warm; i++) bus.publish(events[i & mask] as AgentEvent);
  const before = heapUsed();
  const start = performance.now();
  for (let i = 0; i < FLOOD; i++) bus.publish(events[i & mask] as AgentEvent);
  const ms = performance.now() - start;
  const growth = (heapUsed() - before) / 1_048_576;
  const stats = bus.metrics().subscribers[0];
  printTable([
    {
      name: `flood of ${FLOOD.toLocaleString('en-US')}, stalled drop-progress subscriber, history 10,000`,
      events: FLOOD,
      ms,
      perSecond: FLOOD / (ms / 1000),
      heapDeltaMb: growth,
      extra: {
        'queue depth': stats?.depth ?? -1,
        dropped: stats?.dropped ?? -1,
        delivered,
        'history size': bus.metrics().historySize,
      },
    },
  ]);
  console.log(`\nheap growth over the flood: ${growth.toFixed(1)} MB (target: < 32 MB)\n`);
  bus.close();
}

/** select from a cursor 1,000,000 frames back, served by a MemoryArchive. */
async function deepCursor(): Promise<void> {
  const events = eventsOver(2);
  const mask = events.length - 1;
  const archive = new MemoryArchive();
  const bus = new EventBus({ history: 10_000, archive });
  for (let i = 0; i < ARCHIVED + 10; i++) bus.publish(events[i & mask] as AgentEvent);
  const cursor = bus.lastSeq - ARCHIVED;
  const rows: Measurement[] = [];
  for (const [name, filter] of [
    ['select({}, { after }) 1,000,000 back', {}],
    ['select({ runId }, { after }) 1,000,000 back (half match)', { runId: 'run-1' }],
  ] as const) {
    rows.push(
      await measure(name, ARCHIVED, () => {
        let replayed = 0;
        const subscription = bus.select(filter, { after: cursor }).subscribe(() => replayed++);
        subscription.unsubscribe();
        return { replayed };
      }),
    );
  }
  printTable(rows);
  bus.close();
}

export const suite: BenchSuite = {
  name: 'eventBus',
  title:
    'EventBus: publish vs a bare Subject, filtered fan-out index, a flood with a stalled subscriber, deep cursors',
  async run() {
    await publishVsSubject();
    await filteredFanout();
    await stalledFlood();
    await deepCursor();
  },
};
