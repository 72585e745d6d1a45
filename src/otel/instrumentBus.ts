import type { Attributes, Meter } from '@opentelemetry/api';
import type { BusMetrics, SubscriberMetrics } from '../bus/types.js';
import {
  checkInstrumentsConfig,
  checkMeter,
  InstrumentMaker,
  type InstrumentsConfig,
  type MetricsRegistration,
  observeLatency,
  typeError,
} from './instruments.js';

const OWNER = 'instrumentBus';

/** Anything with the bus's `metrics()`: an `EventBus`, a `RedisEventBus`, a typed bus. */
export interface MetricsSource {
  metrics(): BusMetrics;
}

/** The options of {@link instrumentBus}. */
export interface BusInstrumentsConfig extends InstrumentsConfig {
  /**
   * The attributes that tell one subscriber's data points from another's. Default:
   * `{ 'subscriber.id': id, 'subscriber.policy': policy }`. Every subscriber ever made is a new
   * id, so a bus whose subscribers come and go makes a series per subscriber; name them by what
   * they are instead (say, by `filter.runId` or a role) to keep the number of series bounded.
   * Subscribers given the same attributes must not share a series: add what tells them apart.
   */
  subscriberAttributes?: (subscriber: SubscriberMetrics) => Attributes;
}

function defaultSubscriberAttributes(subscriber: SubscriberMetrics): Attributes {
  return { 'subscriber.id': subscriber.id, 'subscriber.policy': subscriber.policy };
}

/**
 * Reports a bus's metrics as OpenTelemetry instruments, read from `bus.metrics()` once per
 * collection (one batch callback: nothing runs between collections, nothing per event).
 *
 * Counts that only grow are observable counters; values read as they are now are observable
 * gauges. Names start with `prefix` (default `rxjs_backpressure.bus`):
 *
 * | instrument | kind | unit | attributes |
 * | --- | --- | --- | --- |
 * | `published`, `rejected`, `backpressured`, `archive_errors` | counter | `{event}` | |
 * | `pending_sends`, `history_size`, `subscribers` | gauge | `{event}`, `{frame}`, `{subscriber}` | |
 * | `kind.published` | counter | `{frame}` | `kind` |
 * | `kind.latency.p50`, `.p99`, `.max`, `.mean` / `.count` | gauge (ms) / counter | | `kind` |
 * | `subscriber.delivered`, `.dropped`, `.merged` | counter | `{frame}` | the subscriber's |
 * | `subscriber.depth`, `.high_water`, `.usable_capacity`, `.lag` | gauge | `{frame}` | the subscriber's |
 * | `subscriber.replaying` | gauge (0 or 1) | | the subscriber's |
 * | `subscriber.lag_ms` | gauge | `ms` | the subscriber's |
 * | `subscriber.latency.p50`, `.p99`, `.max`, `.mean` / `.count` | gauge (ms) / counter | | the subscriber's |
 *
 * The latency instruments and `lag_ms` report only on a bus made with `metrics: { latency:
 * true }`, and the percentiles only once a window holds a sample. Every data point also carries
 * `attributes`.
 *
 * @param bus - the bus (or anything with its `metrics()`).
 * @param meter - where the instruments are made, e.g. `metrics.getMeter('agents')`.
 * @returns the handle whose `unsubscribe()` stops the observations (call it when the bus closes).
 * @throws TypeError at once when an argument or an option is not what it must be.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { EventBus } from 'rxjs-backpressure';
 * import { instrumentBus } from 'rxjs-backpressure/otel';
 *
 * const bus = new EventBus({ metrics: { latency: true } });
 * const registration = instrumentBus(bus, metrics.getMeter('agents'), {
 *   attributes: { bus: 'agents' },
 * });
 * // ... when the bus closes:
 * registration.unsubscribe();
 * ```
 */
