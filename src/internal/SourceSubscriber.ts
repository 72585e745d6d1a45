import { type Observer, Subscription } from 'rxjs';

/**
 * The observer an operator subscribes to its source (or a notifier) with.
 *
 * It is a `Subscription` as well as an `Observer`, so RxJS hands it to the source as the
 * subscriber itself instead of wrapping it. That is what lets an operator add it to its own
 * subscriber before subscribing: when the consumer unsubscribes in the middle of a synchronous
 * source (`take(3)` below an endless loop), `closed` turns true at once and the loop stops,
 * instead of the teardown waiting for `subscribe` to return.
 */
export class SourceSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;

  constructor(
    private readonly onNext: (value: T) => void,
    private readonly onError: (error: unknown) => void,
    private readonly onComplete: () => void,
  ) {
    super();
  }

  next(value: T): void {
    if (!this.stopped && !this.closed) this.onNext(value);
  }

  error(error: unknown): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.onError(error);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.onComplete();
    } finally {
      this.unsubscribe();
    }
  }
}
