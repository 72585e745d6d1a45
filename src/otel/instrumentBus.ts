import type { Attributes, Meter } from '@opentelemetry/api';
import type { BusMetrics, SubscriberMetrics } from '../bus/types.js';
import {
  checkInstrumentsConfig,
  checkMeter,
  InstrumentMaker,
  type InstrumentRow,
  type InstrumentsConfig,
  type MetricsRegistration,
  observeLatency,
  row,
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

/** The bus's own figures. */
const BUS_ROWS: readonly InstrumentRow<BusMetrics>[] = [
  row('published', 'counter', '{event}', 'Frames published (the last seq)', (m) => m.published),
  row('rejected', 'counter', '{event}', 'Events refused by validation', (m) => m.rejected),
  row(
    'backpressured',
    'counter',
    '{event}',
    "Publishes refused because a 'backpressure' subscriber was full",
    (m) => m.backpressured,
  ),
  row(
    'archive_errors',
    'counter',
    '{event}',
    'Archive appends that threw or rejected',
    (m) => m.archiveErrors,
  ),
  row('pending_sends', 'gauge', '{event}', 'Sends waiting for room', (m) => m.pendingSends),
  row('history_size', 'gauge', '{frame}', 'Frames held in history', (m) => m.historySize),
  row('subscribers', 'gauge', '{subscriber}', 'Live subscribers', (m) => m.subscribers.length),
];

/** Each subscriber's figures, under its attributes. */
const SUBSCRIBER_ROWS: readonly InstrumentRow<SubscriberMetrics>[] = [
  row('subscriber.delivered', 'counter', '{frame}', 'Frames delivered', (s) => s.delivered),
  row('subscriber.dropped', 'counter', '{frame}', 'Frames lost to its policy', (s) => s.dropped),
  row('subscriber.merged', 'counter', '{frame}', 'Frames folded by coalesce', (s) => s.merged),
  row('subscriber.depth', 'gauge', '{frame}', 'Frames held in its queue', (s) => s.depth),
  row('subscriber.high_water', 'gauge', '{frame}', 'The largest depth reached', (s) => s.highWater),
  row(
    'subscriber.usable_capacity',
    'gauge',
    '{frame}',
    'Room for non-terminal frames in its queue',
    (s) => s.usableCapacity,
  ),
  row('subscriber.lag', 'gauge', '{frame}', 'How far behind it is, in seqs', (s) => s.lag),
  row('subscriber.replaying', 'gauge', '1', '1 while it reads history or archive', (s) =>
    s.replaying ? 1 : 0,
  ),
  row(
    'subscriber.lag_ms',
    'gauge.double',
    'ms',
    'Age of the oldest frame it has not received',
    (s) => s.lagMs,
  ),
];

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
  const observeBus = make.table(BUS_ROWS);
  const kindPublished = make.counter('kind.published', '{frame}', 'Frames published, per kind');
  const kindLatency = make.latency('kind.latency', 'Publish-to-delivery latency per kind');
  const observeSubscriber = make.table(SUBSCRIBER_ROWS);
  const latency = make.latency('subscriber.latency', 'Publish-to-delivery latency');

  return make.observeAll((result) => {
    const m = bus.metrics();
    observeBus(result, m, attributes);
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
      observeSubscriber(result, s, at);
      if (s.latency !== undefined) observeLatency(result, latency, s.latency, at);
    }
  });
}
