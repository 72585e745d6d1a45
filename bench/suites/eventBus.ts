import { asyncScheduler, NEVER, type SchedulerLike, Subject } from 'rxjs';
import { EventBus } from '../../src/bus/EventBus.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { AgentEvent } from '../../src/bus/types.js';
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

function ratioNote(rows: Measurement[], label: string): void {
  const [base, other] = rows;
  if (base === undefined || other === undefined) return;
  console.log(`\n${label}: ${(base.perSecond / other.perSecond).toFixed(2)}x\n`);
}

/** publish -> one subscriber, beside a bare Subject with one subscriber, same events. */
async function publishVsSubject(): Promise<void> {
  const events = eventsOver(16);
  const mask = events.length - 1;
  let received = 0;
  const subject = new Subject<AgentEvent>();
  subject.subscribe(() => received++);
  const bare = await measure('bare Subject.next -> 1 subscriber', PUBLISHES, () => {
    for (let i = 0; i < PUBLISHES; i++) subject.next(events[i & mask] as AgentEvent);
  });
  const busRows: Measurement[] = [bare];
  for (const history of [10_000, 0]) {
    busRows.push(
      await measure(
        `EventBus.publish -> 1 select() subscriber (history ${history})`,
        PUBLISHES,
        () => {
          const bus = new EventBus({ history });
          bus.select().subscribe(() => received++);
          for (let i = 0; i < PUBLISHES; i++) bus.publish(events[i & mask] as AgentEvent);
        },
      ),
    );
  }
  // The clock alone (Date.now) is slow on some VMs: the same bus with a counter as its clock
  // shows what the bus itself costs.
  let tick = 0;
  const counterClock: SchedulerLike = {
    now: () => tick++,
    schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'],
  };
  busRows.push(
    await measure('EventBus.publish -> 1 select() subscriber (counter clock)', PUBLISHES, () => {
      const bus = new EventBus({ scheduler: counterClock });
      bus.select().subscribe(() => received++);
      for (let i = 0; i < PUBLISHES; i++) bus.publish(events[i & mask] as AgentEvent);
    }),
  );
  let clockSum = 0;
  busRows.push(
    await measure('Date.now() alone (the default clock)', PUBLISHES, () => {
      for (let i = 0; i < PUBLISHES; i++) clockSum += Date.now();
    }),
  );
  if (clockSum === 0) console.log('');
  busRows.push(
    await measure('EventBus.publish -> 1 subscriber, runId filter', PUBLISHES, () => {
      const bus = new EventBus();
      bus.select({ runId: 'run-3' }).subscribe(() => received++);
      for (let i = 0; i < PUBLISHES; i++) bus.publish(events[i & mask] as AgentEvent);
    }),
  );
  printTable(busRows);
  ratioNote(busRows, 'bare Subject / EventBus (history 10,000) (target: <= 3x)');
}

/** Per-event publish cost with N subscribers each filtered to its own run. */
async function filteredFanout(): Promise<void> {
  const rows: Measurement[] = [];
  for (const subscribers of [10, 10_000]) {
    const events = eventsOver(subscribers, 16_384);
    let received = 0;
    const bus = new EventBus({ history: 1024 });
    for (let s = 0; s < subscribers; s++) {
      bus.select({ runId: `run-${s}` }).subscribe(() => received++);
    }
    rows.push(
      await measure(
        `${subscribers.toLocaleString('en-US')} subscribers, one run each`,
        FANOUT_EVENTS,
        () => {
          for (let i = 0; i < FANOUT_EVENTS; i++) bus.publish(events[i & 16_383] as AgentEvent);
        },
      ),
    );
    bus.close();
  }
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
