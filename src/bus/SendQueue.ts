import type { AgentEvent, EventFrame } from './types.js';

/** A `send` (one event) or a `sendAll` (a batch) waiting for room. */
interface PendingSend<P> {
  readonly events: readonly AgentEvent<P>[];
  readonly resolve: (frames: EventFrame<P>[]) => void;
  readonly reject: (error: unknown) => void;
}

/** The sends of one run (or of events without a run), oldest first. */
class RunLine<P> {
  readonly sends: Array<PendingSend<P> | undefined> = [];
  head = 0;

  get isEmpty(): boolean {
    return this.head === this.sends.length;
  }
}

/** How the queue tries a send: publishes its events and returns their frames, or `undefined` (no room). */
export type TrySend<P> = (events: readonly AgentEvent<P>[]) => EventFrame<P>[] | undefined;

/**
 * The sends waiting for room, in one line per run: a send waits behind the earlier sends of its
 * own run only, so a run held back by a full subscriber never holds back another run.
 */
export class SendQueue<P> {
  private readonly lines = new Map<string | undefined, RunLine<P>>();
  private waiting = 0;
  private pumping = false;

  /** Sends waiting now. */
  get size(): number {
    return this.waiting;
  }

  /**
   * Whether a send of this run is already waiting (a new one must queue behind it). A batch
   * belongs to the run of its first event.
   */
  hasWaiting(runId: string | undefined): boolean {
    const line = this.lines.get(runId);
    return line !== undefined && !line.isEmpty;
  }

  /** Queues a send (its events go out together) behind the earlier sends of its run. */
  enqueue(events: readonly AgentEvent<P>[]): Promise<EventFrame<P>[]> {
    return new Promise<EventFrame<P>[]>((resolve, reject) => {
      const runId = events[0]?.runId;
      let line = this.lines.get(runId);
      if (line === undefined) {
        line = new RunLine<P>();
        this.lines.set(runId, line);
      }
      line.sends.push({ events, resolve, reject });
      this.waiting++;
    });
  }

  /**
   * Publishes waiting sends while they fit: in each run, oldest first, until one does not fit.
   * Re-entrant calls (a publish from inside a delivery frees room) are absorbed by the running one.
   */
  pump(trySend: TrySend<P>): void {
    if (this.pumping || this.waiting === 0) return;
    this.pumping = true;
    try {
      let progressed = true;
      // Another round while a round published something: room freed in one run may let an
      // earlier-refused send of another run fit.
      while (progressed) {
        progressed = false;
        for (const [runId, line] of this.lines) {
          if (this.pumpLine(line, trySend)) progressed = true;
          if (line.isEmpty) this.lines.delete(runId);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Rejects every waiting send with `error` (the bus closed). */
  rejectAll(error: unknown): void {
    const lines = [...this.lines.values()];
    this.lines.clear();
    this.waiting = 0;
    for (const line of lines) {
      for (let i = line.head; i < line.sends.length; i++) line.sends[i]?.reject(error);
    }
  }

  /** Publishes the sends of one run while they fit; whether any was published. */
  private pumpLine(line: RunLine<P>, trySend: TrySend<P>): boolean {
    let published = false;
    while (!line.isEmpty) {
      const pending = line.sends[line.head] as PendingSend<P>;
      let frames: EventFrame<P>[] | undefined;
      try {
        frames = trySend(pending.events);
      } catch (error) {
        // The bus closed meanwhile: this send fails alone.
        this.take(line);
        pending.reject(error);
        continue;
      }
      if (frames === undefined) break;
      this.take(line);
      published = true;
      pending.resolve(frames);
    }
    return published;
  }

  private take(line: RunLine<P>): void {
    line.sends[line.head++] = undefined;
    this.waiting--;
    if (line.isEmpty) {
      line.sends.length = 0;
      line.head = 0;
    }
  }
}
