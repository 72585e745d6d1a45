import fc from 'fast-check';
import {
  asapScheduler,
  asyncScheduler,
  delay,
  finalize,
  from,
  interval,
  lastValueFrom,
  mergeMap,
  NEVER,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  scheduled,
  take,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  QueueOverflowError,
} from '../../src/core/types.js';
import { type DrainWithConfig, drainWith } from '../../src/operators/drainWith.js';
import { runVirtual } from '../../src/testing/index.js';
import { POLICY_CASES, type PolicyCase, policyOfCase } from '../core/policyCases.js';
import { ReferencePriorityQueue } from '../core/referencePriorityQueue.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('drainWith', () => {
  describe('options', () => {
    it.each([
      [
        'concurrency 0',
        { concurrency: 0 },
        /concurrency must be a positive integer or Infinity, got 0/,
      ],
      ['concurrency 1.5', { concurrency: 1.5 }, /concurrency .* got 1\.5/],
      ['concurrency NaN', { concurrency: Number.NaN }, /concurrency .* got NaN/],
      ['concurrency "2"', { concurrency: '2' }, /concurrency .* got "2"/],
      ['concurrency -Infinity', { concurrency: Number.NEGATIVE_INFINITY }, /got -Infinity/],
    ])('rejects %s with a RangeError at creation', (_name, extra, message) => {
      const make = () =>
        drainWith(() => of(1), { capacity: 1, overflow: 'error', ...(extra as object) });
      expect(make).toThrow(RangeError);
      expect(make).toThrow(message);
    });

    it('rejects a handler or priority that is not a function, and bad queue options', () => {
      expect(() => drainWith('save' as never, { capacity: 1, overflow: 'error' })).toThrow(
        /drainWith: handler must be a function, got "save"/,
      );
      expect(() =>
        drainWith(() => of(1), { capacity: 1, overflow: 'error', priority: 2 as never }),
      ).toThrow(/drainWith: priority must be a function, got 2/);
      expect(() => drainWith(() => of(1), { capacity: 0, overflow: 'error' })).toThrow(
        /drainWith: capacity must be a positive integer, got 0/,
      );
      expect(() =>
        drainWith(() => of(1), { capacity: 1, overflow: 'drop-newest' as never }),
      ).toThrow(TypeError);
    });

    it('does no work at creation and accepts concurrency Infinity', () => {
      let calls = 0;
      const operator = drainWith(
        () => {
          calls++;
          return of(1);
        },
        { capacity: 1, overflow: 'error', concurrency: Number.POSITIVE_INFINITY },
      );
      expect(calls).toBe(0);
      expect(typeof operator).toBe('function');
    });

    it('has the types a user relies on', () => {
      const operator = drainWith((value: number, index: number) => of(`${value}:${index}`), {
        capacity: 4,
        overflow: 'drop-oldest',
        priority: (value) => value % 2,
      });
      expectTypeOf(operator).toEqualTypeOf<OperatorFunction<number, string>>();
      expectTypeOf<DrainWithConfig<number>['priority']>().toEqualTypeOf<
        ((value: number) => number) | undefined
      >();
      expectTypeOf<DrainWithConfig<number>['concurrency']>().toEqualTypeOf<
        number | Observable<number> | undefined
      >();
      expectTypeOf<Parameters<typeof drainWith<number, string>>[0]>().toEqualTypeOf<
        (value: number, index: number, attempt: number) => ObservableInput<string>
      >();
    });
  });

  describe('behaviour', () => {
    it('passes the call index, in call order (with priorities, not arrival order)', async () => {
      const gate = new Subject<string>();
      const calls: string[] = [];
      const source = new Subject<string>();
      const done = lastValueFrom(
        source.pipe(
          drainWith(
            (value, index) => {
              calls.push(`${value}@${index}`);
              return value === 'first' ? gate : of(value);
            },
            { capacity: 4, overflow: 'error', priority: (value) => (value === 'urgent' ? 1 : 0) },
          ),
          toArray(),
        ),
      );
      source.next('first');
      source.next('later');
      source.next('urgent');
      source.complete();
      gate.complete();
      await done;
      expect(calls).toEqual(['first@0', 'urgent@1', 'later@2']);
    });

    it('never runs more than `concurrency` handlers, and loses nothing with room', async () => {
      let inFlight = 0;
      let most = 0;
      // Under virtual time: value v's handler takes v % 3 frames.
      const results = await runVirtual(new TestScheduler(() => {}), ({ promiseAt }) =>
        lastValueFrom(
          from(Array.from({ length: 40 }, (_, index) => index)).pipe(
            drainWith(
              async (value) => {
                inFlight++;
                most = Math.max(most, inFlight);
                await promiseAt(`${'-'.repeat(value % 3)}x`);
                inFlight--;
                return value * 2;
              },
              { capacity: 40, overflow: 'error', concurrency: 3 },
            ),
            toArray(),
          ),
        ),
      );
      expect(most).toBe(3);
      expect([...results].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 40 }, (_, index) => index * 2),
      );
    });

    it('keeps the waiting values within capacity whatever the source does', async () => {
      const handled: number[] = [];
      await runVirtual(new TestScheduler(() => {}), async ({ promiseAt }) => {
        const source = new Subject<number>();
        const done = lastValueFrom(
          source.pipe(
            drainWith(
              async (value) => {
                await promiseAt('-x');
                handled.push(value);
                return value;
              },
              { capacity: 10, overflow: 'drop-oldest', concurrency: 2 },
            ),
            toArray(),
          ),
        );
        for (let value = 0; value < 10_000; value++) source.next(value);
        source.complete();
        await done;
      });
      // Two started at once, then the ten newest waited.
      expect(handled).toHaveLength(12);
      expect(handled.slice(2)).toEqual(Array.from({ length: 10 }, (_, index) => 9_990 + index));
    });

    it('handles a synchronous source stopped by take()', () => {
      let produced = 0;
      const endless = new Observable<number>((subscriber) => {
        for (let value = 0; !subscriber.closed; value++) {
          produced++;
          subscriber.next(value);
        }
      });
      const seen: number[] = [];
      endless
        .pipe(
          drainWith((value) => of(value), { capacity: 1, overflow: 'error' }),
          take(3),
        )
        .subscribe((value) => seen.push(value));
      expect(seen).toEqual([0, 1, 2]);
      expect(produced).toBe(3);
    });

    it('does not grow the stack with many handlers that complete synchronously', async () => {
      const count = 200_000;
      const total = await lastValueFrom(
        from(Array.from({ length: count }, (_, index) => index)).pipe(
          drainWith((value) => of(value), { capacity: 1, overflow: 'error' }),
          toArray(),
        ),
      );
      expect(total).toHaveLength(count);
      expect(total[count - 1]).toBe(count - 1);
    });

    it('handles a re-entrant next from the consumer in order, without duplicates', () => {
      const source = new Subject<number>();
      const seen: number[] = [];
      source.pipe(drainWith((value) => of(value), { capacity: 4, overflow: 'error' })).subscribe({
        next: (value) => {
          seen.push(value);
          if (value === 1) source.next(2);
        },
      });
      source.next(1);
      source.next(3);
      expect(seen).toEqual([1, 2, 3]);
    });

    it('a throwing onOverflow errors the result with what it threw, cancelling the handlers', () => {
      const gate = new Subject<string>();
      const source = new Subject<string>();
      const cancelled: string[] = [];
      let caught: unknown;
      let sourceFinalized = false;
      source
        .pipe(
          finalize(() => {
            sourceFinalized = true;
          }),
          drainWith(
            (value): Observable<string> =>
              value === 'a' ? gate : NEVER.pipe(finalize(() => cancelled.push(value))),
            {
              capacity: 1,
              overflow: 'drop-oldest',
              concurrency: 2,
              onOverflow: () => {
                throw new Error('observer broke');
              },
            },
          ),
        )
        .subscribe({ error: (error) => (caught = error) });
      source.next('a');
      source.next('x');
      source.next('b');
      source.next('c'); // evicts b: the gap is reported when a slot frees
      expect(caught).toBeUndefined();
      gate.complete();
      expect((caught as Error).message).toBe('observer broke');
      expect(cancelled).toEqual(['x']);
      expect(sourceFinalized).toBe(true);
    });

    it('a throwing classify stops the source; the accepted values are handled first', () => {
      const source = new Subject<string>();
      const gate = new Subject<string>();
      const seen: string[] = [];
      let caught: unknown;
      source
        .pipe(
          drainWith((value) => (value === 'a' ? gate : of(value)), {
            capacity: 4,
            overflow: 'error',
            classify: (value): EventClass => {
              if (value === 'boom') throw new Error('classify failed');
              return 'normal';
            },
          }),
        )
        .subscribe({ next: (value) => seen.push(value), error: (error) => (caught = error) });
      source.next('a');
      source.next('b');
      source.next('boom');
      expect(source.observed).toBe(false);
      expect(caught).toBeUndefined();
      gate.next('a');
      gate.complete();
      expect(seen).toEqual(['a', 'b']);
      expect((caught as Error).message).toBe('classify failed');
    });

    it('an onOverflow that unsubscribes stops everything, without starting the next value', () => {
      const gate = new Subject<string>();
      const source = new Subject<string>();
      const started: string[] = [];
      const subscription = source
        .pipe(
          drainWith(
            (value) => {
              started.push(value);
              return value === 'a' ? gate : of(value);
            },
            {
              capacity: 1,
              overflow: 'drop-oldest',
              onOverflow: () => subscription.unsubscribe(),
            },
          ),
        )
        .subscribe();
      source.next('a');
      source.next('b');
      source.next('c');
      expect(() => gate.complete()).not.toThrow();
      expect(started).toEqual(['a']);
      expect(source.observed).toBe(false);
    });

    it('unsubscribing cancels every handler in flight and never starts the waiting ones', () => {
      const cancelled: number[] = [];
      const started: number[] = [];
      const subscription = of(1, 2, 3, 4, 5)
        .pipe(
          drainWith(
            (value) => {
              started.push(value);
              return NEVER.pipe(finalize(() => cancelled.push(value)));
            },
            { capacity: 5, overflow: 'error', concurrency: 2 },
          ),
        )
        .subscribe();
      expect(started).toEqual([1, 2]);
      subscription.unsubscribe();
      expect(cancelled).toEqual([1, 2]);
      expect(started).toEqual([1, 2]);
    });

    it("'error' policy: errors after the accepted values, with the value that did not fit", async () => {
      const source = new Subject<number>();
      const handled: number[] = [];
      const done = lastValueFrom(
        source.pipe(
          drainWith(
            async (value) => {
              await sleep(1);
              handled.push(value);
              return value;
            },
            { capacity: 1, overflow: 'error' },
          ),
        ),
      ).catch((error: unknown) => error);
      source.next(1);
      source.next(2);
      source.next(3);
      expect(source.observed).toBe(false);
      const error = await done;
      expect(error).toBeInstanceOf(QueueOverflowError);
      expect((error as QueueOverflowError).notice.first).toBe(3);
      expect(handled).toEqual([1, 2]);
    });

    it('works with mergeMap before and after it', async () => {
      const result = await lastValueFrom(
        interval(1).pipe(
          take(5),
          mergeMap((value) => of(value)),
          drainWith((value) => of(value * 10), { capacity: 5, overflow: 'error' }),
          mergeMap((value) => of(value + 1)),
          toArray(),
        ),
      );
      expect(result).toEqual([1, 11, 21, 31, 41]);
    });
  });

  describe('handlers whose work runs on a scheduler', () => {
    it.each<[string, SchedulerLike]>([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ])(
      'handles a source and inner work on %s, in order, within concurrency',
      async (_name, scheduler) => {
        let inFlight = 0;
        let most = 0;
        const results = await lastValueFrom(
          scheduled([1, 2, 3, 4, 5], scheduler).pipe(
            drainWith(
              (value) => {
                inFlight++;
                most = Math.max(most, inFlight);
                return scheduled([value * 10], scheduler).pipe(finalize(() => inFlight--));
              },
              { capacity: 5, overflow: 'error', concurrency: 2 },
            ),
            toArray(),
          ),
        );
        expect(results).toEqual([10, 20, 30, 40, 50]);
        expect(most).toBeLessThanOrEqual(2);
      },
    );

    it('handles inner work delayed on a TestScheduler', () => {
      new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
        ({ cold, expectObservable, expectSubscriptions }) => {
          const source = cold('-ab---c-|');
          const sourceSubs = '  ^-------!';
          const expected = '    ---a-b--(c|)';
          const result = source.pipe(
            drainWith((value) => of(value).pipe(delay(2)), { capacity: 2, overflow: 'error' }),
          );
          expectObservable(result).toBe(expected);
          expectSubscriptions(source.subscriptions).toBe(sourceSubs);
        },
      );
    });
  });

  describe('callbacks that push or unsubscribe from inside the gap report', () => {
    it('a value pushed inside onOverflow cannot evict the value being handed out, nor overtake its notice', () => {
      const gate = new Subject<string>();
      const source = new Subject<string>();
      const log: string[] = [];
      source
        .pipe(
          drainWith(
            (value) => {
              log.push(`start ${value}`);
              return value === 'a' ? gate : of(value);
            },
            {
              capacity: 1,
              overflow: 'drop-oldest',
              onOverflow: (gap) => {
                log.push(`gap ${String(gap.first)}`);
                if (gap.first === 'b') source.next('d');
              },
            },
          ),
        )
        .subscribe();
      source.next('a');
      source.next('b');
      source.next('c'); // evicts b
      gate.complete();
      // c was taken before the gap was reported: d, pushed during the report, waits behind it.
      expect(log).toEqual(['start a', 'gap b', 'start c', 'start d']);
    });

    it('a handler result that from() refuses errors the output at once, cancelling the others', () => {
      const cancelled: string[] = [];
      let caught: unknown;
      of('a', 'b')
        .pipe(
          drainWith(
            (value): Observable<string> =>
              value === 'a'
                ? NEVER.pipe(finalize(() => cancelled.push(value)))
                : (42 as unknown as Observable<string>),
            { capacity: 2, overflow: 'error', concurrency: 2 },
          ),
        )
        .subscribe({ error: (error) => (caught = error) });
      expect(caught).toBeInstanceOf(TypeError);
      expect(cancelled).toEqual(['a']);
    });
  });

  describe('property: any schedule matches the reference model', () => {
    interface Item {
      id: number;
      cls: EventClass;
      level: number;
      key: number;
    }
    const mergeItems = (acc: Item, next: Item): Item => ({ ...acc, id: acc.id * 1000 + next.id });
    const policyOf = (name: PolicyCase): OverflowPolicy<Item> =>
      policyOfCase(name, mergeItems, (item: Item) => item.key);

    it('starts, emits, reports and ends as the model does', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...POLICY_CASES),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.boolean(),
          fc.boolean(),
          fc.array(
            fc.oneof(
              fc.record({
                kind: fc.constant('emit' as const),
                cls: fc.constantFrom<EventClass>('terminal', 'progress', 'normal'),
                level: fc.integer({ min: 0, max: 2 }),
                key: fc.integer({ min: 0, max: 1 }),
              }),
              fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
            ),
            { maxLength: 60 },
          ),
          (policy, capacity, concurrency, classified, prioritized, ops) => {
            const options: DrainWithConfig<Item> = {
              capacity,
              concurrency,
              overflow: policyOf(policy),
              // drop-progress and coalesce are refused without a classifier
              classify:
                classified || policy === 'drop-progress' || policy.startsWith('coalesce')
                  ? (item: Item) => item.cls
                  : undefined,
              priority: prioritized ? (item: Item) => item.level : undefined,
            };

            // The model: the reference queue plus the list of running handlers.
            const model = new ReferencePriorityQueue<Item>(options);
            const modelRunning: Item[] = [];
            const modelStarted: number[] = [];
            const modelOutput: number[] = [];
            const modelNotices: OverflowNotice<Item>[] = [];
            let stopped = false;
            const modelDrain = (): void => {
              while (modelRunning.length < concurrency && model.items.length > 0) {
                const notice = model.takeNotice();
                if (notice !== undefined) modelNotices.push(notice);
                const item = model.shift();
                modelRunning.push(item);
                modelStarted.push(item.id);
              }
            };

            // The real thing: each handler is a Subject that the schedule completes.
            const running: Array<{ item: Item; work: Subject<number> }> = [];
            const started: number[] = [];
            const output: number[] = [];
            const notices: OverflowNotice<Item>[] = [];
            let end: string | undefined;
            const source = new Subject<Item>();
            source
              .pipe(
                drainWith(
                  (item) => {
                    const work = new Subject<number>();
                    running.push({ item, work });
                    started.push(item.id);
                    return work;
                  },
                  { ...options, onOverflow: (notice) => notices.push(notice) },
                ),
              )
              .subscribe({
                next: (id) => output.push(id),
                error: (error: unknown) => {
                  end = error instanceof QueueOverflowError ? 'overflow' : String(error);
                },
                complete: () => {
                  end = 'complete';
                },
              });

            let nextId = 1;
            for (const op of ops) {
              if (op.kind === 'emit') {
                const item: Item = { id: nextId++, cls: op.cls, level: op.level, key: op.key };
                source.next(item);
                if (!stopped) {
                  if (model.push(item) === 'overflow') stopped = true;
                  modelDrain();
                }
              } else if (running.length > 0) {
                const index = op.pick % running.length;
                const [{ item, work }] = running.splice(index, 1) as [
                  { item: Item; work: Subject<number> },
                ];
                work.next(item.id);
                work.complete();
                const [done] = modelRunning.splice(index, 1) as [Item];
                modelOutput.push(done.id);
                modelDrain();
              }
              expect(source.observed).toBe(!stopped);
            }
            source.complete();
            while (running.length > 0) {
              const { item, work } = running.shift() as { item: Item; work: Subject<number> };
              work.next(item.id);
              work.complete();
              modelOutput.push((modelRunning.shift() as Item).id);
              modelDrain();
            }
            const leftover = model.takeNotice();
            if (leftover !== undefined) modelNotices.push(leftover);
            const modelEnd = stopped ? 'overflow' : 'complete';

            expect(started).toEqual(modelStarted);
            expect(output).toEqual(modelOutput);
            expect(notices).toEqual(modelNotices);
            expect(end).toBe(modelEnd);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
