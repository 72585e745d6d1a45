import fc from 'fast-check';
import type { Laned } from '../../src/core/laneOrder.js';

/** The reference: a stable sort of every value by (timestamp, lane id, position in the lane). */
export function referenceOrder<T>(
  lanes: Record<string, readonly T[]>,
  timestamp: (value: T) => number,
): Laned<T>[] {
  const all: Laned<T>[] = [];
  for (const [lane, values] of Object.entries(lanes)) {
    values.forEach((value, index) => {
      all.push({ lane, laneSeq: index + 1, value });
    });
  }
  return all.sort((a, b) => {
    const byTime = timestamp(a.value) - timestamp(b.value);
    if (byTime !== 0) return byTime;
    if (a.lane !== b.lane) return a.lane < b.lane ? -1 : 1;
    return a.laneSeq - b.laneSeq;
  });
}

/** Lane ids that exercise the tie-break: integer-like keys, case, non-ASCII. */
export const LANE_IDS = ['a', 'b', 'B', 'a1', 'zz', '10', '9', 'é'];

export interface Stamped {
  ts: number;
  id: number;
}

/** Random lanes (ids from {@link LANE_IDS}), whose timestamps never go down, few distinct values so ties are common. */
export const sortedLanesArbitrary = fc
  .uniqueArray(fc.constantFrom(...LANE_IDS), { minLength: 1, maxLength: 6 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc
          .array(fc.integer({ min: 0, max: 4 }), { maxLength: 12 })
          .map((steps) => [id, steps] as const),
      ),
    ),
  )
  .map((entries) => {
    let next = 0;
    const lanes: Record<string, Stamped[]> = {};
    for (const [id, steps] of entries) {
      let ts = 0;
      lanes[id] = steps.map((step) => {
        ts += step === 4 ? 0 : step;
        return { ts, id: next++ };
      });
    }
    return lanes;
  });

/** One step of a timed run: at `time`, lane `lane` emits `value`, or completes when `value` is absent. */
export interface LaneStep<T> {
  time: number;
  lane: string;
  value?: T;
}

/** A value released at `time`. */
export interface TimedRelease<T> {
  time: number;
  laned: Laned<T>;
}

/**
 * The 'timestamp' release rule of mergeLanes, by brute force (a scan of every pending value per step):
 * the smallest pending value by (timestamp, lane id, arrival) is released when every live lane
 * holds a pending value, or at `arrival + maxSkew`; a value sorting before one released by
 * maxSkew is released at once, late. Steps must be in time order, every lane must complete, no
 * lane's timestamps may go down, and no maxSkew deadline may fall on a step's time (so the order
 * of a deadline and a step at the same instant never matters).
 */
export function referenceTimedMerge<T>(
  ids: readonly string[],
  steps: readonly LaneStep<T>[],
  timestamp: (value: T) => number,
  maxSkew: number,
): TimedRelease<T>[] {
  const rank = (lane: string): number => ids.filter((id) => id < lane).length;
  const before = (a: [number, string], b: [number, string]): boolean =>
    a[0] !== b[0] ? a[0] < b[0] : rank(a[1]) < rank(b[1]);
  const live = new Set(ids);
  const laneSeqs = new Map(ids.map((id) => [id, 0]));
  let pending: Array<{ lane: string; ts: number; arrival: number; order: number; value: T }> = [];
  let skewKey: [number, string] | undefined;
  let order = 0;
  const out: TimedRelease<T>[] = [];
  const emit = (time: number, lane: string, value: T, late: boolean): void => {
    const laneSeq = laneSeqs.get(lane)! + 1;
    laneSeqs.set(lane, laneSeq);
    out.push({ time, laned: late ? { lane, laneSeq, value, late } : { lane, laneSeq, value } });
  };
  const smallest = () => {
    let best: (typeof pending)[number] | undefined;
    for (const held of pending) {
      if (
        best === undefined ||
        before([held.ts, held.lane], [best.ts, best.lane]) ||
        (held.ts === best.ts && held.lane === best.lane && held.order < best.order)
      ) {
        best = held;
      }
    }
    return best;
  };
  const releaseDue = (now: number): void => {
    for (let head = smallest(); head !== undefined; head = smallest()) {
      const everyLiveLaneHolds = [...live].every((id) => pending.some((p) => p.lane === id));
      if (!everyLiveLaneHolds) {
        if (now < head.arrival + maxSkew) return;
        skewKey = [head.ts, head.lane];
      }
      pending = pending.filter((held) => held !== head);
      emit(now, head.lane, head.value, false);
    }
  };
  for (const step of steps) {
    // Deadlines that pass before this step, one by one.
    for (let head = smallest(); head !== undefined; head = smallest()) {
      const due = head.arrival + maxSkew;
      if (due > step.time) break;
      releaseDue(due);
    }
    if (step.value === undefined) {
      live.delete(step.lane);
    } else {
      const ts = timestamp(step.value);
      if (skewKey !== undefined && before([ts, step.lane], skewKey)) {
        emit(step.time, step.lane, step.value, true);
        continue;
      }
      pending.push({ lane: step.lane, ts, arrival: step.time, order: order++, value: step.value });
    }
    releaseDue(step.time);
  }
  return out;
}
