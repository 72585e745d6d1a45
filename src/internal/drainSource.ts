import type { Observable, Subscriber } from 'rxjs';
import {
  DrainEngine,
  type DrainEngineConfig,
  type DrainSink,
  type PushQueue,
} from './DrainEngine.js';
import { OperatorSubscriber, subscribeWithin } from './OperatorSubscriber.js';

/**
 * Wires an operator's source into a drain engine: each value is pushed into `queue`, the
 * source's end is kept for after the values queued before it, and a failed push (a throwing
 * classifier, the `'error'` policy's overflow) stops the source. `triggers` subscribes what
 * drives the engine (demand, ticks) before the source is subscribed. The engine is disposed when
 * the consumer unsubscribes.
 */
export function drainSource<T, N>(
  source: Observable<T>,
  consumer: Subscriber<unknown>,
  queue: PushQueue<T, N>,
  sink: DrainSink<T, N>,
  config: Omit<DrainEngineConfig, 'stopSource'>,
  triggers?: (engine: DrainEngine<T, N>) => void,
): DrainEngine<T, N> {
  // Assigned below, before anything can stop the source.
  let sourceSubscriber!: OperatorSubscriber<T>;
  const engine = new DrainEngine<T, N>(queue, sink, {
    ...config,
    stopSource: () => sourceSubscriber.unsubscribe(),
  });
  sourceSubscriber = new OperatorSubscriber<T>(
    (value) => engine.accept(value),
    (error) => engine.error(error),
    () => engine.complete(),
    (thrown) => engine.fail(thrown),
  );
  consumer.add(() => engine.dispose());
  // Triggers first: a synchronous source then meets the demand it is granted, not a full queue.
  triggers?.(engine);
  subscribeWithin(consumer, source, sourceSubscriber);
  return engine;
}
