import {
  concatMap,
  map,
  merge,
  type Observable,
  of,
  range,
  timer,
  VirtualTimeScheduler,
} from 'rxjs';
import { type Laned, mergeSortedLanes } from '../../src/core/laneOrder.js';
import type { EventClass } from '../../src/core/types.js';
import { seededRandom } from '../../src/internal/seededRandom.js';
import { mergeLanes } from '../../src/operators/mergeLanes.js';
import type { DemoScene } from './types.js';

interface LaneEvent {
  lane: string;
  kind: 'delta' | 'tool' | 'finished';
  /** When the sub-agent made the event (ms): the merge key. */
  ts: number;
  index: number;
}

const LANES = ['planner', 'coder', 'tester', 'reviewer'];
const EVENTS_PER_LANE = 250;

/** Each lane's events, the same in every run: what the sub-agents produced. */
function laneEvents(): Record<string, LaneEvent[]> {
  const random = seededRandom(7);
  const events: Record<string, LaneEvent[]> = {};
  for (const lane of LANES) {
    let ts = 0;
    events[lane] = Array.from({ length: EVENTS_PER_LANE }, (_, index) => {
      ts += Math.floor(random() * 4); // ties between lanes happen often
      const kind = index === EVENTS_PER_LANE - 1 ? 'finished' : index % 10 === 0 ? 'tool' : 'delta';
      return { lane, kind, ts, index };
    });
  }
  return events;
}

/**
 * The lanes as they reach us: each event is delayed by its time plus network jitter drawn from
 * `seed` (each lane stays in its own order, as a socket would keep it).
 */
function jittered(
  events: Record<string, LaneEvent[]>,
  seed: number,
  scheduler: VirtualTimeScheduler,
): Record<string, Observable<LaneEvent>> {
  const random = seededRandom(seed);
  const lanes: Record<string, Observable<LaneEvent>> = {};
  for (const lane of LANES) {
    let arrival = 0;
    const delays = (events[lane] ?? []).map((event) => {
      const at = Math.max(arrival, event.ts + Math.floor(random() * 40));
      const delay = at - arrival;
      arrival = at;
      return delay;
    });
    lanes[lane] = of(...(events[lane] ?? [])).pipe(
      concatMap((event, index) => timer(delays[index] ?? 0, scheduler).pipe(map(() => event))),
    );
  }
  return lanes;
}

/** Runs a stream to completion in virtual time and returns what it emitted. */
function runVirtually<T>(build: (scheduler: VirtualTimeScheduler) => Observable<T>): T[] {
  const scheduler = new VirtualTimeScheduler();
  const values: T[] = [];
  build(scheduler).subscribe((value) => values.push(value));
  scheduler.flush();
  return values;
}

const label = (event: LaneEvent): string => `${event.lane}#${event.index}`;

const classify = (event: LaneEvent): EventClass =>
  event.kind === 'finished' ? 'terminal' : event.kind === 'delta' ? 'progress' : 'normal';

function determinism(): void {
  const events = laneEvents();
  const mergedByArrival = (seed: number) =>
    runVirtually((scheduler) => merge(...Object.values(jittered(events, seed, scheduler)))).map(
      label,
    );
  const mergedByTime = (seed: number) =>
    runVirtually((scheduler) =>
      mergeLanes(jittered(events, seed, scheduler), {
        order: 'timestamp',
        timestamp: (event) => event.ts,
        maxSkew: 100,
        scheduler,
      }),
    ).map((laned: Laned<LaneEvent>) => label(laned.value));
  const [arrivalA, arrivalB] = [mergedByArrival(1), mergedByArrival(2)];
  const [timeA, timeB] = [mergedByTime(1), mergedByTime(2)];
  const sorted = mergeSortedLanes(events, (event) => event.ts).map((laned) => label(laned.value));
  const differing = (a: string[], b: string[]) => a.filter((value, index) => value !== b[index]);
  console.log(
    `${LANES.length} lanes x ${EVENTS_PER_LANE} events, merged twice with different seeded jitter (0-39 ms):`,
  );
  console.table([
    {
      merge: 'RxJS merge (arrival)',
      events: arrivalA.length,
      'positions that differ between the runs': differing(arrivalA, arrivalB).length,
      'identical orders': arrivalA.join() === arrivalB.join(),
    },
    {
      merge: "mergeLanes 'timestamp', maxSkew 100",
      events: timeA.length,
      'positions that differ between the runs': differing(timeA, timeB).length,
      'identical orders': timeA.join() === timeB.join(),
    },
  ]);
  console.log(
    `mergeLanes order equals mergeSortedLanes of the finished lanes: ${timeA.join() === sorted.join()}`,
  );
  console.log(`first events: ${timeA.slice(0, 8).join(', ')}`);
}

function isolation(): void {
  const lost: Record<string, number> = {};
  const delivered: Record<string, number> = {};
  const produced: Record<string, number> = {};
  const FLOOD = 20_000;
  const QUIET = 50;
  const values = runVirtually((scheduler) => {
    // 'coder' streams a delta every 0.01 ms; the quiet lanes send an event every 2 ms.
    const lane = (name: string, count: number, every: number) =>
      range(0, count).pipe(
        concatMap((index) =>
          timer(index === 0 ? 0 : every, scheduler).pipe(
            map(
              (): LaneEvent => ({
                lane: name,
                kind: index === count - 1 ? 'finished' : name === 'coder' ? 'delta' : 'tool',
                ts: Math.round(index * every * 100) / 100,
                index,
              }),
            ),
          ),
        ),
      );
    const lanes: Record<string, Observable<LaneEvent>> = {
      coder: lane('coder', FLOOD, 0.01),
      planner: lane('planner', QUIET, 2),
      tester: lane('tester', QUIET, 2),
      reviewer: lane('reviewer', QUIET, 2),
    };
    for (const name of LANES) {
      produced[name] = name === 'coder' ? FLOOD : QUIET;
      lost[name] = 0;
      delivered[name] = 0;
    }
    return mergeLanes(lanes, {
      order: 'timestamp',
      timestamp: (event) => event.ts,
      maxSkew: 5,
      scheduler,
      lane: {
        capacity: 32,
        overflow: 'drop-progress',
        classify,
        onOverflow: (notice, name) => {
          lost[name] = (lost[name] ?? 0) + notice.dropped;
        },
      },
    });
  });
  for (const value of values) delivered[value.lane] = (delivered[value.lane] ?? 0) + 1;
  console.log(
    '\nOne flooding lane (coder) beside three quiet ones, each lane with its own queue (capacity 32, drop-progress):',
  );
  console.table(
    LANES.map((name) => ({
      lane: name,
      produced: produced[name],
      delivered: delivered[name],
      lost: lost[name],
      'finished delivered': values.some(
        (value) => value.lane === name && value.value.kind === 'finished',
      ),
    })),
  );
}

export const scene: DemoScene = {
  name: 'mergeLanes',
  title: 'parallel lanes merged deterministically, and a flooding lane that loses only its own',
  async run() {
    determinism();
    isolation();
  },
};
