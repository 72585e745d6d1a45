import type { SchedulerLike } from 'rxjs';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import type { ProjectionSnapshot, SnapshotStore } from './types.js';

/** Whether `value` is a promise (or anything with `then`). */
export function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** What a snapshot says of the projection besides its state and seq. */
export interface SnapshotHeader {
  name: string;
  version: number;
  filterHash: string;
}

/** Where a projection stands now: what a snapshot of now holds. */
export interface ProjectionPosition<S> {
  state: S;
  seq: number;
  epoch: string;
}

/**
 * When a projection saves: after `every` frames folded since the last snapshot, `everyMs` after
 * the first of them, and whenever the projection asks (caught up, ended, unsubscribed). Each
 * save hands the store the state and seq of that moment; the store lands them in call order.
 */
export class SnapshotWriter<S> {
  /** Frames folded since the last snapshot. */
  private unsaved = 0;
  /** The seq of the last snapshot saved or resumed from. */
  private savedSeq = 0;
  /** The latest save that answered with a promise. */
  private lastSave: PromiseLike<void> | undefined;
  private readonly timer: ScheduledTask | undefined;

  constructor(
    private readonly store: SnapshotStore,
    private readonly header: SnapshotHeader,
    private readonly every: number,
    everyMs: number | undefined,
    scheduler: SchedulerLike,
    private readonly position: () => ProjectionPosition<S>,
    private readonly onError: (error: unknown) => void,
  ) {
    if (everyMs !== undefined) {
      const timer = new ScheduledTask(scheduler, () => {
        if (this.unsaved > 0) this.save();
      });
      this.timer = timer;
      this.schedule = () => {
        if (!timer.isPending) timer.schedule(everyMs);
      };
    }
  }

  /** The store holds the projection at `seq` (resumed from, or a rebuild from 0 began). */
  savedAt(seq: number): void {
    this.unsaved = 0;
    this.savedSeq = seq;
    this.timer?.cancel();
  }

  /** One more frame folded: saves when `every` are unsaved, else starts the `everyMs` timer. */
  folded(): void {
    if (++this.unsaved >= this.every) this.save();
    else this.schedule();
  }

  /** Saves when something was folded, or the seq moved, since the last snapshot. */
  saveIfBehind(): void {
    if (this.isBehind()) this.save();
  }

  /** Settles when the latest save does (`undefined`: every save answered at once). */
  get settled(): PromiseLike<void> | undefined {
    return this.lastSave;
  }

  /** Stops the `everyMs` timer. */
  cancel(): void {
    this.timer?.cancel();
  }

  /** As `saveIfBehind`, with nobody left to hear of a failure (the subscriber left). */
  saveQuietly(): void {
    this.cancel();
    if (!this.isBehind()) return;
    try {
      const result = this.store.save(this.snapshotNow());
      if (isThenable(result)) result.then(undefined, () => undefined);
    } catch {
      // The next run resumes from the snapshot before this one.
    }
  }

  private schedule: () => void = () => undefined;

  private isBehind(): boolean {
    return this.unsaved > 0 || this.position().seq > this.savedSeq;
  }

  /** Saves now; a throw or a rejection goes to `onError`. */
  private save(): void {
    let result: void | PromiseLike<void>;
    try {
      result = this.store.save(this.snapshotNow());
    } catch (error) {
      this.onError(error);
      return;
    }
    if (!isThenable(result)) return;
    const settled = Promise.resolve(result);
    this.lastSave = settled;
    settled.then(undefined, (error) => this.onError(error));
  }

  /** The snapshot of now; from here on, nothing is unsaved. */
  private snapshotNow(): ProjectionSnapshot<S> {
    const { state, seq, epoch } = this.position();
    this.savedAt(seq);
    return { ...this.header, epoch, seq, state };
  }
}
