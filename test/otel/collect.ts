/**
 * A meter whose exports land in the OpenTelemetry SDK's in-memory exporter, and a read that
 * flushes one collection and gives its data points by instrument name.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

export interface Point {
  attributes: Attributes;
  value: number;
}

export interface Collected {
  /** The data points of each instrument in the last export, by name. */
  points: Map<string, Point[]>;
  /** Each instrument's kind as exported: 'SUM' (monotonic when a counter) or 'GAUGE'. */
  metrics: Map<string, MetricData>;
}

export interface TestMeter {
  meter: Meter;
  /** Exports once (forceFlush) and reads what the in-memory exporter received. */
  collect(): Promise<Collected>;
  shutdown(): Promise<void>;
}

/**
 * @param temporality - CUMULATIVE (the default) keeps reporting a series no callback observes any
 * more, at its last value; DELTA reports only what this collection observed.
 */
export function testMeter(
  temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
): TestMeter {
  const exporter = new InMemoryMetricExporter(temporality);
  // A long interval: every export in these tests is a forceFlush.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('rxjs-backpressure-test'),
    async collect() {
      exporter.reset();
      await reader.forceFlush();
      const points = new Map<string, Point[]>();
      const metrics = new Map<string, MetricData>();
      for (const resource of exporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) {
            metrics.set(metric.descriptor.name, metric);
            points.set(
              metric.descriptor.name,
              metric.dataPoints.map((point) => ({
                attributes: point.attributes,
                value: point.value as number,
              })),
            );
          }
        }
      }
      return { points, metrics };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The value of the one point of `name` whose attributes include `where`; fails when not one. */
export function pointValue(
  collected: Collected,
  name: string,
  where: Attributes = {},
): number | undefined {
  const matching = (collected.points.get(name) ?? []).filter((point) =>
    Object.entries(where).every(([key, value]) => point.attributes[key] === value),
  );
  if (matching.length > 1) throw new Error(`${name}: ${matching.length} points match`);
  return matching[0]?.value;
}
