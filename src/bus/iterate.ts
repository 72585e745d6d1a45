import { type Observable, Subject } from 'rxjs';
import type { QueueConfig } from '../core/types.js';
import { toAsyncIterable } from '../interop/toAsyncIterable.js';
import type { EventFrame, SubscriberQueue } from './types.js';

/**
 * The queue of `iterate` when none is given: 1,024 frames, dropping the oldest. With a cursor,
 * the subscriber reads the log at the loop's pace until it catches up, so the policy only ever
 * applies to live frames that outrun the loop.
 */
export const DEFAULT_ITERATE_QUEUE = Object.freeze({
  capacity: 1024,
  overflow: 'drop-oldest' as const,
});

/**
 * `for await` over a bus subscription whose queue is driven by the loop: `select` is called with
 * the queue plus a demand that each `next()` grants one frame of, so frames wait in the bus-side
 * queue (where its policy, notices, metrics and `'backpressure'` apply) until the loop asks.
 */
export function iterateFrames<P>(
  select: (queue: SubscriberQueue<P>) => Observable<EventFrame<P>>,
  queue: SubscriberQueue<P>,
  signal: AbortSignal | undefined,
): AsyncIterableIterator<EventFrame<P>> {
  const demand = new Subject<number>();
  const source = select({ ...queue, demand });
  const bridgeConfig: QueueConfig<EventFrame<P>> & { signal?: AbortSignal } = {
    capacity: Math.max(queue.capacity, 1),
    // Never reached: the bridge only ever holds frames a pending next() asked for.
    overflow: 'drop-incoming',
  };
  if (signal !== undefined) bridgeConfig.signal = signal;
  const inner = toAsyncIterable(source, bridgeConfig);
  const iterator: AsyncIterableIterator<EventFrame<P>> = {
    next: () => {
      const result = inner.next();
      demand.next(1);
      return result;
    },
    return: (value?: unknown) =>
      inner.return === undefined
        ? Promise.resolve({ done: true, value: undefined })
        : inner.return(value as undefined),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
