import fc from 'fast-check';
import {
  asapScheduler,
  asyncScheduler,
  defer,
  lastValueFrom,
  mergeMap,
  NEVER,
  Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  take,
  throwError,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { HandlerTimeoutError } from '../../src/core/HandlerTimeoutError.js';
import { drainWith } from '../../src/operators/drainWith.js';

const newScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

const LOSSLESS = { capacity: 100, overflow: 'error' } as const;

/** Records every dead letter as [value, error message, attempts]. */
function deadLetters(): {
  log: Array<[unknown, string, number]>;
  deadLetter: (value: unknown, error: unknown, attempts: number) => void;
} {
  const log: Array<[unknown, string, number]> = [];
  return {
    log,
    deadLetter: (value, error, attempts) =>
      log.push([value, error instanceof Error ? error.message : String(error), attempts]),
  };
}

describe('drainWith failure handling', () => {
  describe('retry', () => {
    it('calls the handler again with the attempt number, the same index, after each backoff', () => {
      const calls: string[] = [];
      const waits: number[] = [];
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold('-ab-------------|');
        const output = source.pipe(
          drainWith(
            (value: string, index, attempt) => {
              calls.push(`${value}${index}#${attempt}@${scheduler.now()}`);
              return value === 'a' && attempt < 3
                ? throwError(() => new Error('flaky'))
                : of(value);
            },
            {
              ...LOSSLESS,
              retry: {
                maxAttempts: 3,
                backoff: (attempt) => {
                  waits.push(attempt);
                  return attempt * 2;
                },
              },
            },
          ),
        );
        // a fails at 1 and at 3 (after 2), succeeds at 7 (after 4); b waits for the slot.
        expectObservable(output).toBe('-------(ab)-----|');
      });
      expect(calls).toEqual(['a0#1@1', 'a0#2@3', 'a0#3@7', 'b1#1@7']);
      expect(waits).toEqual([1, 2]);
    });

    it('retries a handler that throws and one whose promise rejects', async () => {
      let thrown = 0;
      let rejected = 0;
      const results = await lastValueFrom(
        of('throw', 'reject').pipe(
          drainWith(
            (value: string) => {
              if (value === 'throw' && thrown++ === 0) throw new Error('sync');
              if (value === 'reject' && rejected++ === 0) return Promise.reject(new Error('async'));
              return Promise.resolve(value);
            },
            { ...LOSSLESS, concurrency: 2, retry: { maxAttempts: 2 } },
          ),
          toArray(),
        ),
      );
      expect(results.sort()).toEqual(['reject', 'throw']);
      expect([thrown, rejected]).toEqual([2, 2]);
    });

    it('passes on what a failed attempt emitted before failing: delivery is at least once', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const first = cold('-x#', { x: 'partial' }, 'cut');
        const second = cold('-y|', { y: 'whole' });
        let attempts = 0;
        const output = cold('-a---|').pipe(
          drainWith(() => (attempts++ === 0 ? first : second), {
            ...LOSSLESS,
            retry: { maxAttempts: 2, backoff: () => 1 },
          }),
        );
        expectObservable(output).toBe('--x--y|', { x: 'partial', y: 'whole' });
      });
    });

    it('keeps the slot during the backoff: the next value waits', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const failing = cold('#', undefined, 'down');
        const work = cold('-v|');
        const output = cold('-ab|').pipe(
          drainWith(
            (value: string, _i, attempt) => (value === 'a' && attempt === 1 ? failing : work),
            {
              ...LOSSLESS,
              retry: { maxAttempts: 2, backoff: () => 5 },
            },
          ),
        );
        expectObservable(output).toBe('-------v-v|');
        expectSubscriptions(work.subscriptions).toBe(['------^-!', '--------^-!']);
      });
    });

    it('without deadLetter the last failure errors the output, cancelling the work in flight', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const slow = cold('------v|');
        const failing = cold('-#', undefined, 'gave up');
        const output = cold('-ab|').pipe(
          drainWith((value: string) => (value === 'a' ? failing : slow), {
            ...LOSSLESS,
            concurrency: 2,
            retry: { maxAttempts: 2, backoff: () => 1 },
          }),
        );
        expectObservable(output).toBe('----#', undefined, 'gave up');
        expectSubscriptions(slow.subscriptions).toBe('--^-!');
      });
    });

    it('maxAttempts Infinity tries until an attempt succeeds', async () => {
      let calls = 0;
      const out = await lastValueFrom(
        of('x').pipe(
          drainWith(() => (++calls < 50 ? throwError(() => new Error('no')) : of(calls)), {
            ...LOSSLESS,
            retry: { maxAttempts: Number.POSITIVE_INFINITY },
            scheduler: queueScheduler,
          }),
        ),
      );
      expect(out).toBe(50);
    });

    it.each([
      ['-1', -1],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['"5"', '5'],
    ])(
      'a backoff answering %s errors the output with a RangeError naming retry.backoff',
      (name, answer) => {
        const errors: unknown[] = [];
        of(1)
          .pipe(
            drainWith(() => throwError(() => new Error('no')), {
              ...LOSSLESS,
              retry: { maxAttempts: 2, backoff: () => answer as number },
            }),
          )
          .subscribe({ error: (error) => errors.push(error) });
        expect(errors[0]).toBeInstanceOf(RangeError);
        expect(String(errors[0])).toContain(
          `drainWith: retry.backoff(1) must be a finite number of ms >= 0, got ${name}`,
        );
      },
    );

    it('a backoff that throws errors the output with what it threw', () => {
      const errors: unknown[] = [];
      const broken = new Error('backoff broke');
      of(1)
        .pipe(
          drainWith(() => throwError(() => new Error('no')), {
            ...LOSSLESS,
            retry: {
              maxAttempts: 2,
              backoff: () => {
                throw broken;
              },
            },
          }),
        )
        .subscribe({ error: (error) => errors.push(error) });
      expect(errors).toEqual([broken]);
    });

    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ] as Array<[string, SchedulerLike]>)('retries on %s', async (_name, scheduler) => {
      const failures = new Map<number, number>([
        [1, 2],
        [3, 1],
      ]);
      const dead = deadLetters();
      const out = await lastValueFrom(
        of(1, 2, 3, 4).pipe(
          drainWith(
            (value: number, _index, attempt) =>
              attempt <= (failures.get(value) ?? 0)
                ? throwError(() => new Error(`f${value}`))
                : of(value),
            {
              ...LOSSLESS,
              concurrency: 2,
              retry: { maxAttempts: 2, backoff: () => 1 },
              scheduler,
              ...dead,
            },
          ),
          toArray(),
        ),
      );
      expect(out.sort()).toEqual([2, 3, 4]);
      expect(dead.log).toEqual([[1, 'f1', 2]]);
    });
  });

  describe('deadLetter', () => {
    it('without retry, receives a failed value after its one attempt, and the output goes on', () => {
      const dead = deadLetters();
      const out: number[] = [];
      let completed = false;
      of(1, 2, 3)
        .pipe(
          drainWith(
            (value: number) => (value === 2 ? throwError(() => new Error('two')) : of(value)),
            {
              ...LOSSLESS,
              deadLetter: dead.deadLetter,
            },
          ),
        )
        .subscribe({ next: (value) => out.push(value), complete: () => (completed = true) });
      expect(out).toEqual([1, 3]);
      expect(dead.log).toEqual([[2, 'two', 1]]);
      expect(completed).toBe(true);
    });

    it('a throwing deadLetter errors the output with what it threw', () => {
      const errors: unknown[] = [];
      const broken = new Error('dead letter queue down');
      of(1, 2)
        .pipe(
          drainWith(() => throwError(() => new Error('no')), {
            ...LOSSLESS,
            deadLetter: () => {
              throw broken;
            },
          }),
        )
        .subscribe({ error: (error) => errors.push(error) });
      expect(errors).toEqual([broken]);
    });

    it('a value pushed into the source from deadLetter is handled after, once', () => {
      const source = new Subject<number>();
      const handled: number[] = [];
      source
        .pipe(
          drainWith(
            (value: number) => {
              handled.push(value);
              return value < 0 ? throwError(() => new Error('negative')) : of(value);
            },
            { ...LOSSLESS, deadLetter: (value) => source.next(-(value as number) * 10) },
          ),
        )
        .subscribe();
      source.next(-1);
      source.next(2);
      expect(handled).toEqual([-1, 10, 2]);
    });

    it('unsubscribing from inside deadLetter stops everything', () => {
      const source = new Subject<number>();
      const handled: number[] = [];
      const subscription = source
        .pipe(
          drainWith(
            (value: number) => {
              handled.push(value);
              return throwError(() => new Error('no'));
            },
            { ...LOSSLESS, deadLetter: () => subscription.unsubscribe() },
          ),
        )
        .subscribe();
      source.next(1);
      source.next(2);
      expect(handled).toEqual([1]);
      expect(source.observed).toBe(false);
    });
  });

  describe('timeout', () => {
    it('fails an attempt with a HandlerTimeoutError that names the value, the attempt and the limit', () => {
      const dead = deadLetters();
      const errors: unknown[] = [];
      newScheduler().run(({ cold }) => {
        cold('-a|')
          .pipe(
            drainWith(() => NEVER, {
              ...LOSSLESS,
              timeout: 5,
              retry: { maxAttempts: 2 },
              deadLetter: (value, error, attempts) => {
                errors.push(error);
                dead.deadLetter(value, error, attempts);
              },
            }),
          )
          .subscribe();
      });
      expect(dead.log).toEqual([
        ['a', 'drainWith: the handler did not settle within 5 ms (attempt 2 on "a")', 2],
      ]);
      const error = errors[0] as HandlerTimeoutError<string>;
      expect(error).toBeInstanceOf(HandlerTimeoutError);
      expect(error.name).toBe('HandlerTimeoutError');
      expect([error.value, error.attempt, error.timeout]).toEqual(['a', 2, 5]);
    });

    it('is disarmed by work that settles in time, also synchronously', () => {
      const dead = deadLetters();
      newScheduler().run(({ cold, expectObservable }) => {
        const work = cold('--v|');
        const output = cold('-ab|').pipe(
          drainWith((value: string) => (value === 'a' ? of('sync') : work), {
            ...LOSSLESS,
            timeout: 3,
            deadLetter: dead.deadLetter,
          }),
        );
        expectObservable(output).toBe('-s--v|', { s: 'sync', v: 'v' });
      });
      expect(dead.log).toEqual([]);
    });

    it('unsubscribing cancels the timeout and backoff timers', () => {
      const scheduler = newScheduler();
      let calls = 0;
      scheduler.run(({ cold, expectObservable }) => {
        const output = cold('-ab').pipe(
          drainWith(
            (value: string) => {
              calls++;
              return value === 'a' ? throwError(() => new Error('no')) : NEVER;
            },
            {
              ...LOSSLESS,
              concurrency: 2,
              timeout: 3,
              retry: { maxAttempts: 3, backoff: () => 4 },
            },
          ),
        );
        expectObservable(output, '---!').toBe('---');
      });
      expect(calls).toBe(2);
    });
  });

  describe("RxJS's checklist with failure handling on", () => {
    const options = {
      ...LOSSLESS,
      retry: { maxAttempts: 2, backoff: () => 1 },
      deadLetter: () => {},
      timeout: 10,
    };

    it('never stays silent, empty completes, an error waits for the values being retried', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const handler = (value: string, _index: number, attempt: number) =>
          attempt === 1 ? throwError(() => new Error('once')) : of(value);
        expectObservable(cold('-').pipe(drainWith(handler, options))).toBe('-');
        expectObservable(cold('|').pipe(drainWith(handler, options))).toBe('|');
        // a fails at 1, runs again at 2 and succeeds: the source's error follows it
        expectObservable(cold('-a#', undefined, 'boom').pipe(drainWith(handler, options))).toBe(
          '--(a#)',
          undefined,
          'boom',
        );
      });
    });

    it('a synchronous endless source is stopped by take', () => {
      const endless = new Observable<number>((subscriber) => {
        for (let value = 0; !subscriber.closed; value++) subscriber.next(value);
      });
      const out: number[] = [];
      endless
        .pipe(
          drainWith((value: number) => (value % 2 ? throwError(() => 'odd') : of(value)), {
            ...options,
            concurrency: Number.POSITIVE_INFINITY,
            retry: { maxAttempts: 1 },
          }),
          take(3),
        )
        .subscribe((value) => out.push(value));
      expect(out).toEqual([0, 2, 4]);
    });

    it('unsubscription chains are not broken by mergeMap before and after', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-');
        const work = cold('-#', undefined, 'no');
        const output = source.pipe(
          mergeMap((value) => of(value)),
          drainWith(() => work, { ...options, concurrency: 2 }),
          mergeMap((value) => of(value)),
        );
        expectObservable(output, '----!').toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^---!');
        // a at 1 (fails at 2, again at 3), b at 3; the unsubscribe at 4 cancels the retries to come
        expectSubscriptions(work.subscriptions).toBe(['-^!', '---^!', '---^!']);
      });
    });
  });

  describe('property: any failure script matches the reference model', () => {
    it('each value ends completed or dead-lettered after the attempts the model says', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 20 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.boolean(),
          (failuresPerValue, maxAttempts, concurrency, asynchronous) => {
            const delivered: number[] = [];
            const dead: Array<[number, number]> = [];
            const attemptsSeen = new Map<number, number>();
            newScheduler().run(({ cold }) => {
              const work = (value: number): Observable<number> =>
                asynchronous ? cold('-v|', { v: value }) : of(value);
              const failure: Observable<number> = asynchronous
                ? cold<number>('-#', undefined, 'x')
                : throwError(() => 'x');
              defer(() => of(...failuresPerValue.map((_, index) => index)))
                .pipe(
                  drainWith(
                    (value: number, index, attempt) => {
                      expect(index).toBe(value);
                      attemptsSeen.set(value, attempt);
                      return attempt <= (failuresPerValue[value] ?? 0) ? failure : work(value);
                    },
                    {
                      ...LOSSLESS,
                      concurrency,
                      retry: { maxAttempts, backoff: (attempt) => attempt % 2 },
                      deadLetter: (value, _error, attempts) =>
                        dead.push([value as number, attempts]),
                    },
                  ),
                )
                .subscribe((value) => delivered.push(value));
            });
            const model = failuresPerValue.map((failures, value) =>
              failures < maxAttempts
                ? { value, delivered: true, attempts: failures + 1 }
                : { value, delivered: false, attempts: maxAttempts },
            );
            expect([...delivered].sort((a, b) => a - b)).toEqual(
              model.filter((m) => m.delivered).map((m) => m.value),
            );
            expect([...dead].sort((a, b) => a[0] - b[0])).toEqual(
              model.filter((m) => !m.delivered).map((m) => [m.value, m.attempts]),
            );
            for (const m of model) expect(attemptsSeen.get(m.value)).toBe(m.attempts);
          },
        ),
      );
    });
  });
});
