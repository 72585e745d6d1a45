import fc from 'fast-check';
import {
  asapScheduler,
  asyncScheduler,
  concatMap,
  EMPTY,
  map,
  NEVER,
  Observable,
  type ObservableInput,
  of,
  queueScheduler,
  type SchedulerAction,
  type SchedulerLike,
  Subject,
  Subscription,
  take,
  timer,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { keyBefore, type Laned, mergeSortedLanes, sortLaneIds } from '../../src/core/laneOrder.js';
import { type OverflowNotice, QueueOverflowError } from '../../src/core/types.js';
import { type MergeLanesConfig, mergeLanes } from '../../src/operators/mergeLanes.js';
import {
  type LaneStep,
  referenceOrder,
  referenceTimedMerge,
  type Stamped,
  sortedLanesArbitrary,
  type TimedRelease,
} from '../core/laneReference.js';

const stampOf = (value: Stamped): number => value.ts;

/** Subscribes and collects synchronously. */
function collect<T>(source: Observable<T>): { values: T[]; error?: unknown; done: boolean } {
  const result: { values: T[]; error?: unknown; done: boolean } = { values: [], done: false };
  source.subscribe({
    next: (value) => result.values.push(value),
    error: (error) => {
      result.error = error;
    },
    complete: () => {
      result.done = true;
    },
  });
  return result;
}

/**
 * A scheduler that runs nothing by itself: it records what is scheduled so a test can see how
 * many timers are open and run them by hand.
 */
class ManualScheduler implements SchedulerLike {
  time = 0;
  readonly scheduled: Array<{ due: number; run: () => void; subscription: Subscription }> = [];

  now(): number {
    return this.time;
  }

  schedule<S>(
    work: (this: SchedulerAction<S>, state?: S) => void,
    delay = 0,
    state?: S,
  ): Subscription {
    const subscription = new Subscription();
    const entry = {
      due: this.time + delay,
      run: () => work.call(subscription as unknown as SchedulerAction<S>, state),
      subscription,
    };
    this.scheduled.push(entry);
    return subscription;
  }

  open(): number {
    return this.scheduled.filter((entry) => !entry.subscription.closed).length;
  }

  /** Advances the clock to `time`, running what is due in order. */
  advanceTo(time: number): void {
    for (;;) {
      const due = this.scheduled
        .filter((entry) => !entry.subscription.closed && entry.due <= time)
        .sort((a, b) => a.due - b.due)[0];
      if (due === undefined) break;
      this.time = due.due;
      due.subscription.unsubscribe();
      due.run();
    }
    this.time = time;
  }
}

describe('mergeLanes', () => {
  describe("'timestamp' order, properties", () => {
    it('with every lane completing, equals mergeSortedLanes and a stable sort, whatever the interleaving', () => {
      fc.assert(
        fc.property(
          sortedLanesArbitrary,
          fc.array(fc.nat(), { maxLength: 80 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          (lanes, picks, completionPicks) => {
            const ids = Object.keys(lanes);
            const subjects = new Map(ids.map((id) => [id, new Subject<Stamped>()]));
            const inputs = Object.fromEntries(subjects);
            const out = collect(mergeLanes(inputs, { order: 'timestamp', timestamp: stampOf }));
            // Emit in a random interleaving that keeps each lane's own order.
            const next = new Map(ids.map((id) => [id, 0]));
            const remaining = () => ids.filter((id) => next.get(id)! < lanes[id]!.length);
            for (const pick of picks) {
              const open = remaining();
              if (open.length === 0) break;
              const id = open[pick % open.length]!;
              subjects.get(id)!.next(lanes[id]![next.get(id)!]!);
              next.set(id, next.get(id)! + 1);
            }
            for (let open = remaining(); open.length > 0; open = remaining()) {
              const id = open[0]!;
              subjects.get(id)!.next(lanes[id]![next.get(id)!]!);
              next.set(id, next.get(id)! + 1);
            }
            const order = [...ids];
            for (const pick of completionPicks)
              order.push(order.splice(pick % order.length, 1)[0]!);
            for (const id of order) subjects.get(id)!.complete();
            expect(out.done).toBe(true);
            expect(out.values).toEqual(mergeSortedLanes(lanes, stampOf));
            expect(out.values).toEqual(referenceOrder(lanes, stampOf));
          },
        ),
      );
    });

    it('with random timing and maxSkew, keeps each lane in order, laneSeq dense, every value once, and non-late values sorted', () => {
      fc.assert(
        fc.property(
          sortedLanesArbitrary,
          fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 0, max: 8 }),
          (lanes, gaps, maxSkew) => {
            const ids = Object.keys(lanes);
            const ranks = new Map(sortLaneIds(ids).map((id, rank) => [id, rank]));
            const scheduler = new TestScheduler(() => {});
            const values: Laned<Stamped>[] = [];
            let done = false;
            scheduler.run(() => {
              let gapIndex = 0;
              const inputs: Record<string, ObservableInput<Stamped>> = {};
              for (const id of ids) {
                inputs[id] = of(...lanes[id]!).pipe(
                  concatMap((value) =>
                    timer(gaps[gapIndex++ % gaps.length]!).pipe(map(() => value)),
                  ),
                );
              }
              mergeLanes(inputs, { order: 'timestamp', timestamp: stampOf, maxSkew }).subscribe({
                next: (value) => values.push(value),
                complete: () => {
                  done = true;
                },
              });
            });
            expect(done).toBe(true);
            for (const id of ids) {
              const ofLane = values.filter((value) => value.lane === id);
              expect(ofLane.map((value) => value.laneSeq)).toEqual(
                ofLane.map((_, index) => index + 1),
              );
              const sortedIds = ofLane.map((value) => value.value.id).sort((a, b) => a - b);
              expect(sortedIds).toEqual(lanes[id]!.map((value) => value.id));
              // Only a late value may overtake its lane's earlier values.
              const inTime = ofLane.filter((value) => !value.late).map((value) => value.value.id);
              expect(inTime).toEqual([...inTime].sort((a, b) => a - b));
            }
            const inTime = values.filter((value) => !value.late);
            for (let index = 1; index < inTime.length; index++) {
              const before = inTime[index - 1]!;
              const after = inTime[index]!;
              expect(
                keyBefore(
                  after.value.ts,
                  ranks.get(after.lane)!,
                  0,
                  before.value.ts,
                  ranks.get(before.lane)!,
                  0,
                ),
              ).toBe(false);
            }
          },
        ),
      );
    });

    it('with random timing, releases exactly what the reference release rule releases, exactly when', () => {
      fc.assert(
        fc.property(
          sortedLanesArbitrary,
          fc.array(fc.nat(), { maxLength: 100 }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }),
          // Odd (or 0 or Infinity), while steps fall on even times: no deadline meets a step.
          fc.constantFrom(0, 1, 3, 5, 9, Number.POSITIVE_INFINITY),
          (lanes, picks, gaps, maxSkew) => {
            const ids = Object.keys(lanes);
            const steps: LaneStep<Stamped>[] = [];
            const sent = new Map(ids.map((id) => [id, 0]));
            const open = new Set(ids);
            let time = 0;
            for (let index = 0; open.size > 0; index++) {
              const candidates = ids.filter((id) => open.has(id));
              const id = candidates[(picks[index] ?? 0) % candidates.length]!;
              time += 2 * gaps[index % gaps.length]!;
              const at = sent.get(id)!;
              if (at < lanes[id]!.length) {
                steps.push({ time, lane: id, value: lanes[id]![at]! });
                sent.set(id, at + 1);
              } else {
                steps.push({ time, lane: id });
                open.delete(id);
              }
            }
            const scheduler = new ManualScheduler();
            const subjects = new Map(ids.map((id) => [id, new Subject<Stamped>()]));
            const released: TimedRelease<Stamped>[] = [];
            const out = { done: false, error: undefined as unknown };
            mergeLanes(Object.fromEntries(subjects), {
              order: 'timestamp',
              timestamp: stampOf,
              maxSkew,
              scheduler,
            }).subscribe({
              next: (laned) => released.push({ time: scheduler.now(), laned }),
              error: (error) => {
                out.error = error;
              },
              complete: () => {
                out.done = true;
              },
            });
            for (const step of steps) {
              scheduler.advanceTo(step.time);
              const subject = subjects.get(step.lane)!;
              if (step.value === undefined) subject.complete();
              else subject.next(step.value);
            }
            expect(out).toEqual({ done: true, error: undefined });
            expect(released).toEqual(referenceTimedMerge(ids, steps, stampOf, maxSkew));
            expect(scheduler.open()).toBe(0);
          },
        ),
      );
    });
  });

  describe('a lane that errors', () => {
    /** A value whose timestamp callback throws: `id` -1 marks it. */
    const poison: Stamped = { ts: 0, id: -1 };
    const boom = new Error('lane failed');
    const poisonedStamp = (value: Stamped): number => {
      if (value.id === poison.id) throw boom;
      return value.ts;
    };

    /** The random inputs of {@link runUntilFailure}. */
    const failureScenario = fc.record({
      lanes: sortedLanesArbitrary,
      picks: fc.array(fc.nat(), { maxLength: 80 }),
      cut: fc.nat(),
      completing: fc.array(fc.boolean(), { maxLength: 6 }),
      failingPick: fc.nat(),
    });
    type FailureScenario = typeof failureScenario extends fc.Arbitrary<infer S> ? S : never;

    /**
     * Emits the lanes' values in a random interleaving (each lane in its own order), stops after
     * `cut` of them, lets each lane in `completing` complete right after its last value, then
     * fails one lane that is still open: its source errors, or its timestamp callback throws.
     * Returns what each lane had handed over before the failure, and the subjects.
     */
    function runUntilFailure(
      { lanes, picks, cut, completing, failingPick }: FailureScenario,
      failure: 'source' | 'timestamp',
      subscribe: (inputs: Record<string, Subject<Stamped>>) => void,
    ): { accepted: Record<string, Stamped[]>; subjects: Map<string, Subject<Stamped>> } {
      const ids = Object.keys(lanes);
      const subjects = new Map(ids.map((id) => [id, new Subject<Stamped>()]));
      const failing = ids[failingPick % ids.length]!;
      subscribe(Object.fromEntries(subjects));
      const accepted: Record<string, Stamped[]> = Object.fromEntries(ids.map((id) => [id, []]));
      const total = ids.reduce((sum, id) => sum + lanes[id]!.length, 0);
      const steps = cut % (total + 1);
      const remaining = () => ids.filter((id) => accepted[id]!.length < lanes[id]!.length);
      for (let step = 0; step < steps; step++) {
        const open = remaining();
        const id = open[(picks[step] ?? 0) % open.length]!;
        const value = lanes[id]![accepted[id]!.length]!;
        subjects.get(id)!.next(value);
        accepted[id]!.push(value);
        const rank = ids.indexOf(id);
        if (
          id !== failing &&
          completing[rank % Math.max(1, completing.length)] &&
          accepted[id]!.length === lanes[id]!.length
        ) {
          subjects.get(id)!.complete();
        }
      }
      if (failure === 'source') subjects.get(failing)!.error(boom);
      else subjects.get(failing)!.next(poison);
      return { accepted, subjects };
    }

    it.each([
      ['without isolation', undefined],
      ['with isolation queues', { capacity: 64, overflow: 'error' } as const],
    ])(
      "under 'timestamp' %s, releases at once every value handed over before the error, in (timestamp, lane id, laneSeq) order, then errors",
      (_name, lane) => {
        fc.assert(
          fc.property(
            failureScenario,
            fc.constantFrom('source', 'timestamp' as const),
            (scenario, failure) => {
              let out: ReturnType<typeof collect<Laned<Stamped>>> | undefined;
              const run = runUntilFailure(scenario, failure as 'source' | 'timestamp', (inputs) => {
                out = collect(
                  mergeLanes(inputs, { order: 'timestamp', timestamp: poisonedStamp, lane }),
                );
              });
              const { accepted, subjects } = run!;
              expect(out!.error).toBe(boom);
              expect(out!.done).toBe(false);
              expect(out!.values).toEqual(referenceOrder(accepted, stampOf));
              expect([...subjects.values()].some((subject) => subject.observed)).toBe(false);
            },
          ),
        );
      },
    );

    it("under 'arrival' with isolation, releases every value handed over before the error in arrival order, then errors", () => {
      fc.assert(
        fc.property(failureScenario, (scenario) => {
          const scheduler = new ManualScheduler();
          const arrived: Laned<Stamped>[] = [];
          let out: ReturnType<typeof collect<Laned<Stamped>>> | undefined;
          const run = runUntilFailure(scenario, 'source', (inputs) => {
            out = collect(
              mergeLanes(inputs, { lane: { capacity: 64, overflow: 'error' }, scheduler }),
            );
            const seqs = new Map<string, number>();
            for (const [id, subject] of Object.entries(inputs)) {
              subject.subscribe({
                next: (value) => {
                  seqs.set(id, (seqs.get(id) ?? 0) + 1);
                  arrived.push({ lane: id, laneSeq: seqs.get(id)!, value });
                },
                error: () => {},
              });
            }
          });
          // Nothing was drained yet: the scheduler never ran.
          expect(out!.values).toEqual(arrived);
          expect(out!.error).toBe(boom);
          expect(scheduler.open()).toBe(0);
          // Every lane handed over exactly what was drained.
          for (const [id, values] of Object.entries(run.accepted)) {
            expect(out!.values.filter((laned) => laned.lane === id).map((l) => l.value)).toEqual(
              values,
            );
          }
        }),
      );
    });

    /** A scheduler, three lanes and a log of what the consumer and onOverflow see, in order. */
    function loggedLanes(options: Omit<MergeLanesConfig<number>, 'scheduler'>) {
      const scheduler = new ManualScheduler();
      const lanes = {
        a: new Subject<number>(),
        b: new Subject<number>(),
        c: new Subject<number>(),
      };
      const log: string[] = [];
      const subscription = mergeLanes(lanes, { ...options, scheduler }).subscribe({
        next: ({ lane, laneSeq, value }) => log.push(`${lane}#${laneSeq}:${value}`),
        error: (error) => log.push(`error ${(error as Error).message}`),
        complete: () => log.push('complete'),
      });
      const observed = () => Object.values(lanes).some((lane) => lane.observed);
      return { scheduler, lanes, log, subscription, observed };
    }

    it("under 'timestamp', releases what every lane holds at once: no wait for a silent lane or for maxSkew", () => {
      const { scheduler, lanes, log, observed } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        maxSkew: 100,
      });
      lanes.a.next(5);
      lanes.a.next(8);
      lanes.b.next(3);
      // c is silent: everything waits for it.
      expect(log).toEqual([]);
      lanes.c.error(new Error('c failed'));
      expect(log).toEqual(['b#1:3', 'a#1:5', 'a#2:8', 'error c failed']);
      expect(scheduler.open()).toBe(0);
      expect(observed()).toBe(false);
    });

    it('reports each pending gap before the values after it, then errors', () => {
      const { log, lanes } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        lane: {
          capacity: 2,
          overflow: 'drop-oldest',
          onOverflow: (notice, lane) => log.push(`${lane} lost ${notice.dropped}`),
        },
      });
      for (const value of [1, 2, 3, 4]) lanes.a.next(value);
      for (const value of [9, 9, 9]) lanes.b.next(value);
      lanes.c.error(new Error('c failed'));
      expect(log).toEqual([
        'a lost 2',
        'a#1:3',
        'a#2:4',
        'b lost 1',
        'b#1:9',
        'b#2:9',
        'error c failed',
      ]);
    });

    it('a throwing onOverflow lets the values held go out, still reporting the other gaps, then errors with what it threw', () => {
      const boom = new Error('too many lost in a');
      const { log, lanes, observed } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        lane: {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: (notice, lane) => {
            log.push(`${lane} lost ${notice.dropped}`);
            if (lane === 'a') throw boom;
          },
        },
      });
      lanes.b.next(3);
      lanes.b.next(4);
      lanes.a.next(1);
      lanes.a.next(2);
      expect(log).toEqual([]);
      lanes.c.complete();
      expect(log).toEqual(['a lost 1', 'a#1:2', 'b lost 1', 'b#1:4', 'error too many lost in a']);
      expect(observed()).toBe(false);
    });

    it('a throwing onOverflow after every lane completed still errors the stream, after the values held', () => {
      const { log, lanes } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        lane: {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: (_notice, lane) => {
            log.push(`${lane} gap`);
            throw new Error(`gap in ${lane}`);
          },
        },
      });
      lanes.a.next(1);
      lanes.a.next(2);
      lanes.c.next(3);
      lanes.a.complete();
      lanes.c.complete();
      expect(log).toEqual([]);
      lanes.b.complete();
      expect(log).toEqual(['a gap', 'a#1:2', 'c#1:3', 'error gap in a']);
    });

    it('a second throw of onOverflow while the stream ends errors at once with what it threw', () => {
      let throws = 0;
      const { log, lanes } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        lane: {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: (_notice, lane) => {
            log.push(`${lane} gap`);
            throw new Error(`throw ${++throws}`);
          },
        },
      });
      lanes.b.next(3);
      lanes.b.next(4);
      lanes.a.next(1);
      lanes.a.next(2);
      lanes.c.complete();
      // b's gap cannot be reported, so b's 4, behind it, cannot go.
      expect(log).toEqual(['a gap', 'a#1:2', 'b gap', 'error throw 2']);
    });

    it('a throwing onLate: the late value is not delivered, the values held go out with a dense laneSeq, then the error', () => {
      const { scheduler, lanes, log, observed } = loggedLanes({
        order: 'timestamp',
        timestamp: Number,
        maxSkew: 10,
        onLate: () => {
          throw new Error('late listener');
        },
      });
      lanes.a.next(5);
      lanes.c.complete();
      scheduler.advanceTo(10);
      expect(log).toEqual(['a#1:5']);
      lanes.b.next(7);
      // b's 2 sorts before a's 5, which maxSkew released: late.
      lanes.b.next(2);
      expect(log).toEqual(['a#1:5', 'b#1:7', 'error late listener']);
      expect(observed()).toBe(false);
    });

    it('an error raised while a value is being delivered still lets every held value go first', () => {
      const lanes = {
        a: new Subject<number>(),
        b: new Subject<number>(),
        c: new Subject<number>(),
      };
      const out: string[] = [];
      mergeLanes(lanes, { order: 'timestamp', timestamp: Number }).subscribe({
        next: ({ lane, value }) => {
          out.push(`${lane}${value}`);
          if (lane === 'a') lanes.b.error(new Error('b failed'));
        },
        error: (error) => out.push(`error ${(error as Error).message}`),
      });
      lanes.b.next(2);
      lanes.b.next(5);
      lanes.c.next(9);
      lanes.a.next(1);
      expect(out).toEqual(['a1', 'b2', 'b5', 'c9', 'error b failed']);
    });

    it('stops releasing when the consumer unsubscribes during the release', () => {
      const lanes = { a: new Subject<number>(), b: new Subject<number>() };
      const out = collect(
        mergeLanes(lanes, { order: 'timestamp', timestamp: Number }).pipe(take(2)),
      );
      lanes.a.next(1);
      lanes.a.next(2);
      lanes.a.next(3);
      lanes.b.error(new Error('b failed'));
      expect(out.values.map((laned) => laned.value)).toEqual([1, 2]);
      expect(out.done).toBe(true);
      expect(out.error).toBeUndefined();
    });

    it("under 'arrival' with isolation, lets go of every lane at the error", () => {
      const scheduler = new ManualScheduler();
      const lanes = { a: new Subject<number>(), b: new Subject<number>() };
      const out = collect(
        mergeLanes(lanes, { lane: { capacity: 4, overflow: 'drop-oldest' }, scheduler }),
      );
      lanes.b.next(1);
      lanes.a.next(2);
      lanes.a.error(new Error('a failed'));
      expect(out.values.map((laned) => `${laned.lane}${laned.value}`)).toEqual(['b1', 'a2']);
      expect(out.error).toEqual(new Error('a failed'));
      expect(lanes.b.observed).toBe(false);
      expect(scheduler.open()).toBe(0);
    });
  });

  describe("'arrival' order", () => {
    it('passes values in arrival order with a dense laneSeq per lane', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 50 }), (picks) => {
          const subjects = {
            a: new Subject<number>(),
            b: new Subject<number>(),
            c: new Subject<number>(),
          };
          const out = collect(mergeLanes(subjects));
          const seqs: Record<string, number> = { a: 0, b: 0, c: 0 };
          const expected = picks.map((lane, index) => {
            subjects[lane as 'a'].next(index);
            return { lane, laneSeq: ++seqs[lane]!, value: index };
          });
          expect(out.values).toEqual(expected);
          expect(out.values.every((value) => !('late' in value))).toBe(true);
        }),
      );
    });

    it('with isolation, drains each burst in arrival order on the scheduler', () => {
      const scheduler = new ManualScheduler();
      const a = new Subject<string>();
      const b = new Subject<string>();
      const out = collect(
        mergeLanes({ a, b }, { lane: { capacity: 2, overflow: 'drop-oldest' }, scheduler }),
      );
      a.next('a1');
      b.next('b1');
      a.next('a2');
      a.next('a3');
      expect(out.values).toEqual([]);
      expect(scheduler.open()).toBe(1);
      scheduler.advanceTo(0);
      expect(out.values.map((value) => value.value)).toEqual(['b1', 'a2', 'a3']);
      expect(out.values.map((value) => value.laneSeq)).toEqual([1, 1, 2]);
    });

    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ])(
      'with isolation under %s, delivers every value of a live lane, then completes',
      async (_name, scheduler) => {
        const a = new Subject<number>();
        const b = new Subject<number>();
        const seen: string[] = [];
        let done = false;
        mergeLanes(
          { a, b },
          { lane: { capacity: 4, overflow: 'drop-oldest' }, scheduler },
        ).subscribe({
          next: ({ lane, laneSeq, value }) => seen.push(`${lane}#${laneSeq}:${value}`),
          complete: () => {
            done = true;
          },
        });
        const settle = () => new Promise((resolve) => setTimeout(resolve, 2));
        a.next(1);
        await settle();
        b.next(2);
        a.next(3);
        await settle();
        expect(seen).toEqual(['a#1:1', 'b#1:2', 'a#2:3']);
        a.next(4);
        a.complete();
        b.complete();
        await settle();
        expect(seen).toEqual(['a#1:1', 'b#1:2', 'a#2:3', 'a#3:4']);
        expect(done).toBe(true);
      },
    );

    it('with isolation on a TestScheduler, delivers each burst in the frame it arrived', () => {
      const testScheduler = new TestScheduler((actual, expected) => {
        expect(actual).toEqual(expected);
      });
      testScheduler.run(({ hot, expectObservable }) => {
        const a = hot('  -1--3-|');
        const b = hot('  --2----|');
        const expected = '-AB-C--|';
        const lane = { capacity: 2, overflow: 'drop-oldest' } as const;
        expectObservable(mergeLanes({ a, b }, { lane, scheduler: testScheduler })).toBe(expected, {
          A: { lane: 'a', laneSeq: 1, value: '1' },
          B: { lane: 'b', laneSeq: 1, value: '2' },
          C: { lane: 'a', laneSeq: 2, value: '3' },
        });
      });
    });
  });

  describe('isolation', () => {
    it("keeps timestamp order when a lane's onOverflow pushes into that lane", () => {
      const a = new Subject<number>();
      const b = new Subject<number>();
      const log: string[] = [];
      let pushedBack = false;
      mergeLanes(
        { a, b },
        {
          order: 'timestamp',
          timestamp: Number,
          lane: {
            capacity: 1,
            overflow: 'drop-oldest',
            onOverflow: (notice, lane) => {
              log.push(`${lane} lost ${notice.first}`);
              if (!pushedBack) {
                pushedBack = true;
                a.next(4);
              }
            },
          },
        },
      ).subscribe({
        next: ({ lane, laneSeq, value }) => log.push(`${lane}#${laneSeq}:${value}`),
        complete: () => log.push('complete'),
      });
      a.next(1);
      a.next(2);
      // Both lanes hold a value: a's 2 goes, its gap first, during which a's 4 arrives.
      b.next(3);
      b.complete();
      a.complete();
      expect(log).toEqual(['a lost 1', 'a#1:2', 'b#1:3', 'a#2:4', 'complete']);
    });

    it('reports each gap with the lane it is in, and a flooding lane never costs a quiet one', () => {
      const gaps: Array<[string, OverflowNotice<number>]> = [];
      const scheduler = new ManualScheduler();
      const noisy = new Subject<number>();
      const quiet = new Subject<number>();
      const out = collect(
        mergeLanes(
          { noisy, quiet },
          {
            lane: {
              capacity: 4,
              overflow: 'drop-oldest',
              onOverflow: (notice, lane) => gaps.push([lane, notice]),
            },
            scheduler,
          },
        ),
      );
      for (let round = 0; round < 10; round++) {
        for (let index = 0; index < 100; index++) noisy.next(round * 100 + index);
        quiet.next(round);
        scheduler.advanceTo(round);
      }
      const quietValues = out.values.filter((value) => value.lane === 'quiet');
      expect(quietValues.map((value) => value.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(out.values.filter((value) => value.lane === 'noisy')).toHaveLength(40);
      expect(gaps.every(([lane]) => lane === 'noisy')).toBe(true);
      expect(gaps.reduce((sum, [, notice]) => sum + notice.dropped, 0)).toBe(960);
    });

    it("under 'timestamp', each lane delivers an in-order subsequence of itself and reports exactly what it lost", () => {
      fc.assert(
        fc.property(
          sortedLanesArbitrary,
          fc.array(fc.nat(), { maxLength: 80 }),
          fc.integer({ min: 1, max: 4 }),
          (lanes, picks, capacity) => {
            const ids = Object.keys(lanes);
            const subjects = new Map(ids.map((id) => [id, new Subject<Stamped>()]));
            const lost = new Map(ids.map((id) => [id, 0]));
            const out = collect(
              mergeLanes(Object.fromEntries(subjects), {
                order: 'timestamp',
                timestamp: stampOf,
                lane: {
                  capacity,
                  overflow: 'drop-oldest',
                  onOverflow: (notice, lane) => lost.set(lane, lost.get(lane)! + notice.dropped),
                },
              }),
            );
            const next = new Map(ids.map((id) => [id, 0]));
            const remaining = () => ids.filter((id) => next.get(id)! < lanes[id]!.length);
            let pickIndex = 0;
            for (let open = remaining(); open.length > 0; open = remaining()) {
              const id = open[(picks[pickIndex++] ?? 0) % open.length]!;
              subjects.get(id)!.next(lanes[id]![next.get(id)!]!);
              next.set(id, next.get(id)! + 1);
            }
            for (const subject of subjects.values()) subject.complete();
            expect(out.done).toBe(true);
            for (const id of ids) {
              const delivered = out.values.filter((value) => value.lane === id);
              const deliveredIds = delivered.map((value) => value.value.id);
              expect(deliveredIds).toEqual([...deliveredIds].sort((a, b) => a - b));
              expect(delivered.map((value) => value.laneSeq)).toEqual(
                delivered.map((_, index) => index + 1),
              );
              expect(deliveredIds.length + lost.get(id)!).toBe(lanes[id]!.length);
            }
          },
        ),
      );
    });

    it('errors the stream with what onOverflow threw, after the values held then', () => {
      const boom = new Error('listener failed');
      const scheduler = new ManualScheduler();
      const a = new Subject<number>();
      const out = collect(
        mergeLanes(
          { a },
          {
            lane: {
              capacity: 1,
              overflow: 'drop-oldest',
              onOverflow: () => {
                throw boom;
              },
            },
            scheduler,
          },
        ),
      );
      a.next(1);
      a.next(2);
      scheduler.advanceTo(0);
      // onOverflow received the gap before 2, so 2 is not behind a silent gap: it goes.
      expect(out.values).toEqual([{ lane: 'a', laneSeq: 1, value: 2 }]);
      expect(out.error).toBe(boom);
      expect(a.observed).toBe(false);
    });

    it('errors with what a throwing classifier threw, after the values queued before it', () => {
      const boom = new Error('bad class');
      const scheduler = new ManualScheduler();
      const a = new Subject<string>();
      const out = collect(
        mergeLanes(
          { a },
          {
            lane: {
              capacity: 4,
              overflow: 'drop-progress',
              classify: (value) => {
                if (value === 'x') throw boom;
                return 'normal';
              },
            },
            scheduler,
          },
        ),
      );
      a.next('a');
      a.next('x');
      expect(out.values.map((value) => value.value)).toEqual(['a']);
      expect(out.error).toBe(boom);
    });

    it("ends with QueueOverflowError under a lane's 'error' policy", () => {
      const out = collect(
        mergeLanes(
          { a: of(1, 2, 3), b: NEVER },
          { order: 'timestamp', timestamp: Number, lane: { capacity: 1, overflow: 'error' } },
        ),
      );
      // b holds a back, so a's second value finds a's queue full.
      expect(out.values).toEqual([{ lane: 'a', laneSeq: 1, value: 1 }]);
      expect(out.error).toBeInstanceOf(QueueOverflowError);
      expect((out.error as QueueOverflowError).notice.first).toBe(2);
    });
  });

  describe('late values and maxSkew', () => {
    it('releases a late value at once, marked, and counts it with onLate', () => {
      const scheduler = new ManualScheduler();
      const lates: Array<[Laned<number>, number]> = [];
      const a = new Subject<number>();
      const b = new Subject<number>();
      const out = collect(
        mergeLanes(
          { a, b },
          {
            order: 'timestamp',
            timestamp: (value) => value,
            maxSkew: 10,
            scheduler,
            onLate: (late, count) => lates.push([late, count]),
          },
        ),
      );
      a.next(5);
      expect(out.values).toEqual([]);
      expect(scheduler.open()).toBe(1);
      scheduler.advanceTo(9);
      expect(out.values).toEqual([]);
      scheduler.advanceTo(10);
      expect(out.values).toEqual([{ lane: 'a', laneSeq: 1, value: 5 }]);
      b.next(3);
      b.next(4);
      expect(out.values.slice(1)).toEqual([
        { lane: 'b', laneSeq: 1, value: 3, late: true },
        { lane: 'b', laneSeq: 2, value: 4, late: true },
      ]);
      expect(lates.map(([, count]) => count)).toEqual([1, 2]);
      // b's 7 waits: a holds nothing. a's 6 sorts after a's 5, so it is in time, and with both
      // lanes holding a value it goes at once.
      b.next(7);
      expect(out.values).toHaveLength(3);
      a.next(6);
      expect(out.values.slice(3)).toEqual([{ lane: 'a', laneSeq: 2, value: 6 }]);
      // b's 7 arrived at 10: released by maxSkew at 20. Then a's next 6, though its lane did not
      // go backwards, sorts before b's 7: late.
      scheduler.advanceTo(19);
      expect(out.values).toHaveLength(4);
      scheduler.advanceTo(20);
      expect(out.values.slice(4)).toEqual([{ lane: 'b', laneSeq: 3, value: 7 }]);
      a.next(6);
      expect(out.values.slice(5)).toEqual([{ lane: 'a', laneSeq: 3, value: 6, late: true }]);
      expect(lates.map(([late, count]) => [late.lane, count])).toEqual([
        ['b', 1],
        ['b', 2],
        ['a', 3],
      ]);
    });

    it('with maxSkew, a lane going backwards is late only behind a value maxSkew released; otherwise a TypeError', () => {
      // A lone lane always holds what it sends, so 3 goes without maxSkew's help and 2 is an error.
      const alone = collect(
        mergeLanes({ a: of(3, 2) }, { order: 'timestamp', timestamp: Number, maxSkew: 100 }),
      );
      expect(alone.values).toEqual([{ lane: 'a', laneSeq: 1, value: 3 }]);
      expect(alone.error).toEqual(
        new TypeError('mergeLanes: timestamps of lane "a" went backwards: 2 after 3'),
      );

      const scheduler = new ManualScheduler();
      const a = new Subject<number>();
      const b = new Subject<number>();
      const out = collect(
        mergeLanes({ a, b }, { order: 'timestamp', timestamp: Number, maxSkew: 10, scheduler }),
      );
      a.next(3);
      scheduler.advanceTo(10);
      // 3 went by maxSkew (b held nothing): a's 2 is behind it, so late, not an error.
      a.next(2);
      expect(out.values).toEqual([
        { lane: 'a', laneSeq: 1, value: 3 },
        { lane: 'a', laneSeq: 2, value: 2, late: true },
      ]);
      // Both lanes hold a value: 5 goes by the merge itself, not by maxSkew.
      a.next(5);
      b.next(6);
      expect(out.values.slice(2)).toEqual([{ lane: 'a', laneSeq: 3, value: 5 }]);
      // a's 4 fails the stream; b's 6, already handed over, still goes before the error.
      a.next(4);
      expect(out.values.slice(3)).toEqual([{ lane: 'b', laneSeq: 1, value: 6 }]);
      expect(out.error).toEqual(
        new TypeError('mergeLanes: timestamps of lane "a" went backwards: 4 after 5'),
      );
    });

    it('without maxSkew, a lane going backwards is a TypeError naming the lane', () => {
      const out = collect(
        mergeLanes({ planner: of(3, 2) }, { order: 'timestamp', timestamp: Number }),
      );
      expect(out.values).toEqual([{ lane: 'planner', laneSeq: 1, value: 3 }]);
      expect(out.error).toEqual(
        new TypeError('mergeLanes: timestamps of lane "planner" went backwards: 2 after 3'),
      );
    });

    it('a lane going backwards from a value it still holds is a TypeError naming the lane', () => {
      const a = new Subject<number>();
      const b = new Subject<number>();
      const out = collect(mergeLanes({ a, b }, { order: 'timestamp', timestamp: Number }));
      // b holds nothing: a's 5 waits, and a's 3 after it goes backwards.
      a.next(5);
      a.next(3);
      expect(out.values).toEqual([{ lane: 'a', laneSeq: 1, value: 5 }]);
      expect(out.error).toEqual(
        new TypeError('mergeLanes: timestamps of lane "a" went backwards: 3 after 5'),
      );
    });

    it("a late value does not lower its lane's last timestamp: going backwards after it is still an error", () => {
      const scheduler = new ManualScheduler();
      const lanes = {
        a: new Subject<number>(),
        b: new Subject<number>(),
        c: new Subject<number>(),
      };
      const out = collect(
        mergeLanes(lanes, { order: 'timestamp', timestamp: Number, maxSkew: 10, scheduler }),
      );
      lanes.b.next(5);
      scheduler.advanceTo(5);
      lanes.a.next(8);
      // c is silent: maxSkew lets b's 5 go at 10; a's 8 waits until 15.
      scheduler.advanceTo(10);
      lanes.a.next(2);
      expect(out.values).toEqual([
        { lane: 'b', laneSeq: 1, value: 5 },
        { lane: 'a', laneSeq: 1, value: 2, late: true },
      ]);
      // 6 sorts after b's 5, so it is not late; but a already sent 8.
      lanes.a.next(6);
      expect(out.values.slice(2)).toEqual([{ lane: 'a', laneSeq: 2, value: 8 }]);
      expect(out.error).toEqual(
        new TypeError('mergeLanes: timestamps of lane "a" went backwards: 6 after 8'),
      );
    });

    it('errors with what onLate threw', () => {
      const boom = new Error('late listener');
      const scheduler = new ManualScheduler();
      const a = new Subject<number>();
      const b = new Subject<number>();
      const out = collect(
        mergeLanes(
          { a, b },
          {
            order: 'timestamp',
            timestamp: Number,
            maxSkew: 0,
            scheduler,
            onLate: () => {
              throw boom;
            },
          },
        ),
      );
      // maxSkew 0: a's 2 goes as it arrives, though b holds nothing; b's 1 is then late.
      a.next(2);
      expect(out.values).toEqual([{ lane: 'a', laneSeq: 1, value: 2 }]);
      b.next(1);
      expect(out.values).toHaveLength(1);
      expect(out.error).toBe(boom);
      expect(a.observed || b.observed).toBe(false);
    });

    it('keeps one watermark timer, for the smallest value, however many values wait', () => {
      const scheduler = new ManualScheduler();
      const lanes = {
        a: new Subject<number>(),
        b: new Subject<number>(),
        c: new Subject<number>(),
      };
      const out = collect(
        mergeLanes(lanes, { order: 'timestamp', timestamp: Number, maxSkew: 50, scheduler }),
      );
      for (let time = 0; time < 40; time++) {
        scheduler.time = time;
        lanes.a.next(time);
        if (time % 3 === 0) lanes.b.next(time);
        expect(scheduler.open()).toBeLessThanOrEqual(1);
      }
      // The smallest value stayed a's 0, so the timer was armed once.
      expect(scheduler.scheduled).toHaveLength(1);
      // c holds nothing: each value waits 50 from its own arrival (here, its timestamp).
      expect(out.values).toEqual([]);
      scheduler.advanceTo(49);
      expect(out.values).toEqual([]);
      scheduler.advanceTo(50);
      expect(out.values).toEqual([
        { lane: 'a', laneSeq: 1, value: 0 },
        { lane: 'b', laneSeq: 1, value: 0 },
      ]);
      expect(scheduler.open()).toBe(1);
      scheduler.advanceTo(60);
      // Up to timestamp 10: a's 0..10 and b's 0, 3, 6, 9.
      expect(out.values).toHaveLength(11 + 4);
      // Everything but the two values that arrived at 39.
      scheduler.advanceTo(88);
      expect(out.values).toHaveLength(40 + 14 - 2);
      scheduler.advanceTo(89);
      expect(out.values).toHaveLength(40 + 14);
      expect(scheduler.open()).toBe(0);
    });

    it('re-arms the timer when a smaller value becomes the head; a value past its deadline goes once it is the smallest', () => {
      const scheduler = new ManualScheduler();
      const a = new Subject<number>();
      const b = new Subject<number>();
      const c = new Subject<number>();
      const out = collect(
        mergeLanes({ a, b, c }, { order: 'timestamp', timestamp: Number, maxSkew: 10, scheduler }),
      );
      b.next(5);
      expect(scheduler.scheduled.map((entry) => entry.due)).toEqual([10]);
      scheduler.advanceTo(4);
      a.next(3);
      // a's 3 (due 14) is now the smallest: its deadline replaces b's 5's.
      expect(scheduler.open()).toBe(1);
      expect(scheduler.scheduled.filter((entry) => !entry.subscription.closed)[0]!.due).toBe(14);
      scheduler.advanceTo(13);
      expect(out.values).toEqual([]);
      scheduler.advanceTo(14);
      expect(out.values.map(({ lane, value }) => `${lane}${value}`)).toEqual(['a3', 'b5']);
      expect(scheduler.open()).toBe(0);
    });

    it.each([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ])('under %s, lets a value go after maxSkew of real time', async (_name, scheduler) => {
      const a = new Subject<number>();
      const b = new Subject<number>();
      const seen: number[] = [];
      mergeLanes(
        { a, b },
        { order: 'timestamp', timestamp: Number, maxSkew: 5, scheduler },
      ).subscribe(({ value }) => seen.push(value));
      a.next(1);
      expect(seen).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(seen).toEqual([1]);
    });

    it('cancels the timer and clears what it holds on unsubscribe', () => {
      const scheduler = new ManualScheduler();
      const a = new Subject<number>();
      const b = new Subject<number>();
      const subscription = mergeLanes(
        { a, b },
        { order: 'timestamp', timestamp: Number, maxSkew: 50, scheduler },
      ).subscribe();
      a.next(1);
      expect(scheduler.open()).toBe(1);
      subscription.unsubscribe();
      expect(scheduler.open()).toBe(0);
      expect(a.observed || b.observed).toBe(false);
    });
  });

  describe("RxJS's operator checklist", () => {
    it('stops a synchronous infinite lane when take() has enough', () => {
      for (const options of [{}, { order: 'timestamp', timestamp: Number }] as const) {
        const produced: number[] = [];
        const endless = new Observable<number>((subscriber) => {
          for (let value = 0; !subscriber.closed && value < 1_000; value++) {
            produced.push(value);
            subscriber.next(value);
          }
        });
        const out = collect(mergeLanes({ done: EMPTY, endless }, options).pipe(take(3)));
        expect(out.values.map((value) => value.value)).toEqual([0, 1, 2]);
        expect(produced).toEqual([0, 1, 2]);
      }
    });

    it('neither reorders nor duplicates when the consumer pushes back into a lane', () => {
      for (const options of [
        { order: 'timestamp', timestamp: Number },
        { order: 'timestamp', timestamp: Number, lane: { capacity: 8, overflow: 'error' } },
      ] as MergeLanesConfig<number>[]) {
        const a = new Subject<number>();
        const b = new Subject<number>();
        const seen: string[] = [];
        mergeLanes({ a, b }, options).subscribe(({ lane, laneSeq, value }) => {
          seen.push(`${lane}${laneSeq}:${value}`);
          if (lane === 'a' && value < 6) a.next(value + 2);
        });
        a.next(1);
        b.next(2);
        b.next(4);
        b.next(9);
        a.complete();
        b.complete();
        expect(seen).toEqual(['a1:1', 'b1:2', 'a2:3', 'b2:4', 'a3:5', 'a4:7', 'b3:9']);
      }
    });

    it("neither reorders nor duplicates under 'arrival' with isolation on queueScheduler when the consumer pushes back", () => {
      const a = new Subject<number>();
      const b = new Subject<number>();
      const seen: string[] = [];
      mergeLanes(
        { a, b },
        { lane: { capacity: 8, overflow: 'error' }, scheduler: queueScheduler },
      ).subscribe(({ lane, laneSeq, value }) => {
        seen.push(`${lane}${laneSeq}:${value}`);
        if (lane === 'a' && value < 5) {
          a.next(value + 2);
          b.next(value + 10);
        }
      });
      a.next(1);
      expect(seen).toEqual(['a1:1', 'a2:3', 'b1:11', 'a3:5', 'b2:13']);
    });

    it('completes at once with no lanes', () => {
      expect(collect(mergeLanes({})).done).toBe(true);
      expect(collect(mergeLanes({}, { order: 'timestamp', timestamp: Number })).done).toBe(true);
    });

    it('accepts any ObservableInput as a lane, and errors when one cannot be subscribed', () => {
      const out = collect(
        mergeLanes<number>(
          { array: [3, 1], promise: NEVER, iterable: new Set([2]) },
          { order: 'arrival' },
        ),
      );
      expect(out.values.map((value) => `${value.lane}:${value.value}`)).toEqual([
        'array:3',
        'array:1',
        'iterable:2',
      ]);
      const boom = new Error('cannot iterate');
      const throwing: Iterable<number> = {
        [Symbol.iterator]: () => {
          throw boom;
        },
      };
      const bad = collect(mergeLanes({ a: of(1), b: throwing }));
      expect(bad.values.map((value) => value.value)).toEqual([1]);
      expect(bad.error).toBe(boom);
    });

    it('does not mark values in time as late', () => {
      const out = collect(
        mergeLanes({ a: of(1), b: of(2) }, { order: 'timestamp', timestamp: Number }),
      );
      expect(out.values.map((value) => 'late' in value)).toEqual([false, false]);
    });
  });

  describe('bad input', () => {
    const ts = (value: number): number => value;
    it.each([
      [null, 'mergeLanes: lanes must be an object mapping lane ids to lanes, got null'],
      [[of(1)], 'mergeLanes: lanes must be an object mapping lane ids to lanes, got an array'],
      ['ab', 'mergeLanes: lanes must be an object mapping lane ids to lanes, got "ab"'],
      [{ '': of(1) }, 'mergeLanes: a lane id must be a non-empty string, got ""'],
      [{ a: null }, 'mergeLanes: lane "a" must be an ObservableInput, got null'],
      [{ a: 42 }, 'mergeLanes: lane "a" must be an ObservableInput, got 42'],
      [{ coder: {} }, 'mergeLanes: lane "coder" must be an ObservableInput, got {}'],
    ])('rejects lanes %j with a TypeError', (lanes, message) => {
      expect(() => mergeLanes(lanes as never)).toThrow(new TypeError(message));
    });

    it.each([
      [null, TypeError, 'mergeLanes: options must be an object, got null'],
      [
        { order: 'random' },
        TypeError,
        `mergeLanes: order must be 'arrival' or 'timestamp', got "random"`,
      ],
      [
        { order: 'timestamp' },
        TypeError,
        "mergeLanes: order 'timestamp' needs a timestamp function (value => number), got undefined",
      ],
      [
        { order: 'timestamp', timestamp: 'ts' },
        TypeError,
        'mergeLanes: timestamp must be a function, got "ts"',
      ],
      [
        { order: 'timestamp', timestamp: ts, maxSkew: -1 },
        RangeError,
        'mergeLanes: maxSkew must be a non-negative number of milliseconds, got -1',
      ],
      [
        { order: 'timestamp', timestamp: ts, maxSkew: Number.NaN },
        RangeError,
        'mergeLanes: maxSkew must be a non-negative number of milliseconds, got NaN',
      ],
      [
        { maxSkew: '5' },
        RangeError,
        'mergeLanes: maxSkew must be a non-negative number of milliseconds, got "5"',
      ],
      [
        { lane: { capacity: 0, overflow: 'drop-oldest' } },
        RangeError,
        'mergeLanes: lane: capacity must be a positive integer, got 0',
      ],
      [{ lane: { capacity: 2 } }, TypeError, 'mergeLanes: lane: overflow must be'],
      [{ onLate: 1 }, TypeError, 'mergeLanes: onLate must be a function, got 1'],
      [
        { scheduler: {} },
        TypeError,
        'mergeLanes: scheduler must be a SchedulerLike (with schedule and now), got {}',
      ],
      [
        { scheduler: { schedule: () => new Subscription() } },
        TypeError,
        'mergeLanes: scheduler must be a SchedulerLike (with schedule and now), got {}',
      ],
    ])('rejects options %j', (options, type, message) => {
      expect(() => mergeLanes({ a: of(1) }, options as never)).toThrow(type);
      expect(() => mergeLanes({ a: of(1) }, options as never)).toThrow(message);
    });

    it('does nothing at creation but validate', () => {
      let subscribed = false;
      const lane = new Observable<number>(() => {
        subscribed = true;
      });
      mergeLanes({ lane }, { order: 'timestamp', timestamp: ts, maxSkew: 0 });
      expect(subscribed).toBe(false);
    });

    it('errors the stream with a TypeError naming the lane for a NaN or non-number timestamp', () => {
      const nan = collect(
        mergeLanes({ slow: of(1, Number.NaN) }, { order: 'timestamp', timestamp: ts }),
      );
      expect(nan.values).toHaveLength(1);
      expect(nan.error).toEqual(
        new TypeError(
          'mergeLanes: timestamp must return a number (not NaN), got NaN in lane "slow"',
        ),
      );
      const text = collect(
        mergeLanes({ fast: of('1') }, { order: 'timestamp', timestamp: (value) => value as never }),
      );
      expect(text.error).toEqual(
        new TypeError(
          'mergeLanes: timestamp must return a number (not NaN), got "1" in lane "fast"',
        ),
      );
    });
  });

  describe('types', () => {
    it('infers Laned of the lanes’ value type', () => {
      expectTypeOf(mergeLanes({ a: of(1), b: [2] })).toEqualTypeOf<Observable<Laned<number>>>();
      expectTypeOf<Laned<string>>().toEqualTypeOf<{
        lane: string;
        laneSeq: number;
        value: string;
        late?: boolean;
      }>();
      expectTypeOf<MergeLanesConfig<number>['order']>().toEqualTypeOf<
        'arrival' | 'timestamp' | undefined
      >();
    });
  });
});
