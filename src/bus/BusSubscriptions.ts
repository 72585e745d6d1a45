import type { Observable } from 'rxjs';
import { checkAbortSignal } from '../core/checks.js';
import type { Classifier } from '../core/types.js';
import type { FrameHub } from './FrameHub.js';
import { compileFilter } from './filter.js';
import { DEFAULT_ITERATE_QUEUE, iterateFrames } from './iterate.js';
import { checkAfter, checkSelectOptions, planQueue } from './subscriberOptions.js';
import type { EventFilter, EventFrame, SelectOptions, SubscriberQueue } from './types.js';

/**
 * What every bus offers its subscribers (`select`, `replay`, `iterate`): the options checked
 * and named after the method, then handed to the bus's {@link FrameHub}. Shared by every bus
 * (in memory, Redis).
 *
 * @internal
 */
export class BusSubscriptions<P> {
  constructor(
    private readonly hub: FrameHub<P>,
    private readonly classify: Classifier<EventFrame<P>>,
  ) {}

  select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>> {
    const owner = 'EventBus.select';
    const compiled = compileFilter(filter, owner);
    const { after, epoch, queue } = checkSelectOptions(options, owner);
    const plan = queue === undefined ? undefined : planQueue(queue, owner, this.classify);
    return this.hub.select(compiled, { after, epoch }, plan, owner);
  }

  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>> {
    const owner = 'EventBus.replay';
    const compiled = compileFilter(filter, owner);
    return this.hub.replay(compiled, checkAfter(after, owner), owner);
  }

  iterate(filter?: EventFilter, options?: SelectOptions<P>): AsyncIterableIterator<EventFrame<P>> {
    const owner = 'EventBus.iterate';
    const compiled = compileFilter(filter, owner);
    const { after, epoch, queue: given } = checkSelectOptions(options, owner);
    const queue: SubscriberQueue<P> = given ?? { ...DEFAULT_ITERATE_QUEUE };
    if (queue.demand !== undefined || queue.flushOn !== undefined) {
      throw new TypeError(
        `${owner}: queue.demand and queue.flushOn are not allowed: the loop pulls`,
      );
    }
    const signal = options?.signal;
    checkAbortSignal(signal, owner);
    // Checked now, so that a bad option throws here rather than at the first next().
    planQueue(queue, owner, this.classify);
    return iterateFrames(
      (driven) =>
        this.hub.select(compiled, { after, epoch }, planQueue(driven, owner, this.classify), owner),
      queue,
      signal,
    );
  }
}
