import fc from 'fast-check';
import type { Laned } from '../../src/queue/laneOrder.js';

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
