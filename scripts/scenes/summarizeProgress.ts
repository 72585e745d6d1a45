/**
 * A simulated model streams 200,000 token deltas on 4 lanes (plus tool calls, usage ticks and a
 * final run.finished); a UI paints at 60 Hz through summarizeProgress, with a notifier that
 * fires on the next 60 Hz frame like animationFrames() does in a browser. Time is virtual (a
 * VirtualTimeScheduler), so the scene is fast and prints the same numbers on every run.
 */
import { Observable, Subject, VirtualTimeScheduler } from 'rxjs';
import {
  type AgentEventLike,
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  mergeAgentProgress,
  progressSummaryOf,
} from '../../src/bus/agentEvents.js';
import { summarizeProgress } from '../../src/operators/summarizeProgress.js';
import { takeThroughTerminal } from '../../src/operators/takeThroughTerminal.js';
import type { DemoScene } from './types.js';

const DELTAS = 200_000;
const LANES = ['main', 'search', 'code', 'review'];
/** Deltas per virtual second, all lanes together: a fast model, far above what a UI paints. */
const DELTAS_PER_SECOND = 20_000;
const FRAME_MS = 1000 / 60;
const RUN = 'run-42';

/** Emits once, at the next 60 Hz frame boundary: animationFrames() on a virtual clock. */
function nextFrame(scheduler: VirtualTimeScheduler): Observable<number> {
  return new Observable<number>((subscriber) => {
    const now = scheduler.now();
    const frame = Math.floor(now / FRAME_MS) + 1;
    return scheduler.schedule(() => subscriber.next(frame), frame * FRAME_MS - now);
  });
}

function advanceTo(scheduler: VirtualTimeScheduler, time: number): void {
  scheduler.maxFrames = time;
  scheduler.flush();
  scheduler.frame = time;
}

/** The simulated stream, in arrival order, with arrival times (ms) from a seeded generator. */
function simulate(): Array<{ at: number; event: AgentEventLike }> {
  const words = ['stream', 'token', 'lane', 'merge', 'frame', 'paint', 'delta', 'agent', 'run'];
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const out: Array<{ at: number; event: AgentEventLike }> = [];
  let seq = 0;
  let at = 0;
  const push = (event: AgentEventLike): void => {
    seq++;
    out.push({ at, event: { ...event, runId: RUN, seq } });
  };
  for (let index = 0; index < DELTAS; index++) {
    // Bursty arrivals: mostly back to back, sometimes a pause of a few ms.
    at += random() < 0.005 ? random() * 6 : (random() * 2) / (DELTAS_PER_SECOND / 1000);
    const laneId = LANES[Math.floor(random() * LANES.length)]!;
    const word = words[Math.floor(random() * words.length)]!;
    push({ kind: 'model.delta', laneId, payload: { text: index % 12 === 11 ? '\n' : `${word} ` } });
    if (index % 500 === 499) push({ kind: 'usage', laneId, payload: { input: 0, output: 500 } });
    if (index % 5_000 === 4_999) push({ kind: 'tool.call', laneId, payload: { name: 'search' } });
  }
  at += 1;
  push({ kind: 'run.finished', laneId: 'main' });
  return out;
}

export const scene: DemoScene = {
  name: 'summarizeProgress',
  title: `a model streams ${DELTAS.toLocaleString('en-US')} deltas on ${LANES.length} lanes; the UI paints at 60 Hz through summarizeProgress`,
  async run() {
    const started = performance.now();
    const input = simulate();
    const scheduler = new VirtualTimeScheduler();
    const source = new Subject<AgentEventLike>();
    const textIn = new Map<string, string>();
    const textOut = new Map<string, string>();
    // Values that arrived but are not painted yet, per key, to find the peak held back.
    const waiting = new Map<string, number>();
    let waitingValues = 0;
    let peakValues = 0;
    let peakKeys = 0;
    let outputs = 0;
    let summaries = 0;
    let biggest = 0;
    const paintedFrames = new Set<number>();
    let ending = 'still open';

    source
      .pipe(
        summarizeProgress({
          classify: classifyAgentEvent,
          key: agentEventKey,
          scope: agentEventScope,
          merge: mergeAgentProgress,
          window: nextFrame(scheduler),
        }),
        takeThroughTerminal(classifyAgentEvent),
      )
      .subscribe({
        next: (event) => {
          outputs++;
          paintedFrames.add(Math.floor(scheduler.now() / FRAME_MS + 1e-9));
          const { count } = progressSummaryOf(event);
          if (event.summary !== undefined) summaries++;
          biggest = Math.max(biggest, count);
          if (classifyAgentEvent(event) === 'progress') {
            const key = agentEventKey(event);
            waiting.set(key, (waiting.get(key) ?? 0) - count);
            if (waiting.get(key) === 0) waiting.delete(key);
            waitingValues -= count;
          }
          if (event.kind === 'model.delta') {
            const lane = event.laneId ?? 'main';
            textOut.set(lane, (textOut.get(lane) ?? '') + (event.payload as { text: string }).text);
          }
        },
        complete: () => {
          ending = 'complete';
        },
      });

    for (const { at, event } of input) {
      advanceTo(scheduler, at);
      if (event.kind === 'model.delta') {
        const lane = event.laneId ?? 'main';
        textIn.set(lane, (textIn.get(lane) ?? '') + (event.payload as { text: string }).text);
      }
      if (classifyAgentEvent(event) === 'progress') {
        const key = agentEventKey(event);
        waiting.set(key, (waiting.get(key) ?? 0) + 1);
        waitingValues++;
        peakValues = Math.max(peakValues, waitingValues);
        peakKeys = Math.max(peakKeys, waiting.size);
      }
      source.next(event);
    }
    source.complete();

    const virtualMs = input[input.length - 1]!.at;
    const identical = LANES.every((lane) => textIn.get(lane) === textOut.get(lane));
    const chars = [...textIn.values()].reduce((sum, text) => sum + text.length, 0);
    console.table({
      'input events': input.length.toLocaleString('en-US'),
      'output events': outputs.toLocaleString('en-US'),
      'input / output': `${(input.length / outputs).toFixed(1)} : 1`,
      'summaries (merged values)': summaries.toLocaleString('en-US'),
      'largest summary (values)': biggest,
      'frames painted': `${paintedFrames.size} (at most ${Math.ceil(virtualMs / FRAME_MS)} in ${(virtualMs / 1000).toFixed(1)} s at 60 Hz)`,
      'text identical, per lane': identical
        ? `yes (${chars.toLocaleString('en-US')} chars on ${LANES.length} lanes)`
        : 'NO',
      'peak pending (summaries)': peakKeys,
      'peak pending (values they stand for)': peakValues,
      'values still pending at the end': waitingValues,
      'stream ended': ending,
      'wall time': `${(performance.now() - started).toFixed(0)} ms`,
    });
    console.log(
      [
        'Every delta reaches the screen, inside a summary: per lane, the painted text equals the',
        'streamed text. At most one summary per key (run + lane + kind) waits at any time, and each',
        'frame flushes them all, so the UI paints at most once per frame whatever the model does.',
        'run.finished flushes its run first, then takeThroughTerminal completes the stream.',
      ].join('\n'),
    );
    if (!identical || waitingValues !== 0 || ending !== 'complete') {
      throw new Error('summarizeProgress scene: text or counts do not match');
    }
  },
};
