/**
 * What the bus and the drain instruments share: the option checks of this entry (the messages of
 * the library's checks: `owner: option must be …, got …`), the naming of instruments, and the
 * four-plus-one instruments a {@link LatencyStats} becomes.
 *
 * Only types come from `@opentelemetry/api`: this entry never loads the API at run time, it uses
 * the `Meter` it is given, so an application with no OpenTelemetry pays nothing for it.
 */
import type {
  Attributes,
  BatchObservableResult,
  Meter,
  Observable,
  ObservableCounter,
  ObservableGauge,
  ValueType,
} from '@opentelemetry/api';
import { typeError } from '../core/checks.js';
import type { LatencyStats } from '../core/LatencyWindow.js';

export { typeError };

/** `ValueType.INT` and `ValueType.DOUBLE`, without loading the API at run time. */
const INT = 0 as ValueType.INT;
const DOUBLE = 1 as ValueType.DOUBLE;

/** Handed back by `instrumentBus` and `instrumentDrain`: stops their observations. */
export interface MetricsRegistration {
  /**
   * Stops observing: the instruments report nothing from the next collection on. OpenTelemetry
   * keeps the instruments themselves (a meter cannot delete one). Calling it again does nothing.
   */
  unsubscribe(): void;
}

/** The options both `instrumentBus` and `instrumentDrain` take. */
export interface InstrumentsConfig {
  /**
   * The start of every instrument's name: letters, digits and `_ . - /`, starting with a letter,
   * at most 200 characters. Default: `'rxjs_backpressure.bus'` for `instrumentBus`,
   * `'rxjs_backpressure.drain'` for `instrumentDrain`.
   */
  prefix?: string;
  /**
   * Added to every data point, for example `{ bus: 'agents' }` or `{ queue: 'tools' }`, to tell
   * several buses or pipelines apart on one meter. Default: none.
   */
  attributes?: Attributes;
}

/** An instrument name's start: what OpenTelemetry accepts, leaving room for the longest suffix. */
const PREFIX = /^[A-Za-z][\w.\-/]{0,199}$/;

/** Refuses anything that is not a plain (non-null, non-array) object; `undefined` passes. */
function checkRecord(value: unknown, owner: string, option: string): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(owner, option, 'an object', value);
  }
}

/** Refuses a meter without the methods this entry calls. */
export function checkMeter(meter: unknown, owner: string): asserts meter is Meter {
  const m = meter as Partial<Meter> | null;
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.createObservableGauge !== 'function' ||
    typeof m.createObservableCounter !== 'function' ||
    typeof m.addBatchObservableCallback !== 'function' ||
    typeof m.removeBatchObservableCallback !== 'function'
  ) {
    throw typeError(owner, 'meter', 'an OpenTelemetry Meter', meter);
  }
}

/** Checks the shared options and gives the prefix and attributes to use. */
export function checkInstrumentsConfig(
  config: InstrumentsConfig | undefined,
  owner: string,
  defaultPrefix: string,
): { prefix: string; attributes: Attributes } {
  checkRecord(config, owner, 'options');
  const prefix = config?.prefix ?? defaultPrefix;
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw typeError(
      owner,
      'prefix',
      'a name of letters, digits and _ . - / starting with a letter (at most 200)',
      prefix,
    );
  }
  checkRecord(config?.attributes, owner, 'attributes');
  return { prefix, attributes: { ...config?.attributes } };
}

/** Makes instruments named `prefix.name`, remembering each for the batch callback. */
export class InstrumentMaker {
  readonly all: Observable[] = [];

  constructor(
    private readonly meter: Meter,
    private readonly prefix: string,
  ) {}

  /** A count that only grows (`unit` `{frame}`, `{attempt}`...). */
  counter(name: string, unit: string, description: string): ObservableCounter {
    const made = this.meter.createObservableCounter(`${this.prefix}.${name}`, {
      unit,
      description,
      valueType: INT,
    });
    this.all.push(made);
    return made;
  }

