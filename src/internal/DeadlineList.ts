import type { SchedulerLike } from 'rxjs';
import { ScheduledTask } from './ScheduledTask.js';

/** What {@link DeadlineList} keeps on each entry: its deadline and its two links. */
export interface DeadlineEntry<E> {
  deadline: number;
  /** Whether the entry is in a list now. */
  listed: boolean;
  earlier: E | undefined;
  later: E | undefined;
}

/**
 * Entries that each expire `timeout` ms after they were added, with one timer for all of them: a
 * timeout per running attempt without a scheduler call per attempt.
 *
 * Every entry gets the same timeout and the clock never goes back, so deadlines come in the
 * order entries are added: the list is a FIFO, linked through the entries themselves, whose head
 * expires first. Adding and removing are O(1). The timer is armed for the head's deadline; when it
 * fires, every entry due is expired in order and the timer is armed again for the new head. A
 * removed head leaves the timer armed for its old deadline, which then finds nothing due and
 * re-arms: cheaper than cancelling and scheduling on each removal.
 */
export class DeadlineList<E extends DeadlineEntry<E>> {
  private head: E | undefined = undefined;
  private tail: E | undefined = undefined;
  private readonly task: ScheduledTask;

  /**
   * @param expire - called for each entry whose deadline passed, after it left the list; it may
   *   add and remove entries.
   */
  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly timeout: number,
    private readonly expire: (entry: E) => void,
  ) {
    this.task = new ScheduledTask(scheduler, () => this.fire());
  }

  /** Starts the entry's countdown (it must not be listed). */
  add(entry: E): void {
    entry.deadline = this.scheduler.now() + this.timeout;
    entry.listed = true;
    entry.earlier = this.tail;
    entry.later = undefined;
    if (this.tail === undefined) this.head = entry;
    else this.tail.later = entry;
    this.tail = entry;
    if (!this.task.isPending) this.task.schedule(this.timeout);
  }

  /** Stops the entry's countdown, if it is running. */
  remove(entry: E): void {
    if (!entry.listed) return;
    entry.listed = false;
    const { earlier, later } = entry;
    if (earlier === undefined) this.head = later;
    else earlier.later = later;
    if (later === undefined) this.tail = earlier;
    else later.earlier = earlier;
    entry.earlier = undefined;
    entry.later = undefined;
  }

  /** Forgets every entry and the timer. */
  clear(): void {
    this.task.cancel();
    for (let entry = this.head; entry !== undefined; ) {
      const later: E | undefined = entry.later;
      entry.listed = false;
      entry.earlier = undefined;
      entry.later = undefined;
      entry = later;
    }
    this.head = undefined;
    this.tail = undefined;
  }

  private fire(): void {
    const now = this.scheduler.now();
    for (let head = this.head; head !== undefined && head.deadline <= now; head = this.head) {
      this.remove(head);
      this.expire(head);
    }
    const next = this.head;
    if (next !== undefined && !this.task.isPending) {
      this.task.schedule(Math.max(0, next.deadline - now));
    }
  }
}
