import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('metrics: { latency: true }', () => {
  it('measures each delivery from publish to hand-off, per subscriber and per kind, exactly', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, flush }) => {
      const bus = new EventBus({ scheduler: testScheduler, metrics: { latency: true } });
      const demand = new Subject<number>();
      bus.select({}, { queue: { capacity: 8, overflow: 'drop-oldest', demand } }).subscribe();
      bus.select({ kinds: ['b'] }).subscribe();
      // a at 1, b at 2, c at 3; the queued subscriber takes one frame at 5, two at 10.
      hot('-abc').subscribe((kind) => bus.publish({ kind }));
      hot('-----x----y').subscribe((x) => demand.next(x === 'x' ? 1 : 2));
      const samples: Array<[number, number]> = [];
      hot('----m----m').subscribe(() => {
        const m = bus.metrics().subscribers[0];
        samples.push([m?.lagMs ?? -1, m?.latency?.max ?? -1]);
      });
      flush();
      const [queued, direct] = bus.metrics().subscribers;
      // Deliveries to the queued subscriber: a at 5 (4 ms), b and c at 10 (8 and 7 ms).
      expect(queued?.latency).toEqual({
        count: 3,
        window: 3,
        p50: 7,
        p99: 8,
        max: 8,
        mean: 19 / 3,
      });
      expect(queued?.lagMs).toBe(0);
      // The direct subscriber got b at once.
      expect(direct?.latency).toMatchObject({ count: 1, max: 0 });
      expect(bus.metrics().latencyByKind).toEqual({
        a: expect.objectContaining({ count: 1, max: 4 }),
        b: expect.objectContaining({ count: 2, p50: 0, max: 8 }),
        c: expect.objectContaining({ count: 1, max: 7 }),
      });
      // At 4: a waits since 1 (3 ms), nothing delivered yet; at 9: b waits since 2 (7 ms).
      expect(samples).toEqual([
        [3, 0],
        [7, 4],
      ]);
    });
  });

  it('a subscriber reading the log lags by the age of the next frame it will read', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, flush }) => {
      const bus = new EventBus({ scheduler: testScheduler, metrics: { latency: true } });
      hot('-a-b').subscribe((kind) => bus.publish({ kind }));
      let lag = -1;
      hot('------s').subscribe(() => {
        const demand = new Subject<number>();
        bus
          .select({}, { after: 0, queue: { capacity: 1, overflow: 'drop-oldest', demand } })
          .subscribe();
        lag = bus.metrics().subscribers[0]?.lagMs ?? -1;
      });
      flush();
      expect(lag).toBe(5);
    });
  });

  it('is off by default, and its options are checked', () => {
    const bus = new EventBus();
    bus.select().subscribe();
    bus.publish({ kind: 'k' });
    expect(bus.metrics().subscribers[0]).not.toHaveProperty('latency');
    expect(bus.metrics()).not.toHaveProperty('latencyByKind');
    expect(() => new EventBus({ metrics: { latency: 'yes' as never } })).toThrow(
      'EventBus: metrics.latency must be true or false',
    );
    expect(() => new EventBus({ metrics: { latency: true, window: 0 } })).toThrow('metrics.window');
    expect(() => new EventBus({ metrics: 3 as never })).toThrow('EventBus metrics');
  });
});
