import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * At most one pending run of `work` on a scheduler: the drain task of a queue, a window's timer,
 * a `maxSkew` timer.
 *
 * It marks the run as pending before calling the scheduler and clears the mark inside the run,
 * so a scheduler that runs the task at once (`queueScheduler` outside another task) works like
 * any other: nothing stays marked after a run that already happened. It keeps a task's
 * subscription only while the task is still to run, so that {@link ScheduledTask.cancel} always
 * cancels the right one, also when the run scheduled the next.
 *
 * Exported from the root for the other entries: not part of the API.
 *
 * @internal
 */
export class ScheduledTask {
  private pending = false;
  private subscription: Subscription | undefined = undefined;
  private readonly run = (): void => {
    this.pending = false;
    this.subscription = undefined;
    this.work();
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly work: () => void,
  ) {}

  /** Whether a run is scheduled and has not started. */
  get isPending(): boolean {
    return this.pending;
  }

  /** Schedules a run `delay` ms from now, unless one is pending already. */
  schedule(delay = 0): void {
    if (this.pending) return;
    this.pending = true;
    const subscription = this.scheduler.schedule(this.run, delay);
    if (this.pending && this.subscription === undefined) this.subscription = subscription;
  }

  /** Cancels the pending run, if any. */
  cancel(): void {
    this.pending = false;
    const subscription = this.subscription;
    this.subscription = undefined;
    subscription?.unsubscribe();
  }
}
