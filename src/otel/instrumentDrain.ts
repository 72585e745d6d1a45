import type { Meter } from '@opentelemetry/api';
import type { Observer } from 'rxjs';
import type { DrainStats } from '../operators/drainStats.js';
import {
  checkInstrumentsConfig,
  checkMeter,
  InstrumentMaker,
  type InstrumentRow,
  type InstrumentsConfig,
  type MetricsRegistration,
  observeLatency,
  row,
} from './instruments.js';

const OWNER = 'instrumentDrain';

/** The figures of one `DrainStats`. */
const DRAIN_ROWS: readonly InstrumentRow<DrainStats>[] = [
  row('waiting', 'gauge', '{value}', 'Values waiting for a free slot', (s) => s.waiting),
  row('in_flight', 'gauge', '{slot}', 'Slots held by attempts and backoffs', (s) => s.inFlight),
  row('concurrency', 'gauge', '{slot}', 'The concurrency in force', (s) => s.concurrency),
  row('completed', 'counter', '{value}', 'Values whose handler completed', (s) => s.completed),
  row('failed', 'counter', '{attempt}', 'Attempts that failed', (s) => s.failed),
  row(
    'retried',
    'counter',
    '{attempt}',
    'Attempts started again after a failure',
    (s) => s.retried,
  ),
  row('dead_lettered', 'counter', '{value}', 'Values handed to deadLetter', (s) => s.deadLettered),
];

/** What {@link instrumentDrain} gives: the `stats` observer of `drainWith`, and its stop. */
export interface DrainInstruments extends Observer<DrainStats>, MetricsRegistration {}

/**
 * OpenTelemetry instruments for one `drainWith` pipeline, fed through its `stats` option: the
 * observer keeps the last `DrainStats` it was given, and each collection reads it (nothing is
 * reported before the first one). Names start with `prefix` (default `rxjs_backpressure.drain`):
 *
 * | instrument | kind | unit |
 * | --- | --- | --- |
 * | `waiting`, `in_flight`, `concurrency` | gauge | `{value}`, `{slot}`, `{slot}` |
 * | `completed` | counter | `{value}` |
 * | `failed`, `retried` | counter | `{attempt}` |
 * | `dead_lettered` | counter | `{value}` |
 * | `handler.duration.p50`, `.p99`, `.max`, `.mean` | gauge | `ms` |
 * | `handler.duration.count` | counter | `{sample}` |
 *
 * Give each pipeline its own observer, told apart by `attributes` (a pipeline subscribed again
 * counts from 0 again, which OpenTelemetry reads as a counter reset). When the stream ends, its
 * last figures are still reported until `unsubscribe()`.
 *
 * @param meter - where the instruments are made, e.g. `metrics.getMeter('workers')`.
 * @returns the observer to pass as `drainWith`'s `stats`, whose `unsubscribe()` stops the
 * observations.
 * @throws TypeError at once when an argument or an option is not what it must be.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { from } from 'rxjs';
 * import { drainWith } from 'rxjs-backpressure';
 * import { instrumentDrain } from 'rxjs-backpressure/otel';
 *
 * const stats = instrumentDrain(metrics.getMeter('workers'), { attributes: { queue: 'tools' } });
 * from([1, 2, 3])
 *   .pipe(drainWith(async (n) => n * 2, { capacity: 100, overflow: 'error', concurrency: 4, stats }))
 *   .subscribe();
 * ```
 */
export function instrumentDrain(meter: Meter, config?: InstrumentsConfig): DrainInstruments {
  checkMeter(meter, OWNER);
  const { prefix, attributes } = checkInstrumentsConfig(config, OWNER, 'rxjs_backpressure.drain');
  const make = new InstrumentMaker(meter, prefix);
  const observeStats = make.table(DRAIN_ROWS);
  const duration = make.latency('handler.duration', "Duration of the handler's attempts");

  let last: DrainStats | undefined;
  const registration = make.observeAll((result) => {
    if (last === undefined) return;
    observeStats(result, last, attributes);
    observeLatency(result, duration, last.handlerMs, attributes);
  });
  return {
    next(stats) {
      last = stats;
    },
    error() {},
    complete() {},
    unsubscribe: () => registration.unsubscribe(),
  };
}
