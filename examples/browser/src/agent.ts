/**
 * A simulated agent: publishes `model.delta` events round-robin on its lanes at a target rate,
 * then one `run.finished` per lane. Keeps what it streamed per lane, so a test can compare the
 * page's text with it.
 */
import type { EventBus } from 'rxjs-backpressure';
import { seededRandom } from '../../../src/internal/seededRandom.js';

/** The payload of a delta: its text, and how many deltas it stands for once merged. */
export interface DeltaPayload {
  text: string;
  count?: number;
}

export interface AgentRun {
  runId: string;
  lanes: readonly string[];
  /** Deltas per second over all lanes. */
  rate: number;
  durationMs: number;
}

const WORDS = (
  'stream delta token lane agent buffer queue frame paint merge notice bounded policy ' +
  'terminal progress cursor replay subscriber scheduler observable operator pressure'
).split(' ');

/** The longest a producer task runs, in ms, so the page can paint between producer tasks. */
const SLICE_MS = 8;

export class SimulatedAgent {
  private readonly streamed = new Map<string, string[]>();
  private readonly rngs = new Map<string, () => number>();
  private sent = 0;
  private stopped = false;
  private readonly channel = new MessageChannel();

  constructor(
    private readonly bus: EventBus<DeltaPayload>,
    private readonly run: AgentRun,
  ) {
    run.lanes.forEach((lane, index) => {
      this.streamed.set(lane, []);
      this.rngs.set(lane, seededRandom(index + 1));
    });
  }

  /** Everything published on `lane` so far, concatenated. */
  streamedText(lane: string): string {
    return (this.streamed.get(lane) ?? []).join('');
  }

  get deltasSent(): number {
    return this.sent;
  }

  /**
   * Streams until `durationMs` has passed (or `stop()`), then finishes every lane. Works in
   * slices of at most {@link SLICE_MS}, so the page can paint between them; when the machine is
   * too slow for `rate`, fewer deltas go out (see `deltasSent`) rather than frames being starved.
   */
  start(): Promise<void> {
    const started = performance.now();
    const { lanes, rate, durationMs, runId } = this.run;
    return new Promise((resolve) => {
      const tick = (): void => {
        const sliceStart = performance.now();
        const elapsed = sliceStart - started;
        const due = Math.floor((rate * Math.min(elapsed, durationMs)) / 1000);
        while (this.sent < due && performance.now() - sliceStart < SLICE_MS) {
          const batchEnd = Math.min(due, this.sent + 64);
          while (this.sent < batchEnd) {
            const lane = lanes[this.sent % lanes.length] as string;
            const text = this.nextWord(lane);
            (this.streamed.get(lane) as string[]).push(text);
            this.bus.publish({ kind: 'model.delta', runId, laneId: lane, payload: { text } });
            this.sent += 1;
          }
        }
        if (this.stopped || elapsed >= durationMs) {
          for (const lane of lanes) this.bus.publish({ kind: 'run.finished', runId, laneId: lane });
          resolve();
          return;
        }
        this.channel.port2.postMessage(null);
      };
      // A MessageChannel task is not clamped like setTimeout(0), and still lets frames in between.
      this.channel.port1.onmessage = tick;
      this.channel.port2.postMessage(null);
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private nextWord(lane: string): string {
    const next = this.rngs.get(lane) as () => number;
    const word = WORDS[Math.floor(next() * WORDS.length)] as string;
    return next() < 0.06 ? `${word}.\n` : `${word} `;
  }
}
