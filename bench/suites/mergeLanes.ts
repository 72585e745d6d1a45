/**
 * mergeLanes beside RxJS `merge`: 1,000,000 values spread over 8 and 64 lanes (each value is
 * pushed into a randomly chosen lane's Subject; a seeded generator makes every run the same).
 * `merge` only forwards (arrival order, untagged); `mergeLanes` tags, and in 'timestamp' order
 * runs the k-way merge, so its cost per value should grow with log(lanes), not with lanes.
 * 'arrival' order with isolation drains on `queueScheduler`, which delivers each value at once,
 * so it can be timed synchronously like the others.
 */
import { map, merge, type Observable, queueScheduler, Subject } from 'rxjs';
import { mergeSortedLanes } from '../../src/core/laneOrder.js';
import { seededRandom } from '../../src/internal/seededRandom.js';
import { mergeLanes } from '../../src/operators/mergeLanes.js';
import { type Measurement, measure, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const VALUES = 1_000_000;
const LANE_COUNTS = [8, 64];

/** Which lane each value goes to; the value is its own timestamp (its index). */
function laneSchedule(lanes: number): Int32Array {
  const random = seededRandom(lanes);
  const schedule = new Int32Array(VALUES);
  for (let index = 0; index < VALUES; index++) schedule[index] = Math.floor(random() * lanes);
  return schedule;
}

const identity = (value: number): number => value;

/** Pushes every value through `build(subjects)` and checks that all of them came out. */
function drive(
  schedule: Int32Array,
  lanes: number,
  build: (subjects: Subject<number>[], ids: string[]) => Observable<unknown>,
): () => Record<string, string | number> {
  const ids = Array.from({ length: lanes }, (_, index) => `lane-${index}`);
  return () => {
    const subjects = ids.map(() => new Subject<number>());
    let received = 0;
    build(subjects, ids).subscribe(() => received++);
    const cpu = process.cpuUsage();
    for (let index = 0; index < VALUES; index++) subjects[schedule[index]!]!.next(index);
    for (const subject of subjects) subject.complete();
    const used = process.cpuUsage(cpu);
    if (received !== VALUES) throw new Error(`received ${received} of ${VALUES}`);
    return { 'cpu ns/value': Math.round(((used.user + used.system) * 1000) / VALUES) };
  };
}

const lanesObject = (subjects: Subject<number>[], ids: string[]): Record<string, Subject<number>> =>
  Object.fromEntries(ids.map((id, index) => [id, subjects[index]!]));

export const suite: BenchSuite = {
  name: 'mergeLanes',
  title: `${VALUES.toLocaleString('en-US')} values over 8 and 64 lanes: mergeLanes beside RxJS merge`,
  async run() {
    const rows: Measurement[] = [];
    const perValue = new Map<string, number>();
    for (const lanes of LANE_COUNTS) {
      const schedule = laneSchedule(lanes);
      const cases: Array<[string, (s: Subject<number>[], ids: string[]) => Observable<unknown>]> = [
        ['RxJS merge (arrival, untagged)', (subjects) => merge(...subjects)],
        [
          'RxJS merge + map to { lane, laneSeq, value }',
          (subjects, ids) =>
            merge(
              ...subjects.map((subject, index) => {
                let laneSeq = 0;
                return subject.pipe(
                  map((value) => ({ lane: ids[index], laneSeq: ++laneSeq, value })),
                );
              }),
            ),
        ],
        ['mergeLanes arrival', (subjects, ids) => mergeLanes(lanesObject(subjects, ids))],
        [
          'mergeLanes timestamp',
          (subjects, ids) =>
            mergeLanes(lanesObject(subjects, ids), { order: 'timestamp', timestamp: identity }),
        ],
        [
          'mergeLanes timestamp + isolation (capacity 4096)',
          (subjects, ids) =>
            mergeLanes(lanesObject(subjects, ids), {
              order: 'timestamp',
              timestamp: identity,
              lane: { capacity: 4096, overflow: 'drop-oldest' },
            }),
        ],
        // Last: it runs the engine on a scheduler, which the timestamp cases then would share.
        [
          'mergeLanes arrival + isolation (capacity 4096, queueScheduler)',
          (subjects, ids) =>
            mergeLanes(lanesObject(subjects, ids), {
              lane: { capacity: 4096, overflow: 'drop-oldest' },
              scheduler: queueScheduler,
            }),
        ],
      ];
      for (const [name, build] of cases) {
        const row = await measure(`${name}, ${lanes} lanes`, VALUES, drive(schedule, lanes, build));
        // CPU time of the best run: steadier than wall time on a shared machine.
        perValue.set(`${name}|${lanes}`, Number(row.extra?.['cpu ns/value']));
        rows.push(row);
      }
      const finished: Record<string, number[]> = {};
      for (let lane = 0; lane < lanes; lane++) finished[`lane-${lane}`] = [];
      for (let index = 0; index < VALUES; index++) finished[`lane-${schedule[index]}`]!.push(index);
      const sorted = await measure(
        `mergeSortedLanes (finished lanes), ${lanes} lanes`,
        VALUES,
        () => {
          const cpu = process.cpuUsage();
          const merged = mergeSortedLanes(finished, identity);
          const used = process.cpuUsage(cpu);
          if (merged.length !== VALUES) throw new Error('mergeSortedLanes lost values');
          return { 'cpu ns/value': Math.round(((used.user + used.system) * 1000) / VALUES) };
        },
      );
      rows.push(sorted);
    }
    printTable(rows);
    const ratio = (lanes: number) =>
      perValue.get(`mergeLanes timestamp|${lanes}`)! /
      perValue.get(`RxJS merge (arrival, untagged)|${lanes}`)!;
    const growth =
      perValue.get('mergeLanes timestamp|64')! / perValue.get('mergeLanes timestamp|8')!;
    const target = 2;
    console.log(
      `\nBy CPU time per value: timestamp order vs merge ${ratio(8).toFixed(2)}x at 8 lanes ` +
        `(target <= ${target}x: ${ratio(8) <= target ? 'met' : 'MISSED'}), ` +
        `${ratio(64).toFixed(2)}x at 64 lanes; timestamp order 64 vs 8 lanes: ${growth.toFixed(2)}x ` +
        `(log2 64 / log2 8 = 2.00: at most logarithmic growth)`,
    );
  },
};
