import { type Meter, ValueType } from '@opentelemetry/api';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import type { BusMetrics, SubscriberMetrics } from '../../src/bus/types.js';
import type { LatencyStats } from '../../src/core/LatencyWindow.js';
import { instrumentBus } from '../../src/otel/index.js';
import { type Collected, pointValue, type TestMeter, testMeter } from './collect.js';

const P = 'rxjs_backpressure.bus';

/** Each subscriber field and the instrument it is reported as. */
const subscriberFields: Array<[keyof SubscriberMetrics, string]> = [
  ['delivered', 'subscriber.delivered'],
  ['dropped', 'subscriber.dropped'],
  ['merged', 'subscriber.merged'],
  ['depth', 'subscriber.depth'],
  ['highWater', 'subscriber.high_water'],
  ['usableCapacity', 'subscriber.usable_capacity'],
  ['lag', 'subscriber.lag'],
  ['lagMs', 'subscriber.lag_ms'],
];
const busFields: Array<[keyof BusMetrics, string]> = [
  ['published', 'published'],
  ['rejected', 'rejected'],
  ['backpressured', 'backpressured'],
  ['archiveErrors', 'archive_errors'],
  ['pendingSends', 'pending_sends'],
  ['historySize', 'history_size'],
];
const latencyFields = ['p50', 'p99', 'max', 'mean', 'count'] as const;

/** Every figure of `bus.metrics()` equals the exported point it maps to. */
function expectExported(collected: Collected, metrics: BusMetrics, prefix = P): void {
  for (const [field, name] of busFields) {
    expect(pointValue(collected, `${prefix}.${name}`), name).toBe(metrics[field]);
  }
  expect(pointValue(collected, `${prefix}.subscribers`)).toBe(metrics.subscribers.length);
  for (const [kind, count] of Object.entries(metrics.byKind)) {
    expect(pointValue(collected, `${prefix}.kind.published`, { kind })).toBe(count);
  }
  expect(collected.points.get(`${prefix}.kind.published`) ?? []).toHaveLength(
    Object.keys(metrics.byKind).length,
  );
  const expectLatency = (
    name: string,
    stats: LatencyStats,
    where: Record<string, string | number>,
  ) => {
    for (const field of latencyFields) {
      // Before the first sample only the count is reported: a percentile of nothing is no figure.
      const expected = stats.window === 0 && field !== 'count' ? undefined : stats[field];
      expect(pointValue(collected, `${prefix}.${name}.${field}`, where), `${name}.${field}`).toBe(
        expected,
      );
    }
  };
  for (const [kind, stats] of Object.entries(metrics.latencyByKind ?? {})) {
    expectLatency('kind.latency', stats, { kind });
  }
  for (const s of metrics.subscribers) {
    const where = { 'subscriber.id': s.id, 'subscriber.policy': s.policy };
    for (const [field, name] of subscriberFields) {
      expect(pointValue(collected, `${prefix}.${name}`, where), name).toBe(s[field]);
    }
    expect(pointValue(collected, `${prefix}.subscriber.replaying`, where)).toBe(
      s.replaying ? 1 : 0,
    );
    if (s.latency !== undefined) expectLatency('subscriber.latency', s.latency, where);
  }
}

