import {
  animationFrameScheduler,
  animationFrames,
  filter,
  type Observable,
  observeOn,
  type Subscription,
} from 'rxjs';
import {
  type Classifier,
  coalesce,
  EventBus,
  type EventFrame,
  summarizeProgress,
} from 'rxjs-backpressure';
import { type DeltaPayload, SimulatedAgent } from './agent';
import './workers';

type Frame = EventFrame<DeltaPayload>;
type Mode = 'bounded' | 'unbounded';

const LANES = ['research', 'code', 'review', 'write'] as const;
const MODE_LABELS: Record<Mode, string> = {
  bounded: 'bounded: bus queue (coalesce, 4,096) + summarizeProgress on animationFrames()',
  unbounded: 'unbounded: observeOn(animationFrameScheduler), one paint per delta',
};

/** Deltas are progress (merged), a run's end is terminal (never dropped, never merged). */
const classify: Classifier<Frame> = (frame) =>
  frame.kind === 'model.delta' ? 'progress' : frame.kind.startsWith('run.') ? 'terminal' : 'normal';
/** Merge only deltas of the same lane. */
const laneKey = (frame: Frame): unknown => frame.laneId;
/** Concatenates the text and counts how many deltas the result stands for. */
const mergeDeltas = (acc: Frame, next: Frame): Frame => ({
  ...next,
  payload: {
    text: (acc.payload?.text ?? '') + (next.payload?.text ?? ''),
    count: (acc.payload?.count ?? 1) + (next.payload?.count ?? 1),
  },
});

/** The pipeline under test: bounded queue on the bus, one merged delta per lane and frame. */
function boundedPipeline(bus: EventBus<DeltaPayload>, runId: string): Observable<Frame> {
  return bus
    .select(
      { runId },
      {
        queue: { capacity: 4_096, overflow: coalesce(mergeDeltas, laneKey), classify },
      },
    )
    .pipe(
      summarizeProgress<Frame>({
        classify,
        key: laneKey,
        merge: mergeDeltas,
        window: animationFrames(),
      }),
    );
}

/** The comparison: every delta scheduled for the next frame, in an unbounded queue. */
function unboundedPipeline(bus: EventBus<DeltaPayload>, runId: string): Observable<Frame> {
  return bus.events$.pipe(
    filter((frame) => frame.runId === runId),
    observeOn(animationFrameScheduler),
  );
}

interface LaneView {
  root: HTMLElement;
  /** The text node being appended to; a new one (in a new block) every CHUNK characters. */
  text: Text;
  pre: HTMLElement;
  status: HTMLElement;
  deltas: number;
  done: boolean;
}

/** Keeps each appended block short, so a paint re-lays out only the last block. */
const CHUNK = 8_192;

const byId = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const lanesRoot = byId('lanes');
const views = new Map<string, LaneView>();

function newChunk(pre: HTMLElement): Text {
  const block = document.createElement('div');
  const text = document.createTextNode('');
  block.append(text);
  pre.append(block);
  return text;
}

function resetLanes(): void {
  lanesRoot.textContent = '';
  views.clear();
  for (const lane of LANES) {
    const root = document.createElement('article');
    root.className = 'lane';
    root.dataset.lane = lane;
    const heading = document.createElement('h2');
    const status = document.createElement('small');
    status.textContent = 'waiting';
    heading.append(lane, status);
    const pre = document.createElement('pre');
    root.append(heading, pre);
    lanesRoot.append(root);
    views.set(lane, { root, text: newChunk(pre), pre, status, deltas: 0, done: false });
  }
}

export interface RunOptions {
  mode?: Mode;
  /** Deltas per second over the four lanes. Default 50,000. */
  rate?: number;
  durationMs?: number;
}

export interface RunResult {
  mode: Mode;
  deltasSent: number;
  eventsIn: number;
  valuesPainted: number;
  merged: number;
  dropped: number;
  maxDepth: number;
  animationFrames: number;
  elapsedMs: number;
}

let runCounter = 0;
let current: { agent: SimulatedAgent; stop: () => void } | undefined;
let lastAgent: SimulatedAgent | undefined;

