import type { Attributes, Meter } from '@opentelemetry/api';
import type { Observer } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  AgentEventMap,
  DrainStats,
  DrainWithConfig,
  EventBus,
  SubscriberMetrics,
  TypedEventBus,
} from '../../src/index.js';
import {
  type BusInstrumentsConfig,
  type DrainInstruments,
  type InstrumentsConfig,
  instrumentBus,
  instrumentDrain,
  type MetricsRegistration,
  type MetricsSource,
} from '../../src/otel/index.js';
import type { RedisEventBus } from '../../src/redis/index.js';

describe('rxjs-backpressure/otel: types', () => {
  const meter = {} as Meter;

  it('instrumentBus takes any bus, a Meter and its options, and gives a registration', () => {
    expectTypeOf(instrumentBus).parameters.toEqualTypeOf<
      [MetricsSource, Meter, BusInstrumentsConfig?]
    >();
    expectTypeOf(instrumentBus).returns.toEqualTypeOf<MetricsRegistration>();
    expectTypeOf<EventBus<{ text: string }>>().toExtend<MetricsSource>();
    expectTypeOf<TypedEventBus<AgentEventMap>>().toExtend<MetricsSource>();
    expectTypeOf<RedisEventBus>().toExtend<MetricsSource>();
    expectTypeOf<MetricsRegistration['unsubscribe']>().toEqualTypeOf<() => void>();
  });

  it('the options: a prefix, attributes, and attributes per subscriber', () => {
    expectTypeOf<BusInstrumentsConfig>().toExtend<InstrumentsConfig>();
    expectTypeOf<InstrumentsConfig['prefix']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<InstrumentsConfig['attributes']>().toEqualTypeOf<Attributes | undefined>();
    expectTypeOf<NonNullable<BusInstrumentsConfig['subscriberAttributes']>>().toEqualTypeOf<
      (subscriber: SubscriberMetrics) => Attributes
    >();
    // Type errors only: never called.
    const refused = () => {
      // @ts-expect-error: a prefix is a string
      instrumentBus({} as EventBus, meter, { prefix: 1 });
      // @ts-expect-error: attribute values are strings, numbers, booleans or arrays of them
      instrumentBus({} as EventBus, meter, { attributes: { at: new Date() } });
      // @ts-expect-error: a bus is something with metrics()
      instrumentBus({}, meter);
      // @ts-expect-error: the meter comes second
      instrumentBus(meter, {} as EventBus);
    };
    expectTypeOf(refused).toBeFunction();
  });

  it("instrumentDrain gives an rxjs Observer of DrainStats: drainWith's stats", () => {
    expectTypeOf(instrumentDrain).parameters.toEqualTypeOf<[Meter, InstrumentsConfig?]>();
    expectTypeOf(instrumentDrain).returns.toEqualTypeOf<DrainInstruments>();
    const stats = {} as DrainInstruments;
    expectTypeOf(stats).toExtend<Observer<DrainStats>>();
    expectTypeOf(stats).toExtend<MetricsRegistration>();
    expectTypeOf(stats).toExtend<NonNullable<DrainWithConfig<number>['stats']>>();
    const refused = () => {
      // @ts-expect-error: the meter is required
      instrumentDrain();
    };
    expectTypeOf(refused).toBeFunction();
  });
});
