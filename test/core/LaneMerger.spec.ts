import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type LaneGap, LaneMerger, type LaneMergerOptions } from '../../src/core/LaneMerger.js';
import { type Laned, sortLaneIds } from '../../src/core/laneOrder.js';
import { QueueOverflowError } from '../../src/core/types.js';
import { referenceOrder, type Stamped, sortedLanesArbitrary } from './laneReference.js';

/** Takes out everything the merger lets go now, each value with the gap taken after it. */
function drain<T>(merger: LaneMerger<T>): Array<[Laned<T>, LaneGap<T> | undefined]> {
  const out: Array<[Laned<T>, LaneGap<T> | undefined]> = [];
  while (!merger.isEmpty) {
    const value = merger.shift();
    out.push([value, merger.takeNotice()]);
  }
  return out;
}

const valuesOf = <T>(out: Array<[Laned<T>, unknown]>): string[] =>
  out.map(
    ([{ lane, laneSeq, value, late }]) => `${lane}#${laneSeq}:${value}${late ? ' late' : ''}`,
  );

/** A merger over lanes `a`, `b`, `c` whose values are their own timestamps. */
function timed(options: Partial<LaneMergerOptions<number>> = {}) {
  const clock = { time: 0 };
  const merger = new LaneMerger<number>({
    ids: ['a', 'b', 'c'],
    order: 'timestamp',
    now: () => clock.time,
    ...options,
  });
  const push = (rank: number, value: number) => merger.push(rank, value, value, clock.time);
  return { merger, clock, push };
}

