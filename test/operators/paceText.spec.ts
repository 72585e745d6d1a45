import fc from 'fast-check';
import {
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
import { paceClassify, paceLaneOf, paceTextOf, paceWithText } from '../../marbles/paceText.js';
import { DEFAULT_MAX_LAG, type PaceTextConfig, paceText } from '../../src/operators/paceText.js';

const base: PaceTextConfig<string> = {
  text: paceTextOf,
  withText: paceWithText,
  key: paceLaneOf,
  classify: paceClassify,
};

/** Moves a virtual clock to `time`, running every action due until then. */
function advanceTo(scheduler: VirtualTimeScheduler, time: number): void {
  scheduler.maxFrames = time;
  scheduler.flush();
  scheduler.frame = time;
}

describe('paceText', () => {
  describe('options', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['options', null, /paceText: options must be an object, got null/],
      ['text', { ...base, text: undefined }, /paceText: text must be a function, got undefined/],
      ['withText', { ...base, withText: 'x' }, /paceText: withText must be a function, got "x"/],
      ['key', { ...base, key: 1 }, /paceText: key must be a function, got 1/],
      ['classify', { ...base, classify: {} }, /paceText: classify must be a function, got \{\}/],
      [
        'maxLag 0',
        { ...base, maxLag: 0 },
        /paceText: maxLag must be a positive number of ms, got 0/,
      ],
      ['maxLag NaN', { ...base, maxLag: Number.NaN }, /maxLag must be .*got NaN/],
      ['maxLag string', { ...base, maxLag: '250' }, /maxLag must be .*got "250"/],
      ['cadence 0', { ...base, cadence: 0 }, /paceText: cadence must be a finite positive number/],
      [
        'cadence Infinity',
        { ...base, cadence: Number.POSITIVE_INFINITY },
        /cadence must be .*Infinity/,
      ],
      ['cadence object', { ...base, cadence: { a: 1 } }, /cadence must be an ObservableInput/],
      ['cadence null', { ...base, cadence: null }, /cadence must be an ObservableInput, got null/],
      [
        'unit',
        { ...base, unit: 'char' },
        /paceText: unit must be 'grapheme', 'word' or 'line', got "char"/,
      ],
      ['scheduler', { ...base, scheduler: {} }, /paceText: scheduler must be a SchedulerLike/],
    ];
    it.each(bad)('rejects a bad %s at creation, naming it', (_name, options, message) => {
      expect(() => paceText(options as PaceTextConfig<string>)).toThrow(message);
    });

    it('throws RangeError for out-of-range numbers and TypeError for wrong types', () => {
      expect(() => paceText({ ...base, maxLag: -1 })).toThrow(RangeError);
      expect(() => paceText({ ...base, cadence: -1 })).toThrow(RangeError);
      expect(() => paceText({ ...base, unit: 'x' as never })).toThrow(TypeError);
      expect(() => paceText({ ...base, text: 1 as never })).toThrow(TypeError);
    });

    it('accepts maxLag Infinity, any ObservableInput as cadence, and an undefined scheduler', () => {
      expect(() => paceText({ ...base, maxLag: Number.POSITIVE_INFINITY })).not.toThrow();
      expect(() => paceText({ ...base, cadence: [1, 2] })).not.toThrow();
      expect(() => paceText({ ...base, scheduler: undefined })).not.toThrow();
    });

    it('defaults maxLag to exactly 250 ms', () => {
      expect(DEFAULT_MAX_LAG).toBe(250);
      // A burst of 251 graphemes at a 1 ms cadence: one per tick, 0..250, is exactly on the bound.
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      scheduler.run(({ cold, flush }) => {
        const times: number[] = [];
        cold('a|', { a: 'x'.repeat(251) })
          .pipe(paceText({ ...base, cadence: 1 }))
          .subscribe({ next: () => times.push(scheduler.now()) });
        flush();
        expect(times).toHaveLength(251);
        expect(times.at(-1)).toBe(250);
      });
    });

    it('is typed as a MonoTypeOperatorFunction of the value type', () => {
      const operator = paceText<{ text?: string }>({
        text: (value) => value.text,
        withText: (value, chunk) => ({ ...value, text: chunk }),
      });
      expectTypeOf(operator).toEqualTypeOf<MonoTypeOperatorFunction<{ text?: string }>>();
      expectTypeOf<PaceTextConfig<number>['withText']>().toEqualTypeOf<
        (value: number, chunk: string) => number
      >();
    });
  });

  describe("RxJS's operator checklist", () => {
    it('stops a synchronous source of values without text at once through take()', () => {
      let produced = 0;
      const endless = new Observable<string>((subscriber) => {
        for (let index = 0; !subscriber.closed && index < 10_000; index++) {
          produced++;
          subscriber.next(`!${index}`);
        }
      });
      const received: string[] = [];
      endless.pipe(paceText(base), take(3)).subscribe((value) => received.push(value));
      expect(received).toEqual(['!0', '!1', '!2']);
      expect(produced).toBe(3);
    });

    it('handles a re-entrant next after the current emission, in source order', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const received: string[] = [];
      source.pipe(paceText({ ...base, cadence: 10, scheduler })).subscribe({
        next: (value) => {
          received.push(value);
          // Pushed while the first chunk is being delivered: must come after it, in order.
          if (value === 'a') {
            source.next('!t');
            source.next('cd');
          }
        },
        complete: () => received.push('|'),
      });
      source.next('ab');
      source.complete();
      advanceTo(scheduler, 1000);
      expect(received.join(' ')).toBe('a b !t c d |');
    });

    it('throws nothing into the scheduler when take() below ends the stream amid a tick', () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<string>();
      const taken: string[] = [];
      source.pipe(paceText({ ...base, cadence: 10, scheduler }), take(2)).subscribe((value) => {
        taken.push(value);
        source.next('zz');
      });
      source.next('abcdef');
      expect(() => advanceTo(scheduler, 1000)).not.toThrow();
      expect(taken).toHaveLength(2);
      expect(scheduler.actions).toHaveLength(0);
      expect(source.observed).toBe(false);
    });

    it('errors with what a throwing key threw, after the text taken before', () => {
      const received: unknown[] = [];
      of('1:ab', 'x')
        .pipe(
          paceText({
            ...base,
            key: (value) => {
              if (value === 'x') throw new Error('key failed');
              return paceLaneOf(value);
            },
          }),
        )
        .subscribe({ next: (value) => received.push(value), error: (e) => received.push(e) });
      expect(received).toEqual(['1:a', '1:b', new Error('key failed')]);
    });

    it('errors with what a throwing classify threw; a bogus class is a TypeError', () => {
      const errors: unknown[] = [];
      of('ab')
        .pipe(paceText({ ...base, classify: () => 'bogus' as never }))
        .subscribe({ error: (e) => errors.push(e) });
      of('ab')
        .pipe(
          paceText({
            ...base,
            classify: () => {
              throw new Error('classify failed');
            },
          }),
        )
        .subscribe({ error: (e) => errors.push(e) });
      expect(errors).toEqual([
        new TypeError(
          "paceText: classify must return 'terminal', 'progress' or 'normal', got \"bogus\"",
        ),
        new Error('classify failed'),
      ]);
    });

    it('a text answer that is not a string errors the stream with a TypeError naming it', () => {
      const errors: unknown[] = [];
      of('ab')
        .pipe(paceText({ ...base, text: () => 42 as never }))
        .subscribe({ error: (e) => errors.push(e) });
      expect(errors).toEqual([
        new TypeError('paceText: text must return a string or undefined, got 42'),
      ]);
    });

    it('a throwing withText errors the stream at once and unsubscribes the source', () => {
      const source = new Subject<string>();
      const received: unknown[] = [];
      source
        .pipe(
          paceText({
            ...base,
            withText: () => {
              throw new Error('withText failed');
            },
          }),
        )
        .subscribe({ next: (value) => received.push(value), error: (e) => received.push(e) });
      source.next('ab');
      expect(received).toEqual([new Error('withText failed')]);
      expect(source.observed).toBe(false);
    });

    it('an error of the cadence notifier shows every backlog, then errs', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable }) => {
          const source = cold('a----', { a: 'abcdef' });
          const ticks = cold('--t-#', undefined, 'no ticks');
          expectObservable(source.pipe(paceText({ ...base, cadence: ticks }))).toBe(
            'a-b-(c#)',
            { a: 'a', b: 'b', c: 'cdef' },
            'no ticks',
          );
        },
      );
    });

    it('an error of the cadence notifier after the source completed errs at once', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable }) => {
          const source = cold('a|', { a: 'abcdef' });
          const ticks = cold('--t-#', undefined, 'no ticks');
          expectObservable(source.pipe(paceText({ ...base, cadence: ticks }))).toBe(
            'a-b-#',
            { a: 'a', b: 'b' },
            'no ticks',
          );
        },
      );
    });

    it('a cadence notifier that completes shows every backlog at once', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable }) => {
          const source = cold('a-----|', { a: 'abcdef' });
          const ticks = cold('--t-|');
          expectObservable(source.pipe(paceText({ ...base, cadence: ticks }))).toBe('a-b-c-|', {
            a: 'a',
            b: 'b',
            c: 'cdef',
          });
        },
      );
    });

    it.each<[string, SchedulerLike]>([
      ['asyncScheduler', asyncScheduler],
      ['asapScheduler', asapScheduler],
      ['queueScheduler', queueScheduler],
    ])('shows every character and completes on %s', async (_name, scheduler) => {
      const text = 'The quick brown fox 🦊 jumps over the lazy dog. '.repeat(3);
      const chunks = await new Promise<string[]>((resolve, reject) => {
        const received: string[] = [];
        of(...(text.match(/.{1,7}/gu) ?? []))
          .pipe(paceText({ ...base, cadence: 1, maxLag: 20, scheduler }))
          .subscribe({
            next: (chunk) => received.push(chunk),
            error: reject,
            complete: () => resolve(received),
          });
      });
      expect(chunks.join('')).toBe(text);
      expect(chunks.length).toBeGreaterThan(1);
    });

    it('never, NEVER and an early unsubscribe leave no timer behind', () => {
      const scheduler = new VirtualTimeScheduler();
      const subscription = NEVER.pipe(paceText({ ...base, cadence: 10, scheduler })).subscribe();
      const source = new Subject<string>();
      const busy = source.pipe(paceText({ ...base, cadence: 10, scheduler })).subscribe();
      source.next('abcdef');
      expect(scheduler.actions.length).toBeGreaterThan(0);
      busy.unsubscribe();
      subscription.unsubscribe();
      expect(scheduler.actions.filter((action) => !action.closed)).toHaveLength(0);
      expect(source.observed).toBe(false);
    });
  });

  describe('lag bound and order (property)', () => {
    interface Arrival {
      at: number;
      lane: string;
      text: string | undefined;
    }
    const arrival = fc.record({
      at: fc.integer({ min: 0, max: 600 }),
      lane: fc.constantFrom('1', '2', '3'),
      text: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), {
        nil: undefined,
      }),
    });

    it('each lane shows exactly its text, in order, values without text in place, every unit within maxLag', () => {
      fc.assert(
        fc.property(
          fc.array(arrival, { maxLength: 40 }),
          fc.constantFrom(10, 16, 50),
          fc.constantFrom(60, 100, 250),
          fc.constantFrom('grapheme', 'word', 'line'),
          (arrivals: Arrival[], cadence, maxLag, unit) => {
            const sorted = [...arrivals].sort((a, b) => a.at - b.at);
            const scheduler = new VirtualTimeScheduler();
            const source = new Subject<string>();
            const shown: Array<{ at: number; value: string }> = [];
            let done = false;
            source
              .pipe(
                paceText({
                  ...base,
                  key: (value) => (value.startsWith('!') ? value.slice(1, 2) : paceLaneOf(value)),
                  cadence,
                  maxLag,
                  unit: unit as 'word',
                  scheduler,
                }),
              )
              .subscribe({
                next: (value) => shown.push({ at: scheduler.now(), value }),
                complete: () => (done = true),
              });
            // The reference: per lane, the sequence of characters (with their arrival time) and
            // of values without text, in arrival order.
            const expected = new Map<string, Array<{ char: string; at: number }>>();
            sorted.forEach((item, index) => {
              scheduler.schedule(() => {
                const value =
                  item.text === undefined ? `!${item.lane}#${index}` : `${item.lane}:${item.text}`;
                const list = expected.get(item.lane) ?? [];
                expected.set(item.lane, list);
                if (item.text === undefined) list.push({ char: value, at: item.at });
                else for (const char of item.text) list.push({ char, at: item.at });
                source.next(value);
              }, item.at);
            });
            scheduler.schedule(() => source.complete(), 601);
            scheduler.flush();
            expect(done).toBe(true);
            const seen = new Map<string, Array<{ char: string; at: number }>>();
            for (const { at, value } of shown) {
              const lane = value.startsWith('!') ? value.slice(1, 2) : paceLaneOf(value);
              const list = seen.get(lane) ?? [];
              seen.set(lane, list);
              if (value.startsWith('!')) list.push({ char: value, at });
              else for (const char of paceTextOf(value) ?? '') list.push({ char, at });
            }
            for (const [lane, list] of expected) {
              const got = seen.get(lane) ?? [];
              expect(got.map((item) => item.char)).toEqual(list.map((item) => item.char));
              got.forEach((item, index) => {
                const came = (list[index] as { at: number }).at;
                expect(item.at - came).toBeGreaterThanOrEqual(0);
                expect(item.at - came).toBeLessThanOrEqual(maxLag);
              });
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});
