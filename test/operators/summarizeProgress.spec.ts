import fc from 'fast-check';
import {
  animationFrames,
  asapScheduler,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  NEVER,
  Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  take,
  VirtualTimeScheduler,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { classifyLetter } from '../../marbles/fixtures.js';
import { laneOf } from '../../marbles/summarizeProgress.js';
import type { EventClass } from '../../src/core/types.js';
import {
  type SummarizeProgressConfig,
  summarizeProgress,
} from '../../src/operators/summarizeProgress.js';

/** Moves a virtual clock to `time`, running every action due until then. */
function advanceTo(scheduler: VirtualTimeScheduler, time: number): void {
  scheduler.maxFrames = time;
  scheduler.flush();
  scheduler.frame = time;
}

const concatStrings = (acc: string, next: string): string => acc + next;
const base = { classify: classifyLetter, merge: concatStrings, key: laneOf };

describe('summarizeProgress', () => {
  describe('options', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['options', null, /summarizeProgress: options must be an object, got null/],
      ['classify', { ...base, classify: 1 }, /classify must be a function, got 1/],
      ['merge', { ...base, merge: 'x' }, /merge must be a function, got "x"/],
      ['key', { ...base, key: 3 }, /key must be a function, got 3/],
      ['scope', { ...base, scope: {} }, /scope must be a function, got \{\}/],
      ['maxMerged 0', { ...base, maxMerged: 0 }, /maxMerged must be a positive integer/],
      ['maxMerged 1.5', { ...base, maxMerged: 1.5 }, /maxMerged must be a positive integer/],
      ['maxMerged NaN', { ...base, maxMerged: Number.NaN }, /got NaN/],
      ['window -1', { ...base, window: -1 }, /window must be a non-negative number.*got -1/],
      ['window NaN', { ...base, window: Number.NaN }, /window must be .*got NaN/],
      ['window object', { ...base, window: { not: 'observable' } }, /window must be .*got \{/],
      ['window null', { ...base, window: null }, /window must be an ObservableInput, got null/],
      ['scheduler', { ...base, scheduler: {} }, /scheduler must be a SchedulerLike.*got \{\}/],
      ['scheduler null', { ...base, scheduler: null }, /scheduler must be a SchedulerLike.*null/],
      [
        'leading',
        { ...base, leading: 1 },
        /summarizeProgress: leading must be true or false, got 1/,
      ],
      [
        'maxWait 0',
        { ...base, maxWait: 0 },
        /summarizeProgress: maxWait must be a positive number of ms, got 0/,
      ],
      ['maxWait NaN', { ...base, maxWait: Number.NaN }, /maxWait must be .*got NaN/],
    ];
    it.each(bad)('rejects a bad %s at creation, naming it', (_name, options, message) => {
      expect(() => summarizeProgress(options as SummarizeProgressConfig<string>)).toThrow(message);
    });

    it('throws RangeError for out-of-range numbers and TypeError for wrong types', () => {
      expect(() => summarizeProgress({ ...base, window: -5 })).toThrow(RangeError);
      expect(() => summarizeProgress({ ...base, maxMerged: -1 })).toThrow(RangeError);
      expect(() => summarizeProgress({ ...base, merge: undefined as never })).toThrow(TypeError);
      expect(() => summarizeProgress({ ...base, window: { a: 1 } as never })).toThrow(TypeError);
    });

    it('keeps the default scheduler for an undefined scheduler', () => {
      expect(() => summarizeProgress({ ...base, scheduler: undefined })).not.toThrow();
    });

    it('accepts Infinity for window and maxMerged, and any ObservableInput as window', () => {
      expect(() =>
        summarizeProgress({
          ...base,
          window: Number.POSITIVE_INFINITY,
          maxMerged: Number.POSITIVE_INFINITY,
        }),
      ).not.toThrow();
      expect(() => summarizeProgress({ ...base, window: animationFrames() })).not.toThrow();
      expect(() => summarizeProgress({ ...base, window: Promise.resolve(1) })).not.toThrow();
      expect(() => summarizeProgress({ ...base, window: [1] })).not.toThrow();
    });

    it('is typed as a MonoTypeOperatorFunction of the value type', () => {
      const operator = summarizeProgress<{ text: string }>({
        classify: () => 'progress',
        merge: (a, b) => ({ text: a.text + b.text }),
      });
      expectTypeOf(operator).toEqualTypeOf<MonoTypeOperatorFunction<{ text: string }>>();
      expectTypeOf<SummarizeProgressConfig<number>['merge']>().toEqualTypeOf<
        (acc: number, next: number) => number
      >();
    });
  });

  describe('leading and maxWait', () => {
    it('leading: a non-progress value closes its key’s window, so the next progress value leads again', () => {
      const received: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY, leading: true }))
        .subscribe((value) => received.push(value));
      for (const value of ['p1', 'q1', 'r1', 'a1', 's1', 'p2']) source.next(value);
      source.complete();
      expect(received).toEqual(['p1', 'q1r1', 'a1', 's1', 'p2']);
    });

    it('leading with maxMerged 1 passes every progress value at once', () => {
      const received: string[] = [];
      of('p1', 'q1', 'r1')
        .pipe(summarizeProgress({ ...base, window: 10, leading: true, maxMerged: 1 }))
        .subscribe((value) => received.push(value));
      expect(received).toEqual(['p1', 'q1', 'r1']);
    });

    it('maxWait with a numeric window takes the shorter of the two', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable }) => {
          const source = cold('-p-q-----|', { p: 'p1', q: 'q1' });
          expectObservable(
            source.pipe(summarizeProgress({ ...base, window: 10, maxWait: 3 })),
          ).toBe('----x----|', { x: 'p1q1' });
        },
      );
    });

    it('a leading window under maxWait and a notifier leaves no timer once nothing is pending', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const received: string[] = [];
      source
        .pipe(summarizeProgress({ ...base, window: NEVER, maxWait: 5, leading: true, scheduler }))
        .subscribe((value) => received.push(value));
      source.next('p1');
      advanceTo(scheduler, 10);
      expect(received).toEqual(['p1']);
      expect(scheduler.actions.filter((action) => !action.closed)).toHaveLength(0);
      source.next('q1');
      expect(received).toEqual(['p1', 'q1']);
    });
  });

  describe("RxJS's operator checklist", () => {
    it('stops a synchronous infinite source when take() has enough', () => {
      let produced = 0;
      const endless = new Observable<string>((subscriber) => {
        for (let index = 0; !subscriber.closed && index < 10_000; index++) {
          produced++;
          subscriber.next(index % 3 === 2 ? 'a1' : 'p1');
        }
      });
      const received: string[] = [];
      endless
        .pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY }), take(3))
        .subscribe((value) => received.push(value));
      expect(received).toEqual(['p1p1', 'a1', 'p1p1']);
      expect(produced).toBe(6);
    });

    it('handles a re-entrant next after the current emission, in source order', () => {
      const source = new Subject<string>();
      const received: string[] = [];
      source.pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY })).subscribe({
        next: (value) => {
          received.push(value);
          // Pushed while the summary before `a1` is being delivered: must come after `a1`.
          if (value === 'p1q1') {
            source.next('b1');
            source.next('r1');
          }
        },
        complete: () => received.push('|'),
      });
      source.next('p1');
      source.next('q1');
      source.next('a1');
      source.next('s1');
      source.complete();
      expect(received).toEqual(['p1q1', 'a1', 'b1', 'r1s1', '|']);
    });

    it('throws nothing into a Subject when take() below ends the stream amid re-entrant values', () => {
      const source = new Subject<string>();
      const taken: string[] = [];
      const later: string[] = [];
      source
        .pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY }), take(2))
        .subscribe((value) => {
          taken.push(value);
          if (value === 'a1') {
            source.next('b1');
            source.next('c1');
          }
        });
      source.subscribe((value) => later.push(value));
      expect(() => {
        source.next('a1');
        source.next('d1');
      }).not.toThrow();
      expect(taken).toEqual(['a1', 'b1']);
      expect(later).toEqual(['b1', 'c1', 'a1', 'd1']);
      expect(source.observers).toHaveLength(1);
    });

    it('throws nothing into the scheduler when take() below ends the stream amid a timed flush', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const taken: string[] = [];
      const later: string[] = [];
      source
        .pipe(summarizeProgress({ ...base, window: 5, scheduler }), take(2))
        .subscribe((value) => {
          taken.push(value);
          if (value === 'p1') {
            source.next('b1');
            source.next('c1');
          }
        });
      source.subscribe((value) => later.push(value));
      source.next('p1');
      expect(() => scheduler.flush()).not.toThrow();
      expect(taken).toEqual(['p1', 'b1']);
      expect(later).toEqual(['p1', 'b1', 'c1']);
      expect(scheduler.actions).toHaveLength(0);
    });

    it('ends in order when the source completes from inside a downstream next', () => {
      const source = new Subject<string>();
      const received: string[] = [];
      source.pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY })).subscribe({
        next: (value) => {
          received.push(value);
          if (value === 'a1') {
            source.next('p1');
            source.next('b2');
            source.complete();
          }
        },
        complete: () => received.push('|'),
      });
      expect(() => {
        source.next('q1');
        source.next('a1');
      }).not.toThrow();
      expect(received).toEqual(['q1', 'a1', 'b2', 'p1', '|']);
    });

    it('errors with what a throwing classifier threw, after the pending summaries', () => {
      const received: unknown[] = [];
      of('p1', 'q2', 'x')
        .pipe(
          summarizeProgress({
            ...base,
            classify: (value) => {
              if (value === 'x') throw new Error('classify failed');
              return classifyLetter(value);
            },
            window: Number.POSITIVE_INFINITY,
          }),
        )
        .subscribe({ next: (value) => received.push(value), error: (e) => received.push(e) });
      expect(received).toEqual(['p1', 'q2', new Error('classify failed')]);
    });

    it('errors with what a throwing scope threw', () => {
      const received: unknown[] = [];
      of('p1', 'a1')
        .pipe(
          summarizeProgress({
            ...base,
            scope: (value) => {
              if (value === 'a1') throw new Error('scope failed');
              return laneOf(value);
            },
            window: Number.POSITIVE_INFINITY,
          }),
        )
        .subscribe({ next: (value) => received.push(value), error: (e) => received.push(e) });
      expect(received).toEqual(['p1', new Error('scope failed')]);
    });

    it('flushes the pending summaries before an error of the notifier', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable }) => {
          const source = cold('-p-q-----|', { p: 'p1', q: 'q2' });
          const notifier = cold('---#', undefined, 'tick failed');
          expectObservable(source.pipe(summarizeProgress({ ...base, window: notifier }))).toBe(
            '----(pq#)',
            { p: 'p1', q: 'q2' },
            'tick failed',
          );
        },
      );
    });

    it('flushes on animationFrames(), requesting frames only while something is pending', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ animate, cold, expectObservable }) => {
          // Frames at 3, 7, 11, 15, 19. q2 and r1 arrive on a frame's tick, after its callbacks
          // ran: they wait for the next frame.
          animate('            ---x---x---x---x---x');
          const source = cold('-p-q-a-----r-------|', { p: 'p1', q: 'q2', a: 'a1', r: 'r1' });
          const expected = '   ---p-a-q-------r---|';
          expectObservable(
            source.pipe(summarizeProgress({ ...base, window: animationFrames() })),
          ).toBe(expected, { p: 'p1', a: 'a1', q: 'q2', r: 'r1' });
        },
      );
    });

    it('handles a synchronous notifier: every progress value is flushed as it arrives', () => {
      const received: string[] = [];
      of('p1', 'q1', 'a1', 'r2')
        .pipe(summarizeProgress({ ...base, window: of(0) }))
        .subscribe((value) => received.push(value));
      expect(received).toEqual(['p1', 'q1', 'a1', 'r2']);
    });
  });

  describe('numeric windows on every scheduler', () => {
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        setTimeout(resolve, ms);
      });

    /** A burst, a wait past its window, then a second burst that complete ends. */
    async function twoBursts(
      scheduler: SchedulerLike,
      window: number,
    ): Promise<{ atOnce: string[]; afterWindow: string[]; atEnd: string[] }> {
      const source = new Subject<string>();
      const received: string[] = [];
      source.pipe(summarizeProgress({ ...base, window, scheduler })).subscribe({
        next: (value) => received.push(value),
        complete: () => received.push('|'),
      });
      source.next('p1');
      source.next('q1');
      source.next('r2');
      const atOnce = [...received];
      await sleep(window + 40);
      const afterWindow = [...received];
      source.next('s1');
      source.next('a1');
      source.next('p2');
      source.complete();
      return { atOnce, afterWindow, atEnd: received };
    }

    const schedulers: Array<[string, SchedulerLike]> = [
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ];

    it.each(schedulers)(
      'on %s, a burst is merged until its window closes',
      async (_n, scheduler) => {
        const { atOnce, afterWindow, atEnd } = await twoBursts(scheduler, 5);
        expect(atOnce).toEqual([]);
        expect(afterWindow).toEqual(['p1q1', 'r2']);
        expect(atEnd).toEqual(['p1q1', 'r2', 's1', 'a1', 'p2', '|']);
      },
    );

    it.each(schedulers.slice(1))(
      'on %s, window 0 merges a synchronous burst and emits it in the next task',
      async (_n, scheduler) => {
        const { atOnce, afterWindow } = await twoBursts(scheduler, 0);
        expect(atOnce).toEqual([]);
        expect(afterWindow).toEqual(['p1q1', 'r2']);
      },
    );

    it('on queueScheduler, window 0 closes at once: each progress value leaves as it arrives', () => {
      const source = new Subject<string>();
      const received: string[] = [];
      source
        .pipe(summarizeProgress({ ...base, window: 0, scheduler: queueScheduler }))
        .subscribe((value) => received.push(value));
      for (const value of ['p1', 'q1', 'r2', 'a1']) {
        source.next(value);
        expect(received.at(-1)).toBe(value);
      }
      expect(received).toEqual(['p1', 'q1', 'r2', 'a1']);
    });

    it('on a TestScheduler given as the scheduler, a window is counted in virtual frames', () => {
      const testScheduler = new TestScheduler((actual, expected) =>
        expect(actual).toEqual(expected),
      );
      testScheduler.run(({ cold, expectObservable }) => {
        const source = cold('-p-q-r-------|', { p: 'p1', q: 'q2', r: 'r1' });
        const expected = '   ------x-y----|';
        expectObservable(
          source.pipe(summarizeProgress({ ...base, window: 5, scheduler: testScheduler })),
        ).toBe(expected, { x: 'p1r1', y: 'q2' });
      });
    });
  });

  describe('timers', () => {
    it('runs no timer while nothing is pending, and none survives unsubscribe', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const received: string[] = [];
      const subscription = source
        .pipe(summarizeProgress({ ...base, window: 10, scheduler }))
        .subscribe((value) => received.push(value));
      expect(scheduler.actions).toHaveLength(0);
      source.next('a1');
      expect(scheduler.actions).toHaveLength(0);
      source.next('p1');
      source.next('q2');
      expect(scheduler.actions).toHaveLength(1);
      advanceTo(scheduler, 10);
      expect(received).toEqual(['a1', 'p1', 'q2']);
      expect(scheduler.actions).toHaveLength(0);
      source.next('p1');
      source.next('a1');
      expect(received).toEqual(['a1', 'p1', 'q2', 'p1', 'a1']);
      expect(scheduler.actions).toHaveLength(0);
      source.next('p3');
      expect(scheduler.actions).toHaveLength(1);
      subscription.unsubscribe();
      expect(scheduler.actions).toHaveLength(0);
      advanceTo(scheduler, 100);
      expect(received).toHaveLength(5);
    });

    it('keeps one timer for any number of pending keys, and flushes each on its own deadline', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const received: Array<[number, string]> = [];
      source
        .pipe(summarizeProgress({ ...base, window: 10, scheduler }))
        .subscribe((value) => received.push([scheduler.now(), value]));
      for (let lane = 1; lane <= 8; lane++) {
        advanceTo(scheduler, lane);
        source.next(`p${lane}`);
        source.next(`q${lane}`);
        expect(scheduler.actions.length).toBeLessThanOrEqual(1);
      }
      advanceTo(scheduler, 30);
      expect(received).toEqual(
        [1, 2, 3, 4, 5, 6, 7, 8].map((lane) => [lane + 10, `p${lane}q${lane}`]),
      );
      expect(scheduler.actions).toHaveLength(0);
    });

    it('does not flush a later key early when the earliest key was flushed by a normal value', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const received: Array<[number, string]> = [];
      source
        .pipe(summarizeProgress({ ...base, window: 10, scheduler }))
        .subscribe((value) => received.push([scheduler.now(), value]));
      source.next('p1');
      advanceTo(scheduler, 5);
      source.next('p2');
      source.next('a1');
      advanceTo(scheduler, 12);
      expect(received).toEqual([
        [5, 'p1'],
        [5, 'a1'],
      ]);
      advanceTo(scheduler, 15);
      expect(received).toEqual([
        [5, 'p1'],
        [5, 'a1'],
        [15, 'p2'],
      ]);
    });

    it('unsubscribes the notifier as soon as nothing is pending', () => {
      let subscribed = 0;
      let active = 0;
      const ticks = new Subject<void>();
      const notifier = new Observable<void>((subscriber) => {
        subscribed++;
        active++;
        const inner = ticks.subscribe(subscriber);
        return () => {
          active--;
          inner.unsubscribe();
        };
      });
      const source = new Subject<string>();
      const received: string[] = [];
      const subscription = source
        .pipe(summarizeProgress({ ...base, window: notifier }))
        .subscribe((value) => received.push(value));
      source.next('a1');
      expect(active).toBe(0);
      source.next('p1');
      source.next('q2');
      expect([subscribed, active]).toEqual([1, 1]);
      ticks.next();
      expect(received).toEqual(['a1', 'p1', 'q2']);
      expect(active).toBe(0);
      source.next('p1');
      source.next('a1');
      expect(active).toBe(0);
      source.next('p1');
      expect([subscribed, active]).toEqual([3, 1]);
      subscription.unsubscribe();
      expect(active).toBe(0);
    });

    it('never subscribes the notifier when window is Infinity and nothing else is given', () => {
      const received: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(summarizeProgress({ ...base, window: Number.POSITIVE_INFINITY }))
        .subscribe((value) => received.push(value));
      source.next('p1');
      source.next('q1');
      expect(received).toEqual([]);
      source.complete();
      expect(received).toEqual(['p1q1']);
    });

    it('accepts NEVER as a notifier: flushes come only from other rules', () => {
      const received: string[] = [];
      of('p1', 'q1', 'a1', 'r1')
        .pipe(summarizeProgress({ ...base, window: NEVER }))
        .subscribe((value) => received.push(value));
      expect(received).toEqual(['p1q1', 'a1', 'r1']);
    });
  });

  it('merges 100,000 deltas across 8 keys into at most windows x keys summaries, text intact', () => {
    const scheduler = new VirtualTimeScheduler();
    const source = new Subject<{ key: number; text: string }>();
    const window = 16;
    const keys = 8;
    const total = 100_000;
    const perMs = 10;
    const duration = total / perMs;
    const out: Array<{ key: number; text: string }> = [];
    let maxPerKeyAndWindow = 0;
    const lastFlush = new Map<number, number>();
    source
      .pipe(
        summarizeProgress({
          classify: () => 'progress',
          key: (delta) => delta.key,
          merge: (acc, next) => ({ key: acc.key, text: acc.text + next.text }),
          window,
          scheduler,
        }),
      )
      .subscribe((summary) => {
        out.push(summary);
        const previous = lastFlush.get(summary.key);
        if (previous !== undefined && scheduler.now() - previous < window) {
          maxPerKeyAndWindow++;
        }
        lastFlush.set(summary.key, scheduler.now());
      });
    const expected: string[] = Array.from({ length: keys }, () => '');
    let seed = 7;
    for (let index = 0; index < total; index++) {
      if (index % perMs === 0) advanceTo(scheduler, index / perMs);
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      const key = seed % keys;
      const text = String.fromCharCode(97 + (index % 26));
      expected[key] += text;
      source.next({ key, text });
    }
    advanceTo(scheduler, duration + window);
    source.complete();
    const bound = keys * (Math.floor(duration / window) + 1);
    expect(out.length).toBeLessThanOrEqual(bound);
    expect(out.length).toBeGreaterThan(keys);
    expect(maxPerKeyAndWindow).toBe(0);
    const actual: string[] = Array.from({ length: keys }, () => '');
    for (const summary of out) actual[summary.key] += summary.text;
    expect(actual).toEqual(expected);
  });

  describe('properties (fast-check, against a reference model)', () => {
    interface Item {
      key: number;
      cls: EventClass;
      ids: number[];
    }
    const classes: EventClass[] = ['progress', 'progress', 'progress', 'normal', 'terminal'];
    const arbitraryInput = fc.array(
      fc.record({
        key: fc.integer({ min: 0, max: 3 }),
        cls: fc.constantFrom(...classes),
        gap: fc.constantFrom(0, 0, 1, 2, 5, 13),
      }),
      { maxLength: 120 },
    );
    const arbitraryWindow = fc.constantFrom<number | 'notifier'>(
      0,
      1,
      3,
      10,
      Number.POSITIVE_INFINITY,
      'notifier',
    );

    function runCase(
      input: Array<{ key: number; cls: EventClass; gap: number }>,
      window: number | 'notifier',
      maxMerged: number,
      scoped: boolean,
      ending: 'complete' | 'error',
    ): { out: Array<{ item: Item; at: number }>; error: unknown; completed: boolean } {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<Item>();
      const out: Array<{ item: Item; at: number }> = [];
      let error: unknown;
      let completed = false;
      const ticks = new Subject<void>();
      source
        .pipe(
          summarizeProgress<Item>({
            classify: (item) => item.cls,
            key: (item) => item.key,
            ...(scoped ? { scope: (item: Item) => item.key % 2 } : {}),
            merge: (acc, next) => ({ key: acc.key, cls: acc.cls, ids: [...acc.ids, ...next.ids] }),
            window: window === 'notifier' ? ticks : window,
            maxMerged,
            scheduler,
          }),
        )
        .subscribe({
          next: (item) => out.push({ item, at: scheduler.now() }),
          error: (e) => {
            error = e;
          },
          complete: () => {
            completed = true;
          },
        });
      let time = 0;
      input.forEach((entry, id) => {
        time += entry.gap;
        advanceTo(scheduler, time);
        if (window === 'notifier' && entry.gap > 2) ticks.next();
        source.next({ key: entry.key, cls: entry.cls, ids: [id] });
      });
      if (ending === 'error') source.error('boom');
      else source.complete();
      return { out, error, completed };
    }

    it('loses nothing, keeps non-progress order and per-key order, and respects the limits', () => {
      fc.assert(
        fc.property(
          arbitraryInput,
          arbitraryWindow,
          fc.constantFrom(1, 2, 5, Number.POSITIVE_INFINITY),
          fc.boolean(),
          fc.constantFrom<'complete' | 'error'>('complete', 'error'),
          (input, window, maxMerged, scoped, ending) => {
            const { out, error, completed } = runCase(input, window, maxMerged, scoped, ending);
            if (ending === 'error') expect(error).toBe('boom');
            else expect(completed).toBe(true);
            // Every id exactly once.
            const ids = out.flatMap(({ item }) => item.ids);
            expect([...ids].sort((a, b) => a - b)).toEqual(input.map((_, id) => id));
            // Per key, no value overtakes another.
            for (let key = 0; key <= 3; key++) {
              const inKey = input.flatMap((entry, id) => (entry.key === key ? [id] : []));
              const outKey = out.flatMap(({ item }) => (item.key === key ? item.ids : []));
              expect(outKey).toEqual(inKey);
            }
            // Non-progress values in input order, each alone.
            const nonProgress = input.flatMap((entry, id) =>
              entry.cls !== 'progress' ? [id] : [],
            );
            const outNonProgress = out.filter(({ item }) => item.cls !== 'progress');
            expect(outNonProgress.map(({ item }) => item.ids)).toEqual(
              nonProgress.map((id) => [id]),
            );
            // Only progress values of one key are merged, never more than maxMerged.
            for (const { item } of out) {
              expect(item.ids.length).toBeLessThanOrEqual(maxMerged);
              for (const id of item.ids) expect(input[id]!.key).toBe(item.key);
              if (item.ids.length > 1) {
                for (const id of item.ids) expect(input[id]!.cls).toBe('progress');
              }
            }
            // With a scope, no non-progress value overtakes earlier progress of its scope.
            if (scoped) {
              const position = new Map<number, number>();
              out.forEach(({ item }, index) => {
                for (const id of item.ids) position.set(id, index);
              });
              input.forEach((entry, id) => {
                if (entry.cls === 'progress') return;
                for (let earlier = 0; earlier < id; earlier++) {
                  if (input[earlier]!.key % 2 === entry.key % 2) {
                    expect(position.get(earlier)!).toBeLessThan(position.get(id)!);
                  }
                }
              });
            }
            // A numeric window is never exceeded (summaries leave on or before their deadline).
            if (typeof window === 'number' && Number.isFinite(window)) {
              const arrival: number[] = [];
              let time = 0;
              for (const entry of input) {
                time += entry.gap;
                arrival.push(time);
              }
              for (const { item, at } of out) {
                if (item.cls === 'progress') {
                  expect(at - arrival[item.ids[0]!]!).toBeLessThanOrEqual(window);
                }
              }
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('concatenating the emitted text per key equals concatenating the input per key', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              key: fc.constantFrom('a', 'b', 'c'),
              delta: fc.boolean(),
              text: fc.string({ maxLength: 4 }),
              gap: fc.nat({ max: 6 }),
            }),
            { maxLength: 150 },
          ),
          fc.constantFrom(0, 2, 7),
          (input, window) => {
            const scheduler = new VirtualTimeScheduler();
            const source = new Subject<{ key: string; delta: boolean; text: string }>();
            const emitted = new Map<string, string>();
            source
              .pipe(
                summarizeProgress({
                  classify: (value) => (value.delta ? 'progress' : 'normal'),
                  key: (value) => value.key,
                  merge: (acc, next) => ({ ...next, text: acc.text + next.text }),
                  window,
                  scheduler,
                }),
              )
              .subscribe((value) => {
                if (value.delta)
                  emitted.set(value.key, (emitted.get(value.key) ?? '') + value.text);
              });
            let time = 0;
            const expected = new Map<string, string>();
            for (const entry of input) {
              time += entry.gap;
              advanceTo(scheduler, time);
              source.next(entry);
              if (entry.delta)
                expected.set(entry.key, (expected.get(entry.key) ?? '') + entry.text);
            }
            source.complete();
            expect(emitted).toEqual(expected);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
