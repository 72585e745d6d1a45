import {
  map,
  NEVER,
  type Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  Subscription,
  tap,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type AutoscaleConfig, autoscale } from '../../src/operators/autoscale.js';
import type { DrainStats } from '../../src/operators/drainStats.js';
import { drainWith } from '../../src/operators/drainWith.js';

const newScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

/** A stats snapshot with `waiting` and `inFlight` as given (the rest does not matter here). */
const load = (waiting: number, inFlight: number): DrainStats => ({
  waiting,
  inFlight,
  concurrency: 0,
  completed: 0,
  failed: 0,
  retried: 0,
  deadLettered: 0,
  handlerMs: { count: 0, window: 0, p50: 0, p99: 0, max: 0, mean: 0 },
});

/** Concurrency values, by the digit that draws them. */
const N = { 1: 1, 2: 2, 3: 3, 4: 4 };

describe('autoscale', () => {
  describe('options', () => {
    it.each([
      [{ max: 0 }, RangeError, /autoscale: max must be a positive integer, got 0/],
      [{ max: 2, min: 0 }, RangeError, /autoscale: min must be a positive integer, got 0/],
      [{ max: 2, min: 3 }, RangeError, /autoscale: max must be at least min \(3\), got 2/],
      [{ max: 2, upAt: 0 }, RangeError, /autoscale: upAt must be a positive integer, got 0/],
      [
        { max: 2, upAt: 2, downAt: 2 },
        RangeError,
        /downAt must be an integer from 0 to upAt - 1 \(1\), got 2/,
      ],
      [{ max: 2, downAt: -1 }, RangeError, /downAt .* got -1/],
      [{ max: 2, downAt: 0.5 }, RangeError, /downAt .* got 0\.5/],
      [
        { max: 2, cooldown: -1 },
        RangeError,
        /autoscale: cooldown must be a non-negative number of ms, got -1/,
      ],
      [{ max: 2, scheduler: {} }, TypeError, /autoscale: scheduler must be a SchedulerLike/],
      [
        { max: Number.POSITIVE_INFINITY },
        RangeError,
        /max must be a positive integer, got Infinity/,
      ],
    ])('refuses %j at creation', (options, kind, message) => {
      const make = () => autoscale(NEVER, options as AutoscaleConfig);
      expect(make).toThrow(kind);
      expect(make).toThrow(message);
    });

    it('refuses options that are not an object', () => {
      expect(() => autoscale(NEVER, null as never)).toThrow(/autoscale: options must be an object/);
    });

    it('has the types a user relies on', () => {
      expectTypeOf(autoscale).returns.toEqualTypeOf<Observable<number>>();
      expectTypeOf<AutoscaleConfig['max']>().toEqualTypeOf<number>();
      expectTypeOf<AutoscaleConfig['cooldown']>().toEqualTypeOf<number | undefined>();
    });
  });

  describe('marbles', () => {
    it('starts at min, steps up while values wait and down while a slot idles, within the cooldown', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const stats = cold('-a-b-c------d-e-|', {
          a: load(2, 1),
          b: load(3, 1),
          c: load(4, 2),
          d: load(0, 1),
          e: load(0, 1),
        });
        const scaled = autoscale(stats, { min: 1, max: 3, upAt: 2, downAt: 0, cooldown: 2 });
        expectObservable(scaled).toBe('12-3--------2-1-|', N);
        expectSubscriptions(stats.subscriptions).toBe('^---------------!');
      });
    });

    it('without a cooldown each report may move it one step; min and max bound it', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const stats = cold('-abcdef|', {
          a: load(5, 1),
          b: load(5, 2),
          c: load(5, 2), // at max: stays
          d: load(0, 1), // an idle slot, nothing waits: down
          e: load(0, 0),
          f: load(0, 0), // at min: stays
        });
        expectObservable(autoscale(stats, { min: 1, max: 2 })).toBe('12--1--|', N);
      });
    });

    it('keeps a busy pool with an empty queue, and waits between downAt and upAt', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const stats = cold('-abcd|', {
          a: load(3, 1), // up to 3 (upAt 3)
          b: load(0, 3), // every slot busy: no change
          c: load(2, 3), // between downAt and upAt: no change
          d: load(1, 2), // at downAt with an idle slot: down
        });
        expectObservable(autoscale(stats, { min: 2, max: 4, upAt: 3, downAt: 1 })).toBe(
          '23--2|',
          N,
        );
      });
    });

    it('looks at the latest report again when the cooldown ends, so a steady backlog keeps scaling', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const stats = cold('-a------|', { a: load(9, 1) });
        expectObservable(autoscale(stats, { max: 4, cooldown: 2 })).toBe('12-3-4--|', N);
      });
    });

    it('passes an error of the stats on, and cancels the cooldown', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const stats = cold('-a-#', { a: load(1, 1) }, 'stats failed');
        expectObservable(autoscale(stats, { max: 3, cooldown: 5 })).toBe('12-#', N, 'stats failed');
      });
    });

    it('unsubscribing early unsubscribes the stats and cancels the cooldown timer', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const stats = cold('-a--------b', { a: load(1, 1), b: load(1, 1) });
        expectObservable(autoscale(stats, { max: 3, cooldown: 3 }), '--!').toBe('12', N);
        expectSubscriptions(stats.subscriptions).toBe('^-!');
      });
    });

    it('never stays at min; empty completes after min', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(autoscale(cold('-'), { max: 2 })).toBe('1', N);
        expectObservable(autoscale(cold('|'), { max: 2, min: 2 })).toBe('(2|)', N);
      });
    });
  });

  it('works under queueScheduler, whose cooldown timer runs at once outside a queue task', () => {
    const seen: number[] = [];
    const stats = of(load(3, 1), load(3, 2), load(0, 0));
    autoscale(stats, { max: 3, cooldown: 0, scheduler: queueScheduler }).subscribe((n) =>
      seen.push(n),
    );
    expect(seen).toEqual([1, 2, 3, 2]);
  });

  it('cancels a pending cooldown timer when it ends', () => {
    const timers: Subscription[] = [];
    const scheduler: SchedulerLike = {
      now: () => 0,
      schedule: () => {
        const pending = new Subscription();
        timers.push(pending);
        return pending;
      },
    };
    const stats = new Subject<DrainStats>();
    const subscription = autoscale(stats, { max: 3, cooldown: 5, scheduler }).subscribe();
    stats.next(load(1, 1));
    expect(timers.map((timer) => timer.closed)).toEqual([false]);
    subscription.unsubscribe();
    expect(timers.map((timer) => timer.closed)).toEqual([true]);
  });

  describe('wired to drainWith through a Subject', () => {
    it('scales a pool up under a burst and back down once it drains', () => {
      const seen: Array<[number, string]> = [];
      const limits: Array<[number, number]> = [];
      let running = 0;
      let most = 0;
      const testScheduler = newScheduler();
      testScheduler.run(({ cold }) => {
        const stats$ = new Subject<DrainStats>();
        const work = cold('----v|');
        const source = cold('-(abcdef)-------------------|');
        source
          .pipe(
            drainWith(
              (value) => {
                running++;
                most = Math.max(most, running);
                return work.pipe(
                  map(() => value),
                  tap({ complete: () => running-- }),
                );
              },
              {
                capacity: 8,
                overflow: 'error',
                concurrency: autoscale(stats$, { min: 1, max: 3, cooldown: 1 }).pipe(
                  tap((n) => limits.push([testScheduler.now(), n])),
                ),
                stats: stats$,
              },
            ),
          )
          .subscribe((value) => seen.push([testScheduler.now(), value]));
      });
      // Frame 1: a starts and five wait; the first report scales to 2 (b starts), the cooldown's
      // end to 3 (c starts); the slots then refill as they free, and the pool shrinks when idle.
      expect(seen).toEqual([
        [5, 'a'],
        [5, 'b'],
        [6, 'c'],
        [10, 'd'],
        [10, 'e'],
        [11, 'f'],
      ]);
      expect(limits).toEqual([
        [0, 1],
        [1, 2],
        [2, 3],
        [11, 2], // d and e done, f alone: an idle slot and nothing waiting
        [12, 1], // the cooldown over and f done
      ]);
      expect(most).toBe(3);
    });
  });
});
