import type { AgentEvent, EventFrame } from './types.js';

/** A `send` waiting for room. */
interface PendingSend<P> {
  readonly event: AgentEvent<P>;
  readonly resolve: (frame: EventFrame<P>) => void;
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

/** How the queue tries a send: publishes it and returns its frame, or `undefined` (no room). */
export type TrySend<P> = (event: AgentEvent<P>) => EventFrame<P> | undefined;

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

  /** Whether a send of this event's run is already waiting (a new one must queue behind it). */
  hasWaiting(event: AgentEvent<P>): boolean {
    return this.waiting > 0 && this.lines.has(event.runId);
  }

  /** Queues a send behind the earlier sends of its run. */
  enqueue(event: AgentEvent<P>): Promise<EventFrame<P>> {
    return new Promise<EventFrame<P>>((resolve, reject) => {
      let line = this.lines.get(event.runId);
      if (line === undefined) {
        line = new RunLine<P>();
        this.lines.set(event.runId, line);
      }
      line.sends.push({ event, resolve, reject });
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
      while (progressed && this.waiting > 0) {
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
      let frame: EventFrame<P> | undefined;
      try {
        frame = trySend(pending.event);
      } catch (error) {
        // The bus closed, or the event became invalid for `validate`: this send fails alone.
        frame = undefined;
        this.take(line);
        pending.reject(error);
        continue;
      }
      if (frame === undefined) break;
      this.take(line);
      published = true;
      pending.resolve(frame);
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