  /** A value read as it is now. */
  gauge(name: string, unit: string, description: string, integer = true): ObservableGauge {
    const made = this.meter.createObservableGauge(`${this.prefix}.${name}`, {
      unit,
      description,
      valueType: integer ? INT : DOUBLE,
    });
    this.all.push(made);
    return made;
  }

  /** The instruments of a {@link LatencyStats}: `name.p50`, `.p99`, `.max`, `.mean` (ms), `.count`. */
  latency(name: string, what: string): LatencyInstruments {
    return {
      p50: this.gauge(`${name}.p50`, 'ms', `${what}: the median of the window`, false),
      p99: this.gauge(`${name}.p99`, 'ms', `${what}: the 99th percentile of the window`, false),
      max: this.gauge(`${name}.max`, 'ms', `${what}: the largest of the window`, false),
      mean: this.gauge(`${name}.mean`, 'ms', `${what}: the mean of the window`, false),
      count: this.counter(`${name}.count`, '{sample}', `${what}: samples ever recorded`),
    };
  }

  /**
   * Makes one instrument per row of `table` and gives the function that observes them all from
   * one reading (a row whose `read` gives `undefined` reports nothing that time).
   */
  table<S>(table: readonly InstrumentRow<S>[]): ObserveRows<S> {
    const made = table.map((row) => ({
      instrument:
        row.kind === 'counter'
          ? this.counter(row.name, row.unit, row.description)
          : this.gauge(row.name, row.unit, row.description, row.kind === 'gauge'),
      read: row.read,
    }));
    return (result, source, attributes) => {
      for (const { instrument, read } of made) {
        const value = read(source);
        if (value !== undefined) result.observe(instrument, value, attributes);
      }
    };
  }

  /** Registers `observe` for one batch over every instrument made; gives the handle to stop. */
  observeAll(observe: (result: BatchObservableResult) => void): MetricsRegistration {
    const { meter, all } = this;
    let registered = true;
    meter.addBatchObservableCallback(observe, all);
    return {
      unsubscribe() {
        if (!registered) return;
        registered = false;
        meter.removeBatchObservableCallback(observe, all);
      },
    };
  }
}

/**
 * One instrument of a {@link InstrumentMaker.table}: a count that only grows (`counter`), an
 * integer read as it is now (`gauge`) or a fractional one (`gauge.double`), and where its value
 * comes from.
 */
export interface InstrumentRow<S> {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'gauge.double';
  readonly unit: string;
  readonly description: string;
  readonly read: (source: S) => number | undefined;
}

/** A row of an instrument table, written on one line. */
export function row<S>(
  name: string,
  kind: InstrumentRow<S>['kind'],
  unit: string,
  description: string,
  read: (source: S) => number | undefined,
): InstrumentRow<S> {
  return { name, kind, unit, description, read };
}

/** Observes every instrument of a table from one reading of their source. */
export type ObserveRows<S> = (
  result: BatchObservableResult,
  source: S,
  attributes: Attributes,
) => void;

/** The instruments a {@link LatencyStats} is observed into. */
export interface LatencyInstruments {
  p50: ObservableGauge;
  p99: ObservableGauge;
  max: ObservableGauge;
  mean: ObservableGauge;
  count: ObservableCounter;
}

/** Observes latency figures; nothing while the window is empty (no sample, no figure). */
export function observeLatency(
  result: BatchObservableResult,
  instruments: LatencyInstruments,
  stats: LatencyStats,
  attributes: Attributes,
): void {
  result.observe(instruments.count, stats.count, attributes);
  if (stats.window === 0) return;
  result.observe(instruments.p50, stats.p50, attributes);
  result.observe(instruments.p99, stats.p99, attributes);
  result.observe(instruments.max, stats.max, attributes);
  result.observe(instruments.mean, stats.mean, attributes);
}