describe('LaneMerger', () => {
  it("'timestamp' order: interleaved pushes and takes give a stable sort by (timestamp, lane id, laneSeq)", () => {
    fc.assert(
      fc.property(
        sortedLanesArbitrary,
        fc.array(fc.nat(), { maxLength: 80 }),
        fc.boolean(),
        (lanes, picks, isolated) => {
          const ids = sortLaneIds(Object.keys(lanes));
          const merger = new LaneMerger<Stamped>({
            ids,
            order: 'timestamp',
            lane: isolated ? { capacity: 100, overflow: 'error' } : undefined,
          });
          const out: Laned<Stamped>[] = [];
          const next = ids.map(() => 0);
          const open = () => ids.map((_, rank) => rank).filter((rank) => next[rank]! >= 0);
          let pick = 0;
          for (let ranks = open(); ranks.length > 0; ranks = open()) {
            const rank = ranks[(picks[pick++] ?? 0) % ranks.length]!;
            const values = lanes[ids[rank]!]!;
            if (next[rank]! < values.length) {
              const value = values[next[rank]!++]!;
              expect(merger.push(rank, value, value.ts, 0)).toBe('queued');
            } else {
              merger.endLane(rank);
              next[rank] = -1;
            }
            for (const [value] of drain(merger)) out.push(value);
          }
          expect(merger.size).toBe(0);
          expect(out).toEqual(referenceOrder(lanes, (value) => value.ts));
        },
      ),
    );
  });

  it("'arrival' order: values go in the order they were pushed, laneSeq dense per lane", () => {
    const merger = new LaneMerger<string>({
      ids: ['a', 'b'],
      order: 'arrival',
      lane: { capacity: 4, overflow: 'drop-oldest' },
    });
    merger.push(1, 'b1', 0, 0);
    merger.push(0, 'a1', 0, 0);
    merger.push(1, 'b2', 0, 0);
    expect(merger.size).toBe(3);
    expect(valuesOf(drain(merger))).toEqual(['b#1:b1', 'a#1:a1', 'b#2:b2']);
    merger.push(0, 'a2', 0, 0);
    expect(valuesOf(drain(merger))).toEqual(['a#2:a2']);
  });

  it('holds values while a live lane is idle, and lets them go once it holds one or ends', () => {
    const { merger, push } = timed();
    push(0, 5);
    push(1, 7);
    expect(merger.isEmpty).toBe(true);
    expect(merger.size).toBe(2);
    push(2, 6);
    // a is idle again once its 5 is out.
    expect(valuesOf(drain(merger))).toEqual(['a#1:5']);
    merger.endLane(0);
    expect(valuesOf(drain(merger))).toEqual(['c#1:6']);
    merger.endLane(2);
    expect(valuesOf(drain(merger))).toEqual(['b#1:7']);
    expect(merger.size).toBe(0);
  });

  it('needs no timer without maxSkew, nor with nothing held', () => {
    const unbounded = timed();
    unbounded.push(0, 5);
    expect(unbounded.merger.isEmpty).toBe(true);
    expect(unbounded.merger.releaseDue()).toBeNaN();
    expect(timed({ maxSkew: 10 }).merger.releaseDue()).toBeNaN();
  });

  it('with isolation, measures maxSkew from the arrival of the queue head', () => {
    const { merger, clock, push } = timed({
      maxSkew: 10,
      lane: { capacity: 1, overflow: 'drop-oldest' },
    });
    push(0, 1);
    clock.time = 3;
    // Evicts 1: the head is now 2, which arrived at 3.
    push(0, 2);
    expect(merger.releaseDue()).toBe(13);
  });

  it('lets the smallest value go once it has waited maxSkew on the clock, and says when', () => {
    const { merger, clock, push } = timed({ maxSkew: 10 });
    push(1, 5);
    clock.time = 4;
    push(0, 8);
    expect(merger.releaseDue()).toBe(10);
    clock.time = 9;
    expect(merger.isEmpty).toBe(true);
    clock.time = 10;
    expect(valuesOf(drain(merger))).toEqual(['b#1:5']);
    // a's 8 arrived at 4.
    expect(merger.releaseDue()).toBe(14);
    push(1, 9);
    merger.endLane(2);
    // No lane idle: nothing waits for the clock.
    expect(merger.releaseDue()).toBeNaN();
    expect(valuesOf(drain(merger))).toEqual(['a#1:8']);
  });

  it('after a maxSkew release, a key before it is late (ties broken by lane id); a late value goes first', () => {
    const { merger, clock, push } = timed({ maxSkew: 0 });
    // Nothing was let go by maxSkew yet: nothing is late, however small.
    expect(merger.isLate(0, -5)).toBe(false);
    push(1, 5);
    expect(valuesOf(drain(merger))).toEqual(['b#1:5']);
    expect(merger.isLate(0, 5)).toBe(true);
    expect(merger.isLate(0, 6)).toBe(false);
    expect(merger.isLate(1, 5)).toBe(false);
    expect(merger.isLate(2, 5)).toBe(false);
    expect(merger.isLate(2, 4)).toBe(true);
    clock.time = 0;
    push(2, 6);
    const late = merger.lateValue(0, 3);
    expect(late).toEqual({ lane: 'a', laneSeq: 1, value: 3, late: true });
    merger.pushLate(0, late);
    expect(merger.size).toBe(2);
    expect(valuesOf(drain(merger))).toEqual(['a#1:3 late', 'c#1:6']);
    // a's next in-order value follows its late one.
    push(0, 7);
    merger.endLane(1);
    merger.endLane(2);
    expect(valuesOf(drain(merger))).toEqual(['a#2:7']);
  });

  it('lets late values go in the order they came, before anything held, also with nothing held', () => {
    const { merger, push } = timed({ lane: { capacity: 2, overflow: 'drop-oldest' } });
    merger.pushLate(0, merger.lateValue(0, 1));
    merger.pushLate(1, merger.lateValue(1, 2));
    expect(merger.isEmpty).toBe(false);
    expect(merger.size).toBe(2);
    // b has a gap pending, which belongs before b's next held value, not before a late one.
    push(1, 10);
    push(1, 11);
    push(1, 12);
    expect(merger.shift()).toEqual({ lane: 'a', laneSeq: 1, value: 1, late: true });
    expect(merger.takeNotice()).toBeUndefined();
    expect(merger.size).toBe(3);
    expect(merger.shift()).toEqual({ lane: 'b', laneSeq: 1, value: 2, late: true });
    expect(merger.takeNotice()).toBeUndefined();
    merger.pushLate(0, merger.lateValue(0, 3));
    expect(valuesOf(drain(merger))).toEqual(['a#2:3 late']);
    merger.endLane(0);
    merger.endLane(2);
    expect(drain(merger).map(([value, gap]) => [value.value, gap?.notice.dropped])).toEqual([
      [11, 1],
      [12, undefined],
    ]);
  });

  it('takes nothing late after a release that waited for no idle lane', () => {
    const { merger, push } = timed();
    push(0, 5);
    push(1, 7);
    push(2, 6);
    expect(valuesOf(drain(merger))).toEqual(['a#1:5']);
    expect(merger.isLate(1, 4)).toBe(false);
  });

  it('names lanes by rank', () => {
    expect(timed().merger.idOf(1)).toBe('b');
  });

  it('refuses a timestamp below the lane’s previous one and changes nothing', () => {
    const { merger, push } = timed();
    push(0, 5);
    expect(merger.lastTsOf(0)).toBe(5);
    expect(push(0, 4)).toBe('backwards');
    expect(merger.lastTsOf(0)).toBe(5);
    expect(merger.size).toBe(1);
    expect(push(0, 5)).toBe('queued');
  });

  it('pairs each gap with the value taken just before it, also when that lane is pushed to in between', () => {
    const { merger, push } = timed({ lane: { capacity: 1, overflow: 'drop-oldest' } });
    push(0, 1);
    push(0, 2);
    push(1, 0);
    push(1, 3);
    // No value taken yet: no gap to report.
    expect(merger.takeNotice()).toBeUndefined();
    merger.endLane(2);
    const first = merger.shift();
    // A push before the gap is taken (a callback reacting to the value) evicts nothing taken.
    push(0, 4);
    expect(first).toEqual({ lane: 'a', laneSeq: 1, value: 2 });
    expect(merger.takeNotice()).toEqual({
      lane: 'a',
      notice: {
        policy: 'drop-oldest',
        dropped: 1,
        merged: 0,
        first: 1,
        last: 1,
        terminalPreserved: true,
      },
    });
    expect(merger.takeNotice()).toBeUndefined();
    expect(drain(merger).map(([value, gap]) => [value.value, gap?.lane])).toEqual([[3, 'b']]);
    merger.endLane(1);
    expect(drain(merger)).toEqual([[{ lane: 'a', laneSeq: 2, value: 4 }, undefined]]);
  });

  it('once ending, lets everything go in merge order without waiting for idle lanes or the clock', () => {
    const { merger, push } = timed({ maxSkew: 100 });
    push(0, 8);
    push(1, 3);
    push(0, 9);
    expect(merger.isEmpty).toBe(true);
    merger.beginEnding();
    expect(merger.releaseDue()).toBeNaN();
    expect(valuesOf(drain(merger))).toEqual(['b#1:3', 'a#1:8', 'a#2:9']);
    // Values let go while ending were not released by maxSkew: nothing is late.
    expect(merger.isLate(0, 0)).toBe(false);
  });

  it("builds the 'error' policy's overflow error about the value, and a throwing classifier changes nothing", () => {
    const boom = new Error('bad class');
    const { merger, push } = timed({
      lane: {
        capacity: 1,
        overflow: 'error',
        classify: (value) => {
          if (value === 0) throw boom;
          return 'normal';
        },
      },
    });
    push(0, 1);
    expect(push(0, 2)).toBe('overflow');
    const error = merger.overflowError(0, 2);
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect(error.notice).toMatchObject({ policy: 'error', dropped: 1, first: 2, last: 2 });
    expect(error.message).toContain('capacity 1');
    expect(() => push(1, 0)).toThrow(boom);
    expect(merger.size).toBe(1);
    merger.endLane(1);
    merger.endLane(2);
    expect(valuesOf(drain(merger))).toEqual(['a#1:1']);
  });

  it('coalesces a lane’s progress values into the one queued first, keeping its place', () => {
    const merger = new LaneMerger<string>({
      ids: ['a', 'b'],
      order: 'timestamp',
      lane: {
        capacity: 2,
        overflow: { kind: 'coalesce', merge: (acc, next) => acc + next },
        classify: () => 'progress',
        terminalReserve: 0,
      },
    });
    merger.push(0, 'p', 1, 0);
    merger.push(0, 'q', 2, 0);
    merger.push(0, 'r', 3, 0);
    // Between q's timestamp and r's: it goes after the merged value only if that kept q's.
    merger.push(1, 'x', 2.5, 0);
    // The merge is reported before the next value of the lane, as every queue reports a gap.
    expect(drain(merger).map(([value, gap]) => [value.value, gap?.notice.merged])).toEqual([
      ['p', 1],
      ['qr', undefined],
    ]);
  });

  it('coalesces only values of one key, by the key of the values', () => {
    const merger = new LaneMerger<string>({
      ids: ['a'],
      order: 'arrival',
      lane: {
        capacity: 2,
        overflow: { kind: 'coalesce', merge: (acc, next) => acc + next, key: (v) => v[0] },
        classify: () => 'progress',
        terminalReserve: 0,
      },
    });
    for (const value of ['x1', 'y1', 'x2', 'y2']) merger.push(0, value, 0, 0);
    expect(valuesOf(drain(merger))).toEqual(['a#1:x1x2', 'a#2:y1y2']);
  });

  it('forgets everything on clear', () => {
    const { merger, push } = timed({ maxSkew: 0 });
    push(0, 1);
    drain(merger);
    push(1, 2);
    merger.pushLate(2, merger.lateValue(2, 0));
    merger.clear();
    expect(merger.size).toBe(0);
    expect(merger.isEmpty).toBe(true);
  });

  it.each([
    ['without isolation', undefined],
    ['with isolation', { capacity: 4, overflow: 'drop-oldest' } as const],
  ])('%s, holds nothing of before a clear', (_name, lane) => {
    const { merger, push } = timed({ lane });
    push(0, 1);
    push(1, 2);
    merger.clear();
    push(0, 3);
    merger.endLane(1);
    merger.endLane(2);
    expect(valuesOf(drain(merger))).toEqual(['a#1:3']);
  });

  it('types: a drain engine queue of Laned values and lane gaps', () => {
    expectTypeOf<ReturnType<LaneMerger<number>['shift']>>().toEqualTypeOf<Laned<number>>();
    expectTypeOf<ReturnType<LaneMerger<number>['takeNotice']>>().toEqualTypeOf<
      LaneGap<number> | undefined
    >();
  });
});
