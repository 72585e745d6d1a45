import type { Subscriber } from 'rxjs';
import type { DrainSink } from './DrainEngine.js';

/**
 * The sink of an operator whose items go straight to its subscriber: delivering is `next`, and a
 * gap goes to the operator's `onOverflow` (a throw there errors the stream, by the engine).
 */
export class SubscriberSink<T, N> implements DrainSink<T, N> {
  constructor(
    private readonly subscriber: Subscriber<T>,
    private readonly onGap: ((notice: N) => void) | undefined,
  ) {}

  get closed(): boolean {
    return this.subscriber.closed;
  }

  deliver(item: T): void {
    this.subscriber.next(item);
  }

  reportGap(notice: N): void {
    this.onGap?.(notice);
  }

  complete(): void {
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.subscriber.error(error);
  }
}
