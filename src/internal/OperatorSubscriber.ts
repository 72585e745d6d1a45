import { from, type ObservableInput, type Observer, type Subscriber, Subscription } from 'rxjs';

/**
 * The observer every operator of the library subscribes to its source, its lanes and its
 * notifiers with: the one place where user code's throws become error notifications.
 *
 * - A throw of `onNext`, `onError` or `onComplete` (a classifier, a merge, a demand check, any
 *   user callback they run) goes to `onThrow`, which errors the stream: nothing a callback
 *   throws ever reaches the producer.
 * - It is a `Subscription` as well as an `Observer`, so RxJS hands it to the source as the
 *   subscriber itself instead of wrapping it. {@link subscribeWithin} adds it to the consumer's
 *   subscriber before subscribing: when the consumer unsubscribes in the middle of a synchronous
 *   source (`take(3)` below an endless loop), `closed` turns true at once and the loop stops,
 *   instead of the teardown waiting for `subscribe` to return.
 * - After `error` or `complete` it ignores everything and unsubscribes itself.
 */
export class OperatorSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;

  /**
   * @param onNext Each value.
   * @param onError The source's error.
   * @param onComplete The source's completion.
   * @param onThrow What any of the three throws. Default: `onError`.
   */
  constructor(
    private readonly onNext: (value: T) => void,
    private readonly onError: (error: unknown) => void,
    private readonly onComplete: () => void,
    private readonly onThrow: (error: unknown) => void = onError,
  ) {
    super();
  }

  next(value: T): void {
    if (this.stopped || this.closed) return;
    try {
      this.onNext(value);
    } catch (error) {
      this.onThrow(error);
    }
  }

  error(error: unknown): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.onError(error);
    } catch (thrown) {
      this.onThrow(thrown);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      this.onComplete();
    } catch (thrown) {
      this.onThrow(thrown);
    } finally {
      this.unsubscribe();
    }
  }
}

/**
 * Subscribes `observer` to `input` on behalf of `consumer`: the observer joins the consumer's
 * subscription first (so that unsubscribing the consumer stops even a synchronous source at
 * once), nothing is subscribed when the consumer is already closed, and an input that `from`
 * refuses is reported to the observer's `error` instead of being thrown into the caller.
 */
export function subscribeWithin<T>(
  consumer: Subscriber<unknown>,
  input: ObservableInput<T>,
  observer: OperatorSubscriber<T>,
): void {
  // A closed consumer unsubscribes the observer at once, and RxJS subscribes nothing to it.
  consumer.add(observer);
  try {
    from(input).subscribe(observer);
  } catch (error) {
    observer.error(error);
  }
}
