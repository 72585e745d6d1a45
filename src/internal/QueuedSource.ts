import type { Observable, Subscriber } from 'rxjs';
import type { PushOutcome } from '../core/OverflowQueue.js';
import { OperatorSubscriber } from './OperatorSubscriber.js';

/** What {@link QueuedSource} needs of a queue: `OverflowQueue` or `PriorityOverflowQueue`. */
interface PushTarget<T> {
  push(value: T): PushOutcome;
  overflowError(value: T): Error;
}

/**
 * The source side of an operator that queues what its source emits (`boundedQueue`,
 * `drainWith`): each value is pushed into the queue, and how the source ended is kept for the
 * operator to deliver after the values already queued.
 *
 * A push that throws (a classify, priority, key or merge callback) or that overflows under the
 * `'error'` policy stops the source at once; the error then ends the stream after the queued
 * values, like a source error.
 */
export class QueuedSource<T> {
  /** Whether the source ended or was stopped: nothing more will be pushed. */
  done = false;
  /** The error to deliver once the queued values are delivered, when the source ended with one. */
  endError: { error: unknown } | undefined = undefined;

  private readonly sourceSubscriber: OperatorSubscriber<T>;

  /**
   * @param queue Where values go.
   * @param afterPush Runs after each value, whatever became of it (also when its push threw).
   * @param afterEnd Runs when the source errors or completes.
   */
  constructor(queue: PushTarget<T>, afterPush: () => void, afterEnd: () => void) {
    this.sourceSubscriber = new OperatorSubscriber<T>(
      (value) => {
        let outcome: PushOutcome;
        try {
          outcome = queue.push(value);
        } catch (error) {
          this.stop({ error });
          afterPush();
          return;
        }
        if (outcome === 'overflow') this.stop({ error: queue.overflowError(value) });
        afterPush();
      },
      (error) => {
        this.done = true;
        this.endError = { error };
        afterEnd();
      },
      () => {
        this.done = true;
        afterEnd();
      },
    );
  }

  /**
   * Subscribes to `source` for `subscriber`, adding itself to `subscriber` first: an unsubscribe
   * during a synchronous emission then stops the source at once.
   */
  subscribe(source: Observable<T>, subscriber: Subscriber<unknown>): void {
    subscriber.add(this.sourceSubscriber);
    if (!subscriber.closed) source.subscribe(this.sourceSubscriber);
  }

  /** Stops taking values; `end.error` follows the values already queued. */
  private stop(end: { error: unknown }): void {
    this.done = true;
    this.endError = end;
    this.sourceSubscriber.unsubscribe();
  }
}
