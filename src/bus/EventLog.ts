import { FrameRing } from './FrameRing.js';
import type { EventArchive, EventFrame } from './types.js';

/**
 * The bus's log: the history ring (the newest frames, in memory) and the archive (older ones),
 * with the head, the seq of the newest frame. Subscribers behind the head read it through a
 * `LogReader`; nothing else holds frames for them.
 */
export class EventLog<P> {
  /** The seq of the newest frame (0 before the first): the cursor of "now". */
  head = 0;
  /** Archive appends that threw or rejected. */
  archiveErrors = 0;
  readonly history: FrameRing<EventFrame<P>>;

  /**
   * @param appendToArchive - `false` when the frames already are in the archive (the Redis bus:
   *   the stream is both).
   */
  constructor(
    historySize: number,
    readonly archive: EventArchive | undefined,
    private readonly appendToArchive: boolean,
  ) {
    this.history = new FrameRing(historySize);
  }

  /** Appends the frame after the head (to history, and to the archive when the log feeds it). */
  append(frame: EventFrame<P>): void {
    this.head = frame.seq;
    this.history.push(frame);
    if (this.appendToArchive && this.archive !== undefined) this.store(frame);
  }

  /**
   * Makes `seq` the head without a frame: the history restarts empty there (it never holds a
   * gap), and older cursors read the archive.
   */
  restartAt(seq: number): void {
    this.head = seq;
    this.history.restart(seq);
  }

  private store(frame: EventFrame<P>): void {
    try {
      const result = (this.archive as EventArchive).append(frame);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, () => {
          this.archiveErrors++;
        });
      }
    } catch {
      this.archiveErrors++;
    }
  }
}
