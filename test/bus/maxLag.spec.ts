import { type Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { SlowConsumerError } from '../../src/core/SlowConsumerError.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A bus on `testScheduler` and a subscriber that never takes a frame, let go past 5 ms of lag. */
function stalledAtMs5(testScheduler: TestScheduler, demand: Observable<number>) {
  const bus = new EventBus({ scheduler: testScheduler });
  const frames$ = bus.select(
    {},
    { queue: { capacity: 10, overflow: 'drop-oldest', demand, maxLag: { ms: 5 } } },
  );
  return { bus, frames$ };
}

describe('queue.maxLag', () => {
  it('frames: a subscriber pushed more than `frames` since it last took one is let go', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const demand = new Subject<number>();
      hot('--x').subscribe(() => demand.next(1));
      const frames$ = bus.select(
        {},
        { queue: { capacity: 10, overflow: 'drop-oldest', demand, maxLag: { frames: 2 } } },
      );
      const values = { a: expect.objectContaining({ seq: 1 }) };
      const error = expect.objectContaining({
        name: 'SlowConsumerError',
        cursor: `${bus.epoch}:1`,
        lagFrames: 3,
      });
      expectObservable(frames$).toBe('--a--#', values, error);
      // 1 at 1; taken at 2; then 2, 3, 4 at 3, 4, 5 with nothing taken: the third is one too many.
      hot('-a-bcd').subscribe((kind) => bus.publish({ kind }));
    });
  });

  it('ms: the oldest frame held getting older than `ms` lets it go, even with nothing new', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const { bus, frames$ } = stalledAtMs5(testScheduler, hot('-'));
      expectObservable(frames$).toBe(
        '-------#',
        undefined,
        expect.objectContaining({ cursor: `${bus.epoch}:0`, lagFrames: 1, lagMs: 6 }),
      );
      hot('-a').subscribe((kind) => bus.publish({ kind }));
    });
  });

  it('ms: a frame exactly `ms` old is not yet too old', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const { bus, frames$ } = stalledAtMs5(testScheduler, hot('-'));
      // b's push at 6 finds a exactly 5 ms old: kept; the timer lets it go at 7 (6 ms old).
      expectObservable(frames$).toBe(
        '-------#',
        undefined,
        expect.objectContaining({ lagFrames: 2, lagMs: 6 }),
      );
      hot('-a----b').subscribe((kind) => bus.publish({ kind }));
    });
  });

  it('ms: once the oldest frame is taken, the timer watches the next oldest', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const bus = new EventBus({ scheduler: testScheduler });
      const demand = hot<number>('-----x', { x: 1 });
      const frames$ = bus.select(
        {},
        { queue: { capacity: 10, overflow: 'drop-oldest', demand, maxLag: { ms: 5 } } },
      );
      // a at 1, b at 4; a is taken at 5. At 7 the timer finds b 3 ms old and looks again when b
      // would be too old: 6 ms old, at 10.
      expectObservable(frames$).toBe(
        '-----a----#',
        { a: expect.objectContaining({ seq: 1 }) },
        expect.objectContaining({ cursor: `${bus.epoch}:1`, lagMs: 6 }),
      );
      hot('-a--b').subscribe((kind) => bus.publish({ kind }));
    });
  });

  it('a subscriber that keeps up is never let go, and its cursor resumes without loss', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const seen: number[] = [];
    let failure: unknown;
    bus
      .select(
        {},
        { queue: { capacity: 100, overflow: 'drop-oldest', demand, maxLag: { frames: 3 } } },
      )
      .subscribe({ next: (f) => seen.push(f.seq), error: (e) => (failure = e) });
    for (let i = 0; i < 9; i++) {
      bus.publish({ kind: 'k' });
      if (i % 3 === 2) demand.next(3);
    }
    expect(failure).toBeUndefined();
    for (let i = 0; i < 4; i++) bus.publish({ kind: 'k' });
    expect(failure).toBeInstanceOf(SlowConsumerError);
    const after = Number((failure as SlowConsumerError).cursor?.split(':')[1]);
    expect(after).toBe(seen.at(-1));
    const resumed: number[] = [];
    bus.select({}, { after }).subscribe((f) => resumed.push(f.seq));
    expect([...seen, ...resumed]).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('is checked at select, and refused with backpressure', () => {
    const bus = new EventBus();
    const queue = { capacity: 4, overflow: 'drop-oldest' } as const;
    expect(() => bus.select({}, { queue: { ...queue, maxLag: { frames: 0 } } })).toThrow(
      'EventBus.select queue: maxLag.frames',
    );
    expect(() => bus.select({}, { queue: { ...queue, maxLag: { ms: -1 } } })).toThrow(
      'maxLag.ms must be a positive number',
    );
    expect(() => bus.select({}, { queue: { ...queue, maxLag: {} } })).toThrow(
      'maxLag needs frames or ms',
    );
    expect(() =>
      bus.select({}, { queue: { capacity: 4, overflow: 'backpressure', maxLag: { frames: 2 } } }),
    ).toThrow("maxLag cannot be combined with overflow 'backpressure'");
  });
});

describe('queue.maxLag under re-entrance', () => {
  it('a subscriber let go whose error handler publishes leaves the others in seq order', () => {
    const bus = new EventBus();
    const others: number[] = [];
    let failure: unknown;
    bus
      .select(
        {},
        {
          queue: {
            capacity: 10,
            overflow: 'drop-oldest',
            demand: new Subject<number>(),
            maxLag: { frames: 1 },
          },
        },
      )
      .subscribe({
        error: (error) => {
          failure = error;
          bus.publish({ kind: 'after-eviction' });
        },
      });
    bus.select().subscribe((f) => others.push(f.seq));
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    expect(failure).toBeInstanceOf(SlowConsumerError);
    expect(others).toEqual([1, 2, 3]);
    expect(bus.metrics().subscribers).toHaveLength(1);
  });
});
