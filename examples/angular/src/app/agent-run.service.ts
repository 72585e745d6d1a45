import { DestroyRef, Injectable, inject, type Signal, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { filter, map, type Observable, type Subscription, scan, share, timer } from 'rxjs';
import {
  type Classifier,
  EventBus,
  type EventFrame,
  paceText,
  takeThroughTerminal,
} from 'rxjs-backpressure';
import { toBoundedSignal } from 'rxjs-backpressure/angular';
import passage from './passage.json';
import { appendChunk } from './text-blocks';

/** What a `model.delta` carries. */
export interface DeltaPayload {
  text: string;
}

type Frame = EventFrame<DeltaPayload>;

/** The whole text the simulated run streams: the passage, `repeat` times. */
export const RUN_TEXT: string = passage.text.repeat(passage.repeat);

const classify: Classifier<Frame> = (frame) =>
  frame.kind === 'model.delta' ? 'progress' : frame.kind.startsWith('run.') ? 'terminal' : 'normal';

/** Counts buses closed by `DestroyRef`, so the page (and its test) can show the teardown. */
export const busesClosed = signal(0);

/**
 * Owns one `EventBus` and one simulated agent run. Provide it in a component (`providers:
 * [AgentRunService]`): its `DestroyRef` is then the component's, so destroying the component stops
 * the agent and closes the bus, and every subscription made through `toSignal` and
 * `toBoundedSignal` ends with it.
 */
@Injectable()
export class AgentRunService {
  readonly runId = 'run-1';
  private readonly bus = new EventBus<DeltaPayload>({ history: 100_000, classify });
  private agent: Subscription | undefined;

  /**
   * The run's frames as an Observable: replayed from the start of the bus (`after: 0`), then
   * live, up to and including the frame that ends the run.
   */
  readonly events$: Observable<Frame> = this.bus
    .select({ runId: this.runId }, { after: 0 })
    .pipe(takeThroughTerminal(classify), share());

  /**
   * The text so far, as blocks of at most 4 KB (see `appendChunk`): the deltas paced per lane
   * (`paceText`: a steady flow, at most 250 ms behind), and the signal written once per frame
   * (`toBoundedSignal`). The view renders one element per block, so each frame touches the last
   * block only.
   */
  readonly blocks: Signal<readonly string[]> = toBoundedSignal(
    this.events$.pipe(
      paceText<Frame>({
        text: (frame) => (frame.kind === 'model.delta' ? frame.payload?.text : undefined),
        withText: (frame, chunk) => ({ ...frame, payload: { text: chunk } }),
        key: (frame) => frame.laneId,
        classify,
      }),
      filter((frame) => frame.kind === 'model.delta'),
    ),
    {
      initialValue: [] as string[],
      reduce: (blocks: string[], frame: Frame) => appendChunk(blocks, frame.payload?.text ?? ''),
      // The same array, grown in place: every write is a change.
      equal: () => false,
    },
  );

  /** 'idle', then 'streaming', then 'finished' once the run's terminal frame arrived. */
  readonly status: Signal<string> = toSignal(
    this.events$.pipe(
      map((frame): string => (classify(frame) === 'terminal' ? 'finished' : 'streaming')),
    ),
    { initialValue: 'idle' },
  );

  /** How many frames the run published, as a signal. */
  readonly frames: Signal<number> = toSignal(this.events$.pipe(scan((count) => count + 1, 0)), {
    initialValue: 0,
  });

  constructor() {
    inject(DestroyRef).onDestroy(() => {
      this.agent?.unsubscribe();
      this.bus.close();
      busesClosed.update((count) => count + 1);
    });
  }

  /** Streams {@link RUN_TEXT} word by word, `wordsPerTick` words per millisecond tick. */
  start(wordsPerTick = 20): void {
    if (this.agent) return;
    const words = RUN_TEXT.split(/(?<= )/);
    let next = 0;
    this.agent = timer(0, 1).subscribe(() => {
      const end = Math.min(words.length, next + wordsPerTick);
      for (; next < end; next++) {
        this.bus.publish({
          kind: 'model.delta',
          runId: this.runId,
          laneId: 'main',
          payload: { text: words[next] as string },
        });
      }
      if (next === words.length) {
        this.bus.publish({ kind: 'run.finished', runId: this.runId, laneId: 'main' });
        this.agent?.unsubscribe();
      }
    });
  }
}
