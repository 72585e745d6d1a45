import type { Observable, Subscriber } from 'rxjs';
import {
  DrainEngine,
  type DrainEngineConfig,
  type DrainSink,
  type PushQueue,
} from './DrainEngine.js';
import { OperatorSubscriber, subscribeWithin } from './OperatorSubscriber.js';

/** A drain engine and the subscriber that feeds it a source, made together. */
export interface FedEngine<T, N> {
  readonly engine: DrainEngine<T, N>;
  /** Subscribe it to the source; unsubscribing it stops the source. */
  readonly feed: OperatorSubscriber<T>;
}

/**
 * A drain engine over `queue` and the subscriber that feeds it: each value is pushed into the
 * queue, the source's end is kept for after the values queued before it, and a failed push (a
 * throwing classifier, the `'error'` policy's overflow) stops the source. Subscribing `feed` is
 * the caller's: at once for an operator ({@link drainSource}), at the first pull for a bridge.
 */
export function fedEngine<T, N>(
  queue: PushQueue<T, N>,
  sink: DrainSink<T, N>,
  config: Omit<DrainEngineConfig, 'stopSource'>,
): FedEngine<T, N> {
  // Assigned below, before anything can stop the source.
  let feed!: OperatorSubscriber<T>;
  const engine = new DrainEngine<T, N>(queue, sink, {
    ...config,
    stopSource: () => feed.unsubscribe(),
  });
  feed = new OperatorSubscriber<T>(
    (value) => engine.accept(value),
    (error) => engine.error(error),
    () => engine.complete(),
    (thrown) => engine.fail(thrown),
  );
  return { engine, feed };
}

/**
 * Wires an operator's source into a drain engine ({@link fedEngine}) and subscribes it within
 * `consumer`. `triggers` subscribes what drives the engine (demand, ticks) before the source is
 * subscribed. The engine is disposed when the consumer unsubscribes.
 */
export function drainSource<T, N>(
  source: Observable<T>,
  consumer: Subscriber<unknown>,
  queue: PushQueue<T, N>,
  sink: DrainSink<T, N>,
  config: Omit<DrainEngineConfig, 'stopSource'>,
  triggers?: (engine: DrainEngine<T, N>) => void,
): DrainEngine<T, N> {
  const { engine, feed } = fedEngine(queue, sink, config);
  consumer.add(() => engine.dispose());
  // Triggers first: a synchronous source then meets the demand it is granted, not a full queue.
  triggers?.(engine);
  subscribeWithin(consumer, source, feed);
  return engine;
}
