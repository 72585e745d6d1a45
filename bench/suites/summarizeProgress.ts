/**
 * summarizeProgress beside the composition RxJS users write today: `bufferTime` plus a manual
 * reduce by key. Both merge the same 1,000,000 values across 16 keys with the same classify, key
 * and merge functions, on a VirtualTimeScheduler (100 values per virtual ms), so both see real
 * windows close during the run and the timings measure the operators, not timers.
 */
import {
  bufferTime,
  mergeMap,
  type Observable,
  type OperatorFunction,
  Subject,
  VirtualTimeScheduler,
} from 'rxjs';
import {
  type AgentEventLike,
  agentEventKey,
  classifyAgentEvent,
  mergeAgentProgress,
} from '../../src/bus/agentEvents.js';
import type { EventClass } from '../../src/core/types.js';
import { summarizeProgress } from '../../src/operators/summarizeProgress.js';
import { collect, heapUsed, type Measurement, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const EVENTS = 1_000_000;
const KEYS = 16;
const PER_MS = 100;
const MEMORY_SAMPLES = 8;

interface Workload<T> {
  label: string;
  /** Builds the value arriving at `index`, at arrival: a buffer then holds real objects. */
  make: (index: number) => T;
  classify: (value: T) => EventClass;
  key: (value: T) => unknown;
  merge: (acc: T, next: T) => T;
}

function advanceTo(scheduler: VirtualTimeScheduler, time: number): void {
  scheduler.maxFrames = time;
  scheduler.flush();
  scheduler.frame = time;
}

/** 1,000,000 model deltas: 4 runs x 4 lanes, merged by mergeAgentProgress (text concatenation). */
function agentDeltas(): Workload<AgentEventLike> {
  const runs = ['run-a', 'run-b', 'run-c', 'run-d'];
  const lanes = ['main', 'search', 'code', 'review'];
  return {
    label: 'model.delta, mergeAgentProgress',
    make: (index) => {
      const slot = (index * 7) % KEYS;
      return {
        kind: 'model.delta',
        runId: runs[slot >> 2],
        laneId: lanes[slot & 3],
        seq: index + 1,
        payload: { text: String.fromCharCode(97 + (index % 26)) },
      };
    },
    classify: classifyAgentEvent,
    key: agentEventKey,
    merge: mergeAgentProgress,
  };
}

/**
 * The same deltas with a tool call every 10th event: a normal value that passes through (after
 * the pending summary of its key), so the pass-through path is measured too.
 */
function agentDeltasWithToolCalls(): Workload<AgentEventLike> {
  const deltas = agentDeltas();
  return {
    ...deltas,
    label: 'model.delta + 10% tool.call',
    make: (index) => {
      const event = deltas.make(index);
      return index % 10 === 9 ? { ...event, kind: 'tool.call' } : event;
    },
  };
}

interface Tick {
  key: number;
  tokens: number;
}

/** 1,000,000 usage ticks on 16 keys, merged by adding: a summary has a constant size. */
function usageTicks(): Workload<Tick> {
  return {
    label: 'usage counters, numeric add',
    make: (index) => ({ key: index % KEYS, tokens: 1 }),
    classify: () => 'progress',
    key: (tick) => tick.key,
    merge: (acc, next) => ({ key: acc.key, tokens: acc.tokens + next.tokens }),
  };
}

/** The built-in composition: collect a window's values, then fold them by key. */
function bufferTimeReduce<T>(
  workload: Workload<T>,
  window: number,
  scheduler: VirtualTimeScheduler,
): OperatorFunction<T, T> {
  const { classify, key, merge } = workload;
  return (source) =>
    source.pipe(
      bufferTime(window, scheduler),
      mergeMap((batch) => {
        const out: T[] = [];
        const byKey = new Map<unknown, T>();
        for (const value of batch) {
          if (classify(value) !== 'progress') {
            out.push(value);
            continue;
          }
          const k = key(value);
          const acc = byKey.get(k);
          byKey.set(k, acc === undefined ? value : merge(acc, value));
        }
        for (const merged of byKey.values()) out.push(merged);
        return out;
      }),
    );
}

function summarize<T>(
  workload: Workload<T>,
  window: number,
  scheduler: VirtualTimeScheduler,
): OperatorFunction<T, T> {
  const { classify, key, merge } = workload;
  return summarizeProgress<T>({ classify, key, merge, window, scheduler });
}

type Build<T> = (
  workload: Workload<T>,
  window: number,
  scheduler: VirtualTimeScheduler,
) => OperatorFunction<T, T>;

/**
 * Pushes every event through the pipeline in virtual time. With `sample`, stops at a few points
 * just before a window closes (where a buffer is fullest) to measure the live heap after a GC.
 */
function drive<T>(
  workload: Workload<T>,
  window: number,
  build: Build<T>,
  sample?: () => void,
): { outputs: number } {
  const scheduler = new VirtualTimeScheduler();
  const source = new Subject<T>();
  let outputs = 0;
  const output: Observable<T> = source.pipe(build(workload, window, scheduler));
  output.subscribe(() => {
    outputs++;
  });
  const { make } = workload;
  // Sample right after the last value of a window, before its timer fires: a buffer is fullest.
  const windowValues = window * PER_MS;
  const windows = Math.max(1, Math.floor(EVENTS / windowValues));
  const sampleStride = windowValues * Math.max(1, Math.floor(windows / MEMORY_SAMPLES));
  for (let index = 0; index < EVENTS; index++) {
    if (index % PER_MS === 0) advanceTo(scheduler, index / PER_MS);
    source.next(make(index));
    if (sample !== undefined && (index + 1) % sampleStride === 0) sample();
  }
  advanceTo(scheduler, EVENTS / PER_MS + window);
  source.complete();
  return { outputs };
}

/** Live heap held by the pipeline at its fullest, in MB (a separate, untimed run). */
function peakLiveHeapMb<T>(workload: Workload<T>, window: number, build: Build<T>): number {
  collect();
  const before = heapUsed();
  let peak = 0;
  drive(workload, window, build, () => {
    peak = Math.max(peak, heapUsed() - before);
  });
  return peak / 1_048_576;
}

const ATTEMPTS = 3;

/**
 * Times the contenders interleaved (A, B, A, B, ...) and keeps each one's best run, so a burst of
 * load on a shared machine hits both alike; then measures each one's held heap in its own run.
 */
function compare<T>(
  workload: Workload<T>,
  window: number,
  contenders: Array<[string, Build<T>]>,
): Measurement[] {
  const best = contenders.map(() => Number.POSITIVE_INFINITY);
  const outputs = contenders.map(() => 0);
  for (const [, build] of contenders) drive(workload, window, build); // warm-up
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    contenders.forEach(([, build], index) => {
      collect();
      const start = performance.now();
      outputs[index] = drive(workload, window, build).outputs;
      best[index] = Math.min(best[index]!, performance.now() - start);
    });
  }
  return contenders.map(([name, build], index) => ({
    name,
    events: EVENTS,
    ms: best[index]!,
    perSecond: EVENTS / (best[index]! / 1000),
    heapDeltaMb: peakLiveHeapMb(workload, window, build),
    extra: { 'summaries out': outputs[index]!.toLocaleString('en-US') },
  }));
}