export function instrumentBus(
  bus: MetricsSource,
  meter: Meter,
  config?: BusInstrumentsConfig,
): MetricsRegistration {
  if (bus === null || typeof bus !== 'object' || typeof bus.metrics !== 'function') {
    throw typeError(OWNER, 'bus', 'an object with metrics()', bus);
  }
  checkMeter(meter, OWNER);
  const { prefix, attributes } = checkInstrumentsConfig(config, OWNER, 'rxjs_backpressure.bus');
  const labelOf = config?.subscriberAttributes ?? defaultSubscriberAttributes;
  if (typeof labelOf !== 'function') {
    throw typeError(OWNER, 'subscriberAttributes', 'a function', labelOf);
  }

  const make = new InstrumentMaker(meter, prefix);
  const published = make.counter('published', '{event}', 'Frames published (the last seq)');
  const rejected = make.counter('rejected', '{event}', 'Events refused by validation');
  const backpressured = make.counter(
    'backpressured',
    '{event}',
    "Publishes refused because a 'backpressure' subscriber was full",
  );
  const archiveErrors = make.counter(
    'archive_errors',
    '{event}',
    'Archive appends that threw or rejected',
  );
  const pendingSends = make.gauge('pending_sends', '{event}', 'Sends waiting for room');
  const historySize = make.gauge('history_size', '{frame}', 'Frames held in history');
  const subscribers = make.gauge('subscribers', '{subscriber}', 'Live subscribers');
  const kindPublished = make.counter('kind.published', '{frame}', 'Frames published, per kind');
  const kindLatency = make.latency('kind.latency', 'Publish-to-delivery latency per kind');
  const delivered = make.counter('subscriber.delivered', '{frame}', 'Frames delivered');
  const dropped = make.counter('subscriber.dropped', '{frame}', 'Frames lost to its policy');
  const merged = make.counter('subscriber.merged', '{frame}', 'Frames folded by coalesce');
  const depth = make.gauge('subscriber.depth', '{frame}', 'Frames held in its queue');
  const highWater = make.gauge('subscriber.high_water', '{frame}', 'The largest depth reached');
  const usable = make.gauge(
    'subscriber.usable_capacity',
    '{frame}',
    'Room for non-terminal frames in its queue',
  );
  const lag = make.gauge('subscriber.lag', '{frame}', 'How far behind it is, in seqs');
  const replaying = make.gauge('subscriber.replaying', '1', '1 while it reads history or archive');
  const lagMs = make.gauge(
    'subscriber.lag_ms',
    'ms',
    'Age of the oldest frame it has not received',
    false,
  );
  const latency = make.latency('subscriber.latency', 'Publish-to-delivery latency');

  return make.observeAll((result) => {
    const m = bus.metrics();
    result.observe(published, m.published, attributes);
    result.observe(rejected, m.rejected, attributes);
    result.observe(backpressured, m.backpressured, attributes);
    result.observe(archiveErrors, m.archiveErrors, attributes);
    result.observe(pendingSends, m.pendingSends, attributes);
    result.observe(historySize, m.historySize, attributes);
    result.observe(subscribers, m.subscribers.length, attributes);
    for (const kind of Object.keys(m.byKind)) {
      result.observe(kindPublished, m.byKind[kind] as number, { ...attributes, kind });
    }
    if (m.latencyByKind !== undefined) {
      for (const kind of Object.keys(m.latencyByKind)) {
        const stats = m.latencyByKind[kind];
        if (stats !== undefined)
          observeLatency(result, kindLatency, stats, { ...attributes, kind });
      }
    }
    for (const s of m.subscribers) {
      const at = { ...attributes, ...labelOf(s) };
      result.observe(delivered, s.delivered, at);
      result.observe(dropped, s.dropped, at);
      result.observe(merged, s.merged, at);
      result.observe(depth, s.depth, at);
      result.observe(highWater, s.highWater, at);
      result.observe(usable, s.usableCapacity, at);
      result.observe(lag, s.lag, at);
      result.observe(replaying, s.replaying ? 1 : 0, at);
      if (s.lagMs !== undefined) result.observe(lagMs, s.lagMs, at);
      if (s.latency !== undefined) observeLatency(result, latency, s.latency, at);
    }
  });
}