describe('instrumentBus', () => {
  let otel: TestMeter;
  afterEach(async () => {
    await otel?.shutdown();
  });

  /**
   * A bus on virtual time: a queued subscriber (capacity 3, so 2 non-terminal frames) given one
   * frame of demand at 6 ms, a direct subscriber of kind b, frames a..e at 1..5 ms, one refusal.
   */
  function scenario(latency: boolean) {
    const scheduler = new VirtualTimeScheduler();
    const bus = new EventBus({ scheduler, metrics: { latency } });
    const demand = new Subject<number>();
    bus.select({}, { queue: { capacity: 3, overflow: 'drop-oldest', demand } }).subscribe();
    bus.select({ kinds: ['b'] }).subscribe();
    ['a', 'b', 'c', 'd', 'e'].forEach((kind, i) => {
      scheduler.schedule(() => bus.publish({ kind }), i + 1);
    });
    scheduler.schedule(() => demand.next(1), 6);
    scheduler.schedule(() => undefined, 10);
    scheduler.flush();
    expect(() => bus.publish({ kind: '' })).toThrow();
    return bus;
  }

  it('exports every figure of bus.metrics() on collection, latency included', async () => {
    otel = testMeter();
    const bus = scenario(true);
    instrumentBus(bus, otel.meter);
    const collected = await otel.collect();
    const metrics = bus.metrics();
    expectExported(collected, metrics);
    // What the scenario makes: the figures compared above are not all zero.
    const queued = { 'subscriber.id': metrics.subscribers[0]?.id as number };
    expect(pointValue(collected, `${P}.published`)).toBe(5);
    expect(pointValue(collected, `${P}.rejected`)).toBe(1);
    expect(pointValue(collected, `${P}.subscriber.dropped`, queued)).toBe(3);
    expect(pointValue(collected, `${P}.subscriber.depth`, queued)).toBe(1);
    // d was delivered at 6, published at 4; e waits since 5 and it is now 10.
    expect(pointValue(collected, `${P}.subscriber.latency.max`, queued)).toBe(2);
    expect(pointValue(collected, `${P}.subscriber.lag_ms`, queued)).toBe(5);
    expect(pointValue(collected, `${P}.kind.latency.count`, { kind: 'b' })).toBe(1);
  });

  it('reads the bus again at each collection', async () => {
    otel = testMeter();
    const bus = new EventBus();
    instrumentBus(bus, otel.meter);
    bus.publish({ kind: 'k' });
    expect(pointValue(await otel.collect(), `${P}.published`)).toBe(1);
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'j' });
    const collected = await otel.collect();
    expect(pointValue(collected, `${P}.published`)).toBe(3);
    expectExported(collected, bus.metrics());
  });

  it('counts are monotonic counters, the rest gauges, with units', async () => {
    otel = testMeter();
    instrumentBus(scenario(true), otel.meter);
    const { metrics } = await otel.collect();
    const sum = metrics.get(`${P}.subscriber.dropped`);
    expect(sum).toMatchObject({ dataPointType: 3, isMonotonic: true });
    expect(sum?.descriptor.unit).toBe('{frame}');
    const gauge = metrics.get(`${P}.subscriber.depth`);
    expect(gauge).toMatchObject({ dataPointType: 2 });
    expect(metrics.get(`${P}.subscriber.latency.p99`)?.descriptor.unit).toBe('ms');
    // Counts and depths are integers; times in ms are not.
    expect(sum?.descriptor.valueType).toBe(ValueType.INT);
    expect(gauge?.descriptor.valueType).toBe(ValueType.INT);
    expect(metrics.get(`${P}.subscriber.lag_ms`)?.descriptor.valueType).toBe(ValueType.DOUBLE);
  });

  it('without metrics: { latency: true }, reports no latency and no lag in ms', async () => {
    otel = testMeter();
    const bus = scenario(false);
    instrumentBus(bus, otel.meter);
    const collected = await otel.collect();
    expectExported(collected, bus.metrics());
    for (const name of ['subscriber.lag_ms', 'subscriber.latency.max', 'kind.latency.count']) {
      expect(collected.points.get(`${P}.${name}`) ?? [], name).toEqual([]);
    }
  });

  it('reports a latency count but no percentile before the first sample', async () => {
    otel = testMeter();
    const bus = new EventBus({ metrics: { latency: true } });
    bus
      .select({}, { queue: { capacity: 4, overflow: 'drop-oldest', demand: new Subject() } })
      .subscribe();
    bus.publish({ kind: 'k' });
    instrumentBus(bus, otel.meter);
    const collected = await otel.collect();
    expect(pointValue(collected, `${P}.subscriber.latency.count`)).toBe(0);
    expect(collected.points.get(`${P}.subscriber.latency.p50`) ?? []).toEqual([]);
  });

  it('adds its attributes to every point, names subscribers as told, and takes a prefix', async () => {
    otel = testMeter();
    const bus = scenario(true);
    instrumentBus(bus, otel.meter, {
      prefix: 'agents.bus',
      attributes: { bus: 'agents' },
      subscriberAttributes: (s) => ({ role: s.policy === 'none' ? 'ui' : 'writer' }),
    });
    const collected = await otel.collect();
    expect([...collected.points.keys()].every((name) => name.startsWith('agents.bus.'))).toBe(true);
    for (const points of collected.points.values()) {
      for (const point of points) expect(point.attributes.bus).toBe('agents');
    }
    const [queued, direct] = bus.metrics().subscribers;
    expect(pointValue(collected, 'agents.bus.subscriber.delivered', { role: 'writer' })).toBe(
      queued?.delivered,
    );
    expect(pointValue(collected, 'agents.bus.subscriber.delivered', { role: 'ui' })).toBe(
      direct?.delivered,
    );
    expect(pointValue(collected, 'agents.bus.subscriber.delivered', { 'subscriber.id': 1 })).toBe(
      undefined,
    );
  });

  it('a subscriber that leaves is no longer observed; unsubscribe() stops every observation', async () => {
    // Under DELTA temporality a collection exports only what was observed in it.
    otel = testMeter(AggregationTemporality.DELTA);
    const bus = new EventBus();
    const gone = bus.select().subscribe();
    bus.select({ kinds: ['k'] }).subscribe();
    const registration = instrumentBus(bus, otel.meter);
    bus.publish({ kind: 'k' });
    expect((await otel.collect()).points.get(`${P}.subscriber.delivered`)).toHaveLength(2);
    gone.unsubscribe();
    const after = await otel.collect();
    expect(after.points.get(`${P}.subscriber.delivered`)).toHaveLength(1);
    registration.unsubscribe();
    registration.unsubscribe();
    const stopped = await otel.collect();
    for (const [name, points] of stopped.points) expect(points, name).toEqual([]);
  });

  it('refuses bad arguments at once, naming them', () => {
    otel = testMeter();
    const bus = new EventBus();
    expect(() => instrumentBus({} as never, otel.meter)).toThrow(
      new TypeError('instrumentBus: bus must be an object with metrics(), got {}'),
    );
    expect(() => instrumentBus(bus, {} as Meter)).toThrow(
      new TypeError('instrumentBus: meter must be an OpenTelemetry Meter, got {}'),
    );
    expect(() => instrumentBus(bus, otel.meter, 'x' as never)).toThrow(
      'instrumentBus: options must be an object, got "x"',
    );
    expect(() => instrumentBus(bus, otel.meter, { prefix: '1bus' })).toThrow(
      'instrumentBus: prefix must be a name of letters, digits and _ . - / starting with a letter (at most 200), got "1bus"',
    );
    expect(() => instrumentBus(bus, otel.meter, { prefix: 'a'.repeat(201) })).toThrow('prefix');
    expect(() => instrumentBus(bus, otel.meter, { attributes: [] as never })).toThrow(
      'instrumentBus: attributes must be an object, got an array',
    );
    expect(() => instrumentBus(bus, otel.meter, { subscriberAttributes: 1 as never })).toThrow(
      'instrumentBus: subscriberAttributes must be a function, got 1',
    );
    expect(() => instrumentBus(bus, otel.meter, { prefix: 'a'.repeat(200) })).not.toThrow();
  });

  it('property: whatever the traffic, each collection exports what bus.metrics() says', async () => {
    const step = fc.oneof(
      fc.record({
        at: fc.integer({ min: 0, max: 5 }),
        kind: fc.constantFrom('a', 'b', 'model.delta', 'run.finished'),
        runId: fc.constantFrom('r1', 'r2'),
      }),
      fc.record({ at: fc.integer({ min: 0, max: 5 }), grant: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ at: fc.integer({ min: 0, max: 5 }), leave: fc.nat(3) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            capacity: fc.integer({ min: 2, max: 4 }),
            overflow: fc.constantFrom('drop-oldest' as const, 'drop-incoming' as const),
            runId: fc.constantFrom(undefined, 'r1'),
            queued: fc.boolean(),
            // Joining late from cursor 0, a queued subscriber reads the log at its demand's pace.
            joinAt: fc.integer({ min: 0, max: 12 }),
            after: fc.constantFrom(undefined, 0),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(step, { maxLength: 25 }),
        fc.boolean(),
        async (subscribers, steps, latency) => {
          otel = testMeter();
          const scheduler = new VirtualTimeScheduler();
          const bus = new EventBus({ scheduler, metrics: { latency } });
          const demand = new Subject<number>();
          const subscriptions: Array<{ unsubscribe(): void }> = [];
          for (const { capacity, overflow, runId, queued, joinAt, after } of subscribers) {
            scheduler.schedule(() => {
              subscriptions.push(
                bus
                  .select(runId === undefined ? {} : { runId }, {
                    after,
                    ...(queued ? { queue: { capacity, overflow, demand } } : {}),
                  })
                  .subscribe(),
              );
            }, joinAt);
          }
          let time = 0;
          for (const s of steps) {
            time += s.at;
            scheduler.schedule(() => {
              if ('kind' in s) bus.publish({ kind: s.kind, runId: s.runId });
              else if ('grant' in s) demand.next(s.grant);
              else subscriptions[s.leave % Math.max(1, subscriptions.length)]?.unsubscribe();
            }, time);
          }
          scheduler.flush();
          instrumentBus(bus, otel.meter);
          try {
            expectExported(await otel.collect(), bus.metrics());
          } finally {
            await otel.shutdown();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