export const suite: BenchSuite = {
  name: 'summarizeProgress',
  title: `summarizeProgress vs bufferTime + manual reduce: ${EVENTS.toLocaleString('en-US')} values, ${KEYS} keys, virtual time`,
  async run() {
    console.log(
      `${PER_MS} values per virtual ms, values built as they arrive. ms: best of ${ATTEMPTS} interleaved runs. "heap Δ MB" here is the live heap the pipeline holds at its fullest (after a GC, sampled ${MEMORY_SAMPLES} times just before a window closes), not garbage.\n`,
    );
    const workloads: Array<[Workload<never>, number[]]> = [
      [agentDeltas() as unknown as Workload<never>, [50, 1000]],
      [agentDeltasWithToolCalls() as unknown as Workload<never>, [50]],
      [usageTicks() as unknown as Workload<never>, [50, 1000]],
    ];
    const ratios: string[] = [];
    for (const [workload, windows] of workloads) {
      for (const window of windows) {
        const rows = compare(workload, window, [
          [`summarizeProgress, window ${window} ms`, summarize],
          [`bufferTime(${window}) + reduce by key`, bufferTimeReduce],
        ]);
        console.log(`\n${workload.label}, window ${window} ms:\n`);
        printTable(rows);
        const [ours, theirs] = rows as [Measurement, Measurement];
        ratios.push(
          `${workload.label}, ${window} ms: ${(ours.perSecond / theirs.perSecond).toFixed(2)}x the speed, ${ours.heapDeltaMb.toFixed(1)} MB vs ${theirs.heapDeltaMb.toFixed(1)} MB held`,
        );
      }
    }
    console.log('\nsummarizeProgress vs bufferTime + reduce (target: >= 1x speed, O(keys) held):');
    for (const line of ratios) console.log(`- ${line}`);
  },
};