/** Runs the agent once and resolves when every lane has painted its end. */
function run(options: RunOptions = {}): Promise<RunResult> {
  current?.stop();
  const toggled = (byId('unbounded') as HTMLInputElement).checked;
  const mode: Mode = options.mode ?? (toggled ? 'unbounded' : 'bounded');
  const rate = options.rate ?? 50_000;
  const durationMs = options.durationMs ?? 5_000;
  const runId = `run-${++runCounter}`;
  const bus = new EventBus<DeltaPayload>({ history: 1_000, classify });
  const agent = new SimulatedAgent(bus, { runId, lanes: LANES, rate, durationMs });
  lastAgent = agent;
  resetLanes();
  byId('mode').textContent = MODE_LABELS[mode];
  (byId('unbounded') as HTMLInputElement).checked = mode === 'unbounded';

  let valuesPainted = 0;
  let deltaValuesPainted = 0;
  let deltasPainted = 0;
  let framesPainted = 0;
  let maxDepth = 0;
  let depth = 0;
  let dropped = 0;
  const started = performance.now();

  const paint = (frame: Frame): void => {
    const view = views.get(frame.laneId ?? '');
    if (!view) return;
    valuesPainted += 1;
    if (frame.overflow) dropped += frame.overflow.dropped;
    if (frame.kind === 'model.delta') {
      const count = frame.payload?.count ?? 1;
      deltaValuesPainted += 1;
      deltasPainted += count;
      view.deltas += count;
      if (view.text.length >= CHUNK) view.text = newChunk(view.pre);
      view.text.appendData(frame.payload?.text ?? '');
      // Keep the newest text in view: reading scrollHeight costs a layout per paint, as a real
      // renderer's measuring would.
      view.pre.scrollTop = view.pre.scrollHeight;
    } else if (frame.kind === 'run.finished') {
      view.done = true;
      view.root.classList.add('done');
    }
  };

  const pipeline = mode === 'bounded' ? boundedPipeline(bus, runId) : unboundedPipeline(bus, runId);

  return new Promise<RunResult>((resolve, reject) => {
    let rafHandle = 0;
    let subscription: Subscription | undefined;
    const finish = (): void => {
      cancelAnimationFrame(rafHandle);
      subscription?.unsubscribe();
      bus.close();
      current = undefined;
      byId('c-status').textContent = 'done';
      resolve({
        mode,
        deltasSent: agent.deltasSent,
        eventsIn: bus.metrics().published,
        valuesPainted,
        merged: deltasPainted - deltaValuesPainted,
        dropped,
        maxDepth,
        animationFrames: framesPainted,
        elapsedMs: Math.round(performance.now() - started),
      });
    };
    const onFrame = (): void => {
      framesPainted += 1;
      const metrics = bus.metrics();
      const subscriber = metrics.subscribers[0];
      if (mode === 'bounded') {
        // The bus queue fills and drains within a producer task: its high-water mark tells more
        // than a sample taken once per frame.
        depth = subscriber?.depth ?? 0;
        maxDepth = Math.max(maxDepth, subscriber?.highWater ?? 0);
        dropped = Math.max(dropped, subscriber?.dropped ?? 0);
      } else {
        depth = metrics.published - valuesPainted;
      }
      maxDepth = Math.max(maxDepth, depth);
      // The agent streams for durationMs; painting may go on after it.
      const seconds = Math.min(performance.now() - started, durationMs) / 1000;
      byId('c-events').textContent = metrics.published.toLocaleString('en-US');
      byId('c-rate').textContent = Math.round(
        agent.deltasSent / Math.max(seconds, 0.001),
      ).toLocaleString('en-US');
      byId('c-frames').textContent = framesPainted.toLocaleString('en-US');
      byId('c-dropped').textContent = dropped.toLocaleString('en-US');
      byId('c-merged').textContent = (deltasPainted - deltaValuesPainted).toLocaleString('en-US');
      byId('c-depth').textContent = depth.toLocaleString('en-US');
      byId('c-maxdepth').textContent = maxDepth.toLocaleString('en-US');
      for (const view of views.values()) {
        view.status.textContent = `${view.deltas.toLocaleString('en-US')} deltas${view.done ? ' · finished' : ''}`;
      }
      if ([...views.values()].every((view) => view.done)) finish();
      else rafHandle = requestAnimationFrame(onFrame);
    };
    byId('c-status').textContent = 'streaming';
    subscription = pipeline.subscribe({ next: paint, error: reject });
    rafHandle = requestAnimationFrame(onFrame);
    current = { agent, stop: () => agent.stop() };
    void agent.start();
  });
}

byId('start').addEventListener('click', () => void run());
byId('stop').addEventListener('click', () => current?.stop());
byId('unbounded').addEventListener('change', (event) => {
  byId('mode').textContent =
    MODE_LABELS[(event.target as HTMLInputElement).checked ? 'unbounded' : 'bounded'];
});
resetLanes();

/** For the Chromium test (and the console): run, and read what was streamed and painted. */
const demo = {
  lanes: LANES,
  run,
  streamedText: (lane: string): string => lastAgent?.streamedText(lane) ?? '',
  renderedText: (lane: string): string => views.get(lane)?.pre.textContent ?? '',
};
(window as unknown as { demo: typeof demo }).demo = demo;
