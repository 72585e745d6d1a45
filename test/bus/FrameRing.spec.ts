import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameRing } from '../../src/bus/FrameRing.js';

interface Frame {
  readonly seq: number;
}
const frame = (seq: number): Frame => ({ seq });

describe('FrameRing: allocation', () => {
  it('allocates nothing at construction, whatever the capacity', () => {
    const ring = new FrameRing<Frame>(2 ** 24);
    expect([ring.allocated, ring.size]).toEqual([0, 0]);
  });

  it('grows by doubling as it fills, never beyond its capacity', () => {
    const ring = new FrameRing<Frame>(100);
    const allocatedAfter: number[] = [];
    for (let seq = 1; seq <= 200; seq++) {
      ring.push(frame(seq));
      if ([1, 8, 9, 17, 33, 65, 100, 101, 200].includes(seq)) allocatedAfter.push(ring.allocated);
    }
    expect(allocatedAfter).toEqual([8, 8, 16, 32, 64, 100, 100, 100, 100]);
    expect([ring.size, ring.oldestSeq, ring.newestSeq]).toEqual([100, 101, 200]);
  });

  it('a capacity below the first allocation allocates only the capacity', () => {
    const ring = new FrameRing<Frame>(3);
    for (let seq = 1; seq <= 5; seq++) ring.push(frame(seq));
    expect(ring.allocated).toBe(3);
    expect([2, 3, 4, 5].map((seq) => ring.get(seq)?.seq)).toEqual([undefined, 3, 4, 5]);
  });

  it('keeps its storage across restart and refills it without growing', () => {
    const ring = new FrameRing<Frame>(16);
    for (let seq = 1; seq <= 20; seq++) ring.push(frame(seq));
    ring.restart(100);
    expect([ring.allocated, ring.size, ring.get(20)]).toEqual([16, 0, undefined]);
    for (let seq = 101; seq <= 120; seq++) ring.push(frame(seq));
    expect([ring.allocated, ring.oldestSeq, ring.get(105)?.seq, ring.get(120)?.seq]).toEqual([
      16, 105, 105, 120,
    ]);
  });
});

describe('FrameRing: against a reference model', () => {
  it('holds exactly the last `capacity` frames of any push / restart sequence', () => {
    const operation = fc.oneof(
      { weight: 9, arbitrary: fc.constant<{ restart?: number }>({}) },
      { weight: 1, arbitrary: fc.record({ restart: fc.nat(50) }) },
    );
    fc.assert(
      fc.property(fc.nat(40), fc.array(operation, { maxLength: 200 }), (capacity, operations) => {
        const ring = new FrameRing<Frame>(capacity);
        let held: Frame[] = [];
        let newest = 0;
        for (const step of operations) {
          if (step.restart !== undefined) {
            newest += step.restart;
            ring.restart(newest);
            held = [];
          } else {
            newest++;
            const pushed = frame(newest);
            ring.push(pushed);
            held.push(pushed);
            if (held.length > capacity) held.shift();
          }
          expect(ring.size).toBe(held.length);
          expect(ring.newestSeq).toBe(newest);
          expect(ring.oldestSeq).toBe(newest - held.length + 1);
          expect(ring.allocated).toBeLessThanOrEqual(capacity);
        }
        for (let seq = newest - capacity - 2; seq <= newest + 2; seq++) {
          expect(ring.get(seq)).toBe(held.find((f) => f.seq === seq));
        }
      }),
    );
  });
});
