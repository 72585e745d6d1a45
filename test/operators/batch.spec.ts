import fc from 'fast-check';
import {
  animationFrameScheduler,
  asapScheduler,
  asyncScheduler,
  mergeMap,
  Observable,
  type OperatorFunction,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  take,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { classifyLetter } from '../../marbles/fixtures.js';
import { type BatchConfig, batch } from '../../src/operators/batch.js';

const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

describe('batch', () => {
  describe("RxJS's operator checklist", () => {
    it('does not break unsubscription chains', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('  --a--b--c--d--e--|');
        const sourceSubs = '  ^---------!       ';
        const unsub = '       ----------!       ';
        const expected = '    -----x-----       ';
        const result = source.pipe(
          mergeMap((value) => of(value)),
          batch({ maxSize: 2, maxWait: 100 }),
          mergeMap((value) => of(value)),
        );
        expectObservable(result, unsub).toBe(expected, { x: ['a', 'b'] });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('stops a synchronous infinite source when take() has enough', () => {
      let produced = 0;
      const endless = new Observable<number>((subscriber) => {
        for (let value = 0; !subscriber.closed && value < 1_000; value++) {
          produced++;
          subscriber.next(value);
        }
      });
      const received: number[][] = [];
      endless
        .pipe(batch({ maxSize: 2, maxWait: Number.POSITIVE_INFINITY }), take(2))
        .subscribe((values) => received.push(values));
      expect(received).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(produced).toBe(4);
    });

    it('a consumer pushing into the source while receiving a batch starts the next one', () => {
      const source = new Subject<string>();
      const received: string[][] = [];
      source.pipe(batch({ maxSize: 2, maxWait: Number.POSITIVE_INFINITY })).subscribe((values) => {
        received.push(values);
        if (values[0] === 'a') source.next('c');
      });
      source.next('a');
      source.next('b');
      source.next('d');
      source.complete();
      expect(received).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
    });

    it('a batch handed out is never changed afterwards', () => {
      const source = new Subject<string>();
      const received: string[][] = [];
      source.pipe(batch({ maxSize: 2, maxWait: 0 })).subscribe((values) => received.push(values));
      source.next('a');
      source.next('b');
      const first = received[0];
      source.next('c');
      source.complete();
      expect(first).toEqual(['a', 'b']);
      expect(received).toEqual([['a', 'b'], ['c']]);
    });

    it('reports a classifier that answers something else than the three classes', () => {
      const errors: unknown[] = [];
      const received: string[][] = [];
      of('a', 'b')
        .pipe(
          batch({
            maxSize: 5,
            maxWait: 10,
            classify: (value: string) => (value === 'b' ? ('final' as 'terminal') : 'normal'),
          }),
        )
        .subscribe({ next: (values) => received.push(values), error: (e) => errors.push(e) });
      expect(received).toEqual([['a']]);
      expect(errors).toEqual([
        new TypeError(
          `batch: classify must return 'terminal', 'progress' or 'normal', got "final"`,
        ),
      ]);
    });

    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
      ['animationFrameScheduler', animationFrameScheduler],
    ] as Array<[string, SchedulerLike]>)('measures maxWait on %s', async (_name, scheduler) => {
      const source = new Subject<number>();
      const received: number[][] = [];
      const done = new Promise<void>((resolve) => {
        source
          .pipe(batch({ maxSize: 10, maxWait: 1, scheduler }))
          .subscribe({ next: (values) => received.push(values), complete: resolve });
      });
      source.next(1);
      source.next(2);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(received).toEqual([[1, 2]]);
      source.next(3);
      source.complete();
      await done;
      expect(received).toEqual([[1, 2], [3]]);
    });
  });

  it('a timer counts from the first value of each batch, not from the previous batch', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold(' a-b-c---------d-e|');
      const expected = '    ----x------------(y|)';
      expectObservable(source.pipe(batch({ maxSize: 9, maxWait: 4 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
        y: ['d', 'e'],
      });
    });
  });

  it('matches a simple model: sizes, terminals and completion (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'p', 'T'), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (values, maxSize) => {
          const received: string[][] = [];
          of(...values)
            .pipe(batch({ maxSize, maxWait: Number.POSITIVE_INFINITY, classify: classifyLetter }))
            .subscribe((group) => received.push(group));
          const model: string[][] = [];
          let current: string[] = [];
          for (const value of values) {
            current.push(value);
            if (value === 'T' || current.length === maxSize) {
              model.push(current);
              current = [];
            }
          }
          if (current.length > 0) model.push(current);
          expect(received).toEqual(model);
        },
      ),
    );
  });

  describe('bad options', () => {
    const base = { maxSize: 4, maxWait: 10 };
    it.each([
      ['options null', null, TypeError, /^batch: options must be an object, got null$/],
      [
        'maxSize 0',
        { ...base, maxSize: 0 },
        RangeError,
        /^batch: maxSize must be a positive integer, got 0$/,
      ],
      ['maxSize 1.5', { ...base, maxSize: 1.5 }, RangeError, /maxSize .* got 1\.5/],
      [
        'maxWait missing',
        { maxSize: 2 },
        RangeError,
        /^batch: maxWait must be a non-negative number of ms, got undefined$/,
      ],
      ['maxWait negative', { ...base, maxWait: -1 }, RangeError, /maxWait .* got -1/],
      [
        'classify not a function',
        { ...base, classify: 'terminal' },
        TypeError,
        /^batch: classify must be a function, got "terminal"$/,
      ],
      ['scheduler', { ...base, scheduler: {} }, TypeError, /^batch: scheduler must be/],
    ])('%s throws at creation', (_name, config, type, message) => {
      expect(() => batch(config as BatchConfig<string>)).toThrow(type);
      expect(() => batch(config as BatchConfig<string>)).toThrow(message);
    });
  });

  it('emits arrays of the source type, even with a loosely typed classifier', () => {
    const events$ = new Observable<{ kind: string }>();
    expectTypeOf(
      events$.pipe(batch({ maxSize: 2, maxWait: 5, classify: (_value: unknown) => 'normal' })),
    ).toEqualTypeOf<Observable<{ kind: string }[]>>();
    expectTypeOf(batch<number>({ maxSize: 2, maxWait: 5 })).toEqualTypeOf<
      OperatorFunction<number, number[]>
    >();
  });
});
