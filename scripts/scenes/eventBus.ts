import { interval, lastValueFrom, map, type Observable, Subject, takeUntil, toArray } from 'rxjs';
import {
  agentEventKey,
  classifyAgentEvent,
  mergeAgentProgress,
} from '../../src/bus/agentEvents.js';
import { EventBus } from '../../src/bus/EventBus.js';
import { InvalidEventError } from '../../src/bus/errors.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';
import { rejectHiddenReasoning } from '../../src/bus/validators.js';
import { coalesce } from '../../src/core/types.js';
import { summarizeProgress } from '../../src/operators/summarizeProgress.js';
import type { DemoScene } from './types.js';

const RUNS = ['run-1', 'run-2', 'run-3'];
const LANES = ['planner', 'coder'];
/** Model deltas per lane; every 40th step is a tool call and its result instead. */
const STEPS = 400;
const DELTA = 'token ';

type Frame = EventFrame<{ text?: string; tool?: string }>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Collects a stream's frames until it completes. */
function collect(source: Observable<Frame>): Promise<Frame[]> {
  return lastValueFrom(source.pipe(toArray()));
}

async function run(): Promise<void> {
  const bus = new EventBus<{ text?: string; tool?: string }>({
    history: 2_000,
    archive: new MemoryArchive(),
    validate: rejectHiddenReasoning,
  });
  const stop = new Subject<void>();

  // 1. A fast subscriber (a log): every frame, internal ones too, synchronously.
  const fast = collect(bus.select({ visibility: 'internal' }));

  // 2. A slow UI at 60 frames a second taking 4 frames per frame: its queue coalesces deltas of
  //    one run, lane and kind, and a summarizer merges what still arrives within 16 ms.
  const uiTicks = interval(16).pipe(
    map(() => 4),
    takeUntil(stop),
  );
  const ui = collect(
    bus
      .select(
        {},
        {
          queue: {
            capacity: 128,
            overflow: coalesce(mergeAgentProgress as (a: Frame, b: Frame) => Frame, agentEventKey),
            demand: uiTicks,
          },
        },
      )
      .pipe(
        summarizeProgress({
          classify: classifyAgentEvent,
          key: agentEventKey,
          merge: mergeAgentProgress as (a: Frame, b: Frame) => Frame,
          window: 16,
        }),
      ),
  );

  // 3. A database writer: tool events only, lossless, one write at a time to a slow sink. Its
  //    'backpressure' queue makes the producer's send() wait whenever it is 4 writes behind.
  const sinkReady = new Subject<number>();
  let written = 0;
  const writer = bus
    .select(
      { kinds: ['tool.call', 'tool.result', 'run.finished'] },
      { queue: { capacity: 4, overflow: 'backpressure', demand: sinkReady } },
    )
    .subscribe(async () => {
      await sleep(3); // the write
      written++;
      sinkReady.next(1);
    });
  sinkReady.next(1);

  // The producer: 3 runs x 2 lanes streaming deltas, tool calls through send().
  let waitedSends = 0;
  let refused = 0;
  let late: Promise<Frame[]> | undefined;
  const produce = async (runId: string, laneId: string) => {
    for (let step = 1; step <= STEPS; step++) {
      if (step % 40 === 0) {
        const before = bus.metrics().pendingSends;
        const sent = bus.send({ kind: 'tool.call', runId, laneId, payload: { tool: 'search' } });
        if (bus.metrics().pendingSends > before) waitedSends++;
        await sent;
        await bus.send({ kind: 'tool.result', runId, laneId, payload: { tool: 'search' } });
      } else {
        bus.publish({ kind: 'model.delta', runId, laneId, payload: { text: DELTA } });
      }
      if (step % 25 === 0) await sleep(1);
      // 4. A late subscriber joins run-2 half-way, resuming from cursor 0: history (2,000) no
      //    longer holds the start, the archive does; then it goes live with no gap.
      if (runId === 'run-2' && laneId === 'coder' && step === STEPS / 2) {
        late = collect(bus.select({ runId: 'run-2' }, { after: 0 }));
      }
    }
  };
  const lanes = RUNS.flatMap((runId) => LANES.map((laneId) => produce(runId, laneId)));
  try {
    bus.publish({ kind: 'model.delta', runId: 'run-1', payload: { reasoning: 'hidden' } } as never);
  } catch (error) {
    if (error instanceof InvalidEventError) refused++;
  }
  await Promise.all(lanes);
  for (const runId of RUNS) await bus.send({ kind: 'run.finished', runId });
  const metrics = bus.metrics();
  bus.close();
  const [fastFrames, uiFrames, lateFrames] = await Promise.all([
    fast,
    ui,
    late as Promise<Frame[]>,
  ]);
  stop.next();
  writer.unsubscribe();

  const names = ['fast log', 'UI (coalesce + summarize)', 'db writer (backpressure)', 'late run-2'];
  // metrics() is read at close, while the UI's and the writer's queues still hold frames; the
  // last column counts what each had received once they drained.
  const received = [fastFrames.length, uiFrames.length, written, lateFrames.length];
  console.log('bus.metrics() at close (queues still draining), and what each received in the end:');
  console.table(
    metrics.subscribers.map((s) => ({
      subscriber: names[s.id - 1],
      policy: s.policy,
      'delivered at close': s.delivered,
      'received in the end': received[s.id - 1],
      dropped: s.dropped,
      merged: s.merged,
      highWater: s.highWater,
      depth: s.depth,
      lag: s.lag,
    })),
  );
  const text = (frames: Frame[], runId: string) =>
    frames
      .filter((f) => f.runId === runId && f.kind === 'model.delta')
      .reduce((sum, f) => sum + (f.payload?.text?.length ?? 0), 0);
  const produced = (STEPS - STEPS / 40) * LANES.length * DELTA.length;
  const uiNotices = uiFrames.filter((f) => f.overflow !== undefined);
  const run2 = fastFrames.filter((f) => f.runId === 'run-2').map((f) => f.seq);
  const lateSeqs = lateFrames.map((f) => f.seq);
  console.log(
    [
      `published ${metrics.published} frames (${Object.entries(metrics.byKind)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ')}); refused ${refused} event carrying hidden reasoning`,
      `fast log: ${fastFrames.length} frames`,
      `UI: ${uiFrames.length} frames for ${fastFrames.length}; ${uiNotices.length} carried a notice;` +
        ` text per run ${RUNS.map((r) => `${text(uiFrames, r)}/${produced}`).join(', ')} chars:` +
        ' merged deltas keep all their text; the rest went with frames the queue dropped' +
        ' (when a tool event found it full), each gap announced by a notice',
      `db writer: ${written} writes, lossless; ${waitedSends} send() calls had to wait for it`,
      `late run-2 subscriber: ${lateSeqs.length} frames from cursor 0, identical to the log's run-2 frames: ${
        JSON.stringify(lateSeqs) === JSON.stringify(run2)
      }`,
    ].join('\n'),
  );
}

export const scene: DemoScene = {
  name: 'eventBus',
  title:
    'EventBus: 3 runs x 2 lanes; a fast log, a slow coalescing UI, a backpressure db writer, a late subscriber from a cursor',
  run,
};
