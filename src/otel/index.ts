// The OpenTelemetry entry point, rxjs-backpressure/otel: the bus's metrics and drainWith's stats
// as OpenTelemetry instruments on a Meter the application gives. Only types come from
// @opentelemetry/api (an optional peer dependency); what it uses of the library comes from the
// root entry. Browser-safe.

export {
  type BusInstrumentsConfig,
  instrumentBus,
  type MetricsSource,
} from './instrumentBus.js';
export { type DrainInstruments, instrumentDrain } from './instrumentDrain.js';
export type { InstrumentsConfig, MetricsRegistration } from './instruments.js';
