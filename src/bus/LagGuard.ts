import type { SchedulerLike } from 'rxjs';
import { ScheduledTask } from '../internal/ScheduledTask.js';

/** A subscriber queue's `maxLag`: how far behind it may fall before it is let go. */
export interface MaxLag {
  /** Frames pushed to it since it last took one. Default: no limit. */
  frames?: number;
  /** Age, in ms since publish, of the oldest frame it holds. Default: no limit. */
  ms?: number;
}

/**
 * Watches one caught-up subscriber against its `maxLag`: counts the frames pushed to it since
 * its last delivery, and the age of the oldest frame it holds (checked at each push, and by a
 * timer while frames wait, so a subscriber that stopped taking is let go without a new frame).
 */
export class LagGuard {
  private arrived = 0;
  private readonly timer: ScheduledTask | undefined;
  private readonly frames: number;
  private readonly ms: number;

  /**
   * @param oldestTs - the `ts` of the oldest frame the subscriber holds, if any.
   * @param evict - lets the subscriber go, with its lag.
   */
  constructor(
    limit: MaxLag,
    private readonly scheduler: SchedulerLike,
    private readonly oldestTs: () => number | undefined,
    private readonly evict: (lagFrames: number, lagMs: number) => void,
  ) {
    this.frames = limit.frames ?? Number.POSITIVE_INFINITY;
    this.ms = limit.ms ?? Number.POSITIVE_INFINITY;
    if (this.ms !== Number.POSITIVE_INFINITY) {
      this.timer = new ScheduledTask(scheduler, () => this.check());
    }
  }

  /** A frame was pushed to the subscriber. */
  arrivedOne(): void {
    this.arrived++;
    this.check();
  }

  /** The subscriber took a frame. */
  delivered(): void {
    this.arrived = 0;
  }

  /** The subscriber ended. */
  dispose(): void {
    this.timer?.cancel();
  }

  private check(): void {
    const oldest = this.oldestTs();
    const lagMs = oldest === undefined ? 0 : Math.max(0, this.scheduler.now() - oldest);
    if (this.arrived > this.frames || lagMs > this.ms) {
      this.timer?.cancel();
      this.evict(this.arrived, lagMs);
      return;
    }
    // Checked again when the oldest frame held would be too old.
    if (oldest !== undefined && this.timer !== undefined && !this.timer.isPending) {
      this.timer.schedule(this.ms - lagMs + 1);
    }
  }
}
