import type { Meter } from '@opentelemetry/api';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { from, Subject, throwError, timer, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DrainStats } from '../../src/operators/drainStats.js';
import { drainWith } from '../../src/operators/drainWith.js';
import { instrumentDrain } from '../../src/otel/index.js';
import { type Collected, pointValue, type TestMeter, testMeter } from './collect.js';

const P = 'rxjs_backpressure.drain';

/** Each field of DrainStats and the instrument it is reported as. */
const fields: Array<[Exclude<keyof DrainStats, 'handlerMs'>, string]> = [
  ['waiting', 'waiting'],
  ['inFlight', 'in_flight'],
  ['concurrency', 'concurrency'],
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['retried', 'retried'],
  ['deadLettered', 'dead_lettered'],
];
const durationFields = ['p50', 'p99', 'max', 'mean', 'count'] as const;

function expectExported(collected: Collected, stats: DrainStats, prefix = P): void {
  for (const [field, name] of fields) {
    expect(pointValue(collected, `${prefix}.${name}`), name).toBe(stats[field]);
  }
  for (const field of durationFields) {
    expect(pointValue(collected, `${prefix}.handler.duration.${field}`), field).toBe(
      stats.handlerMs[field],
    );
  }
}

describe('instrumentDrain', () => {
  let otel: TestMeter;
  afterEach(async () => {
    await otel?.shutdown();
  });

  /**
   * Six values on virtual time through two slots: value v takes v * 10 ms; value 3 fails twice
   * (two attempts, then dead-lettered). Stats go to the instruments and to `seen`.
   */
  function run(stop?: number) {
    const scheduler = new VirtualTimeScheduler();
    const instruments = instrumentDrain(otel.meter);
    const seen: DrainStats[] = [];
    const dead: number[] = [];
    from([1, 2, 3, 4, 5, 6])
      .pipe(
        drainWith(
          (v: number) => (v === 3 ? throwError(() => new Error('no')) : timer(v * 10, scheduler)),
          {
            capacity: 8,
            overflow: 'error',
            concurrency: 2,
            retry: { maxAttempts: 2 },
            deadLetter: (v) => dead.push(v),
            scheduler,
            stats: {
              next: (stats) => {
                seen.push(stats);
                instruments.next(stats);
              },
            },
          },
        ),
      )
      .subscribe();
    if (stop === undefined) scheduler.flush();
    else {
      scheduler.maxFrames = stop;
      scheduler.flush();
    }
    return { instruments, seen, dead };
  }

  it("exports the last DrainStats it was given, the handler's durations included", async () => {
    otel = testMeter();
    const { seen, dead } = run();
    const collected = await otel.collect();
    const last = seen.at(-1) as DrainStats;
    expectExported(collected, last);
    // What the run makes: the compared figures are not all zero.
    expect(dead).toEqual([3]);
    expect(last).toMatchObject({ completed: 5, failed: 2, retried: 1, deadLettered: 1 });
    expect(last.handlerMs.max).toBe(60);
  });

  it('exports the figures of the moment, mid-run', async () => {
    otel = testMeter();
    const { seen } = run(25);
    const collected = await otel.collect();
    const last = seen.at(-1) as DrainStats;
    expect(last.inFlight).toBe(2);
    expect(last.waiting).toBeGreaterThan(0);
    expectExported(collected, last);
  });

  it('reports nothing before the first stats, counters as counters, durations in ms', async () => {
    // Under DELTA temporality a collection exports only what was observed in it.
    otel = testMeter(AggregationTemporality.DELTA);
    const instruments = instrumentDrain(otel.meter, { prefix: 'tools', attributes: { q: 't' } });
    const before = await otel.collect();
    for (const [name, points] of before.points) expect(points, name).toEqual([]);
    const stats = new Subject<DrainStats>();
    stats.subscribe(instruments);
    stats.next({
      waiting: 1,
      inFlight: 2,
      concurrency: 3,
      completed: 4,
      failed: 5,
      retried: 6,
      deadLettered: 7,
      handlerMs: { count: 8, window: 8, p50: 9, p99: 10, max: 11, mean: 12 },
    });
    stats.complete();
    const after = await otel.collect();
    expect(pointValue(after, 'tools.waiting', { q: 't' })).toBe(1);
    expect(pointValue(after, 'tools.completed', { q: 't' })).toBe(4);
    expect(pointValue(after, 'tools.handler.duration.mean', { q: 't' })).toBe(12);
    expect(after.metrics.get('tools.completed')).toMatchObject({ isMonotonic: true });
    expect(after.metrics.get('tools.in_flight')).toMatchObject({ dataPointType: 2 });
    expect(after.metrics.get('tools.handler.duration.p99')?.descriptor.unit).toBe('ms');
    // After the stream ended, the last figures are still reported; unsubscribe() stops them.
    instruments.unsubscribe();
    instruments.unsubscribe();
    const stopped = await otel.collect();
    for (const [name, points] of stopped.points) expect(points, name).toEqual([]);
  });

  it('reports no percentile while the window is empty', async () => {
    otel = testMeter();
    const instruments = instrumentDrain(otel.meter);
    instruments.next({
      waiting: 0,
      inFlight: 0,
      concurrency: 1,
      completed: 0,
      failed: 0,
      retried: 0,
      deadLettered: 0,
      handlerMs: { count: 0, window: 0, p50: 0, p99: 0, max: 0, mean: 0 },
    });
    const collected = await otel.collect();
    expect(pointValue(collected, `${P}.handler.duration.count`)).toBe(0);
    expect(collected.points.get(`${P}.handler.duration.p50`) ?? []).toEqual([]);
  });

  it('refuses bad arguments at once, naming them', () => {
    otel = testMeter();
    expect(() => instrumentDrain(undefined as unknown as Meter)).toThrow(
      new TypeError('instrumentDrain: meter must be an OpenTelemetry Meter, got undefined'),
    );
    expect(() => instrumentDrain(otel.meter, { prefix: 'a b' })).toThrow(
      'instrumentDrain: prefix must be',
    );
    expect(() => instrumentDrain(otel.meter, { attributes: null as never })).toThrow(
      'instrumentDrain: attributes must be an object, got null',
    );
  });
});
