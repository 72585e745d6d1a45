import fc from 'fast-check';
import {
  asapScheduler,
  asyncScheduler,
  BehaviorSubject,
  lastValueFrom,
  map,
  NEVER,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  tap,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DrainStats } from '../../src/operators/drainStats.js';
import { type DrainWithConfig, drainWith } from '../../src/operators/drainWith.js';

const newScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

const LOSSLESS = { capacity: 100, overflow: 'error' } as const;

/** A stats snapshot, zero where not given. */
const stats = (figures: Partial<DrainStats>): DrainStats => ({
  waiting: 0,
  inFlight: 0,
  concurrency: 1,
  completed: 0,
  failed: 0,
  retried: 0,
  deadLettered: 0,
  handlerMs: expect.any(Object),
  ...figures,
});

describe('drainWith as a pool of workers', () => {
  describe('options', () => {
    it.each([
      ['retry null', { retry: null }, TypeError, /drainWith: retry must be an object/],
      ['retry 3', { retry: 3 }, TypeError, /drainWith: retry must be an object .* got 3/],
      [
        'maxAttempts 0',
        { retry: { maxAttempts: 0 } },
        RangeError,
        /retry\.maxAttempts must be a positive integer or Infinity, got 0/,
      ],
      ['maxAttempts missing', { retry: {} }, RangeError, /retry\.maxAttempts .* got undefined/],
      [
        'backoff 5',
        { retry: { maxAttempts: 2, backoff: 5 } },
        TypeError,
        /drainWith: retry\.backoff must be a function, got 5/,
      ],
      [
        'deadLetter "log"',
        { deadLetter: 'log' },
        TypeError,
        /drainWith: deadLetter must be a function, got "log"/,
      ],
      [
        'timeout 0',
        { timeout: 0 },
        RangeError,
        /drainWith: timeout must be a positive number of ms or Infinity, got 0/,
      ],
      ['timeout NaN', { timeout: Number.NaN }, RangeError, /timeout .* got NaN/],
      ['timeout "5"', { timeout: '5' }, RangeError, /timeout .* got "5"/],
      [
        'stats {}',
        { stats: {} },
        TypeError,
        /drainWith: stats must be an Observer \(with next\), got \{\}/,
      ],
      ['stats null', { stats: null }, TypeError, /drainWith: stats must be an Observer/],
      [
        'scheduler {}',
        { scheduler: {} },
        TypeError,
        /drainWith: scheduler must be a SchedulerLike/,
      ],
      [
        'concurrency promise',
        { concurrency: Promise.resolve(2) },
        RangeError,
        /concurrency must be a positive integer or Infinity, got/,
      ],
    ])('refuses %s at creation', (_name, extra, kind, message) => {
      const make = () => drainWith(() => of(1), { ...LOSSLESS, ...(extra as object) });
      expect(make).toThrow(kind);
      expect(make).toThrow(message);
    });

    it('has the types a user relies on', () => {
      expectTypeOf<DrainWithConfig<string>['deadLetter']>().toEqualTypeOf<
        ((value: string, error: unknown, attempts: number) => void) | undefined
      >();
      expectTypeOf<Subject<DrainStats>>().toExtend<NonNullable<DrainWithConfig<string>['stats']>>();
      expectTypeOf<{ next: (s: DrainStats) => void }>().toExtend<
        NonNullable<DrainWithConfig<string>['stats']>
      >();
    });
  });

  describe('reactive concurrency', () => {
    it('an emission that is not a positive integer errors the output with a RangeError', () => {
      const errors: unknown[] = [];
      of(1, 2)
        .pipe(drainWith((v) => of(v), { ...LOSSLESS, concurrency: of(1.5) }))
        .subscribe({ error: (error) => errors.push(error) });
      expect(errors[0]).toBeInstanceOf(RangeError);
      expect(String(errors[0])).toMatch(/drainWith: concurrency must be .* got 1\.5/);
    });

    it('an error of the concurrency errors the output at once, cancelling the work in flight', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-ab---|');
        const limit = cold('1--#', { 1: 1 }, 'no limit');
        const work = cold('-----v|');
        expectObservable(
          source.pipe(drainWith(() => work, { ...LOSSLESS, concurrency: limit })),
        ).toBe('---#', undefined, 'no limit');
        expectSubscriptions(work.subscriptions).toBe('-^-!');
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('keeps the last value when the concurrency completes, and starts nothing before the first', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-abc----|');
        const limit = cold('--(2|)', { 2: 2 });
        const work = cold('---v|');
        expectObservable(
          source.pipe(
            drainWith((value) => work.pipe(map(() => value)), { ...LOSSLESS, concurrency: limit }),
          ),
        ).toBe('-----(ab)c|');
      });
    });

    it('goes from Infinity to a limit and back without losing count of the slots held', () => {
      const limit = new BehaviorSubject(Number.POSITIVE_INFINITY);
      const source = new Subject<number>();
      const pending: Array<Subject<number>> = [];
      const started: number[] = [];
      source
        .pipe(
          drainWith(
            (value) => {
              started.push(value);
              const work = new Subject<number>();
              pending.push(work);
              return work;
            },
            { ...LOSSLESS, concurrency: limit },
          ),
        )
        .subscribe();
      for (const value of [1, 2, 3]) source.next(value);
      expect(started).toEqual([1, 2, 3]);
      limit.next(2); // three held: nothing starts until only one is
      source.next(4);
      pending[0]?.complete();
      expect(started).toEqual([1, 2, 3]);
      pending[1]?.complete();
      expect(started).toEqual([1, 2, 3, 4]);
      limit.next(Number.POSITIVE_INFINITY);
      source.next(5);
      source.next(6);
      expect(started).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('unsubscribing unsubscribes the concurrency', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const limit = cold('1-2-3', { 1: 1, 2: 2, 3: 3 });
        expectObservable(
          NEVER.pipe(drainWith(() => of(1), { ...LOSSLESS, concurrency: limit })),
          '---!',
        ).toBe('---');
        expectSubscriptions(limit.subscriptions).toBe('^--!');
      });
    });

    it('property: no handler starts while the slots held reach the concurrency in force', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
          fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 0, max: 3 }),
          (limits, durations, gap) => {
            let running = 0;
            let inForce = 0;
            const breaches: string[] = [];
            const handled: number[] = [];
            newScheduler().run(({ cold }) => {
              const letter = (index: number): string => String.fromCharCode(97 + index);
              const limit = cold(
                limits.map((_, index) => letter(index)).join('-'.repeat(gap)),
                Object.fromEntries(limits.map((n, index) => [letter(index), n])),
              );
              const source = cold(
                durations.map((_, index) => letter(index)).join('-'),
                Object.fromEntries(durations.map((_, index) => [letter(index), index])),
              );
              source
                .pipe(
                  drainWith(
                    (value: number) => {
                      if (running >= inForce) breaches.push(`${value}: ${running} of ${inForce}`);
                      running++;
                      return timer(durations[value] ?? 1).pipe(
                        map(() => value),
                        tap({ complete: () => running-- }),
                      );
                    },
                    {
                      ...LOSSLESS,
                      concurrency: limit.pipe(
                        tap((n) => {
                          inForce = n;
                        }),
                      ),
                    },
                  ),
                )
                .subscribe((value) => handled.push(value));
            });
            expect(breaches).toEqual([]);
            expect([...handled].sort((x, y) => x - y)).toEqual(durations.map((_, index) => index));
          },
        ),
      );
    });
  });

  describe('stats', () => {
    it('times each attempt of the handler, completed or failed, on the scheduler', () => {
      const reports: DrainStats[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // Attempt 1 of a fails after 2; attempt 2 of a completes after 4; b completes after 1.
        let calls = 0;
        const output = cold('ab|').pipe(
          drainWith(
            (value: string) => {
              calls++;
              if (calls === 1) return cold('--#');
              return cold(value === 'a' ? '----(v|)' : '-(v|)', { v: value });
            },
            {
              ...LOSSLESS,
              concurrency: 2,
              retry: { maxAttempts: 2 },
              stats: { next: (figures) => reports.push(figures) },
            },
          ),
        );
        expectObservable(output).toBe('--b---(a|)');
      });
      expect(reports.at(-1)?.handlerMs).toEqual({
        count: 3,
        window: 3,
        p50: 2,
        p99: 4,
        max: 4,
        mean: 7 / 3,
      });
    });

    it('reports the figures when they change, at most once per frame, the last one before completing', () => {
      const reports: Array<[number, DrainStats]> = [];
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const work = cold('--v|');
        const output = cold('-a-b---|').pipe(
          drainWith((value: string) => work.pipe(map(() => value)), {
            ...LOSSLESS,
            stats: { next: (figures) => reports.push([scheduler.now(), figures]) },
          }),
        );
        expectObservable(output).toBe('---a--b|');
      });
      expect(reports).toEqual([
        [0, stats({})],
        [1, stats({ inFlight: 1 })],
        [3, stats({ waiting: 1, inFlight: 1 })],
        [4, stats({ inFlight: 1, completed: 1 })],
        [7, stats({ completed: 2 })],
      ]);
    });

    it('counts failed attempts, retries and dead letters, each when it happens', () => {
      const reports: Array<[number, DrainStats]> = [];
      const scheduler = newScheduler();
      scheduler.run(({ cold }) => {
        const failing = cold('-#', undefined, 'no');
        cold('-ab|')
          .pipe(
            drainWith((value: string) => (value === 'a' ? failing : of(value)), {
              ...LOSSLESS,
              retry: { maxAttempts: 2, backoff: () => 1 },
              deadLetter: () => {},
              stats: { next: (figures) => reports.push([scheduler.now(), figures]) },
            }),
          )
          .subscribe();
      });
      expect(reports).toEqual([
        [0, stats({})],
        [1, stats({ inFlight: 1 })],
        // a's first attempt failed; it holds its slot through the backoff, and b waits
        [2, stats({ waiting: 1, inFlight: 1, failed: 1 })],
        [3, stats({ waiting: 1, inFlight: 1, failed: 1, retried: 1 })],
        // the second attempt failed: a dead-lettered, b handled at once
        [4, stats({ completed: 1, failed: 2, retried: 1, deadLettered: 1 })],
      ]);
    });

    it('reports concurrency 0 until a reactive concurrency emits, then its value', () => {
      const reports: Array<[number, number]> = [];
      const scheduler = newScheduler();
      scheduler.run(({ cold }) => {
        cold('-a|')
          .pipe(
            drainWith((value: string) => of(value), {
              ...LOSSLESS,
              concurrency: cold('--3', { 3: 3 }),
              stats: { next: (figures) => reports.push([scheduler.now(), figures.concurrency]) },
            }),
          )
          .subscribe();
      });
      expect(reports).toEqual([
        [0, 0],
        [1, 0],
        [2, 3],
      ]);
    });

    it('a throwing stats observer errors the output with what it threw', () => {
      const broken = new Error('dashboard down');
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-|');
        const output = source.pipe(
          drainWith((value: string) => of(value), {
            ...LOSSLESS,
            stats: {
              next: (figures) => {
                if (figures.completed > 0) throw broken;
              },
            },
          }),
        );
        // a completes at 1; the report of that frame throws.
        expectObservable(output).toBe('-(a#)', undefined, broken);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('a stats observer throwing at the last report errors the output instead of completing', () => {
      const broken = new Error('dashboard down');
      const seen: unknown[] = [];
      of('a')
        .pipe(
          drainWith((value: string) => of(value), {
            ...LOSSLESS,
            scheduler: queueScheduler,
            stats: {
              next: (figures) => {
                if (figures.completed > 0) throw broken;
              },
            },
          }),
        )
        .subscribe({ next: (value) => seen.push(value), error: (error) => seen.push(error) });
      expect(seen).toEqual(['a', broken]);
    });

    it('reports nothing after an unsubscribe, and nothing that did not change', () => {
      const reports: number[] = [];
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const output = cold('-a-b-c').pipe(
          drainWith(() => NEVER, {
            ...LOSSLESS,
            capacity: 1,
            overflow: 'drop-incoming',
            stats: { next: () => reports.push(scheduler.now()) },
          }),
        );
        expectObservable(output, '----!').toBe('-');
      });
      // 0: start; 1: a starts; 3: b waits; (c is dropped at 5, after the unsubscribe)
      expect(reports).toEqual([0, 1, 3]);
    });

    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ] as Array<[string, SchedulerLike]>)(
      'ends with the final figures on %s',
      async (_name, scheduler) => {
        const reports: DrainStats[] = [];
        const out = await lastValueFrom(
          of(1, 2, 3, 4).pipe(
            drainWith((value: number) => Promise.resolve(value), {
              ...LOSSLESS,
              concurrency: 2,
              scheduler,
              stats: { next: (figures) => reports.push(figures) },
            }),
            toArray(),
          ),
        );
        expect(out).toEqual([1, 2, 3, 4]);
        expect(reports.at(-1)).toEqual(stats({ completed: 4, concurrency: 2 }));
      },
    );
  });
});
