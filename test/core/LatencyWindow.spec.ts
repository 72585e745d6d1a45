import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../src/core/LatencyWindow.js';

/** The reference: nearest-rank percentiles over the last `size` samples, by sorting an array. */
function reference(samples: number[], size: number) {
  const window = samples.slice(-size).map((s) => Math.max(0, s));
  const sorted = [...window].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return {
    count: samples.length,
    window: window.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
    mean: window.length === 0 ? 0 : window.reduce((a, b) => a + b, 0) / window.length,
  };
}

describe('LatencyWindow', () => {
  it('is all zeros before the first sample', () => {
    expect(new LatencyWindow(4).stats()).toEqual({
      count: 0,
      window: 0,
      p50: 0,
      p99: 0,
      max: 0,
      mean: 0,
    });
  });

  it('keeps the last `size` samples: an old maximum leaves the window', () => {
    const window = new LatencyWindow(3);
    for (const ms of [100, 1, 2, 3]) window.add(ms);
    expect(window.stats()).toEqual({ count: 4, window: 3, p50: 2, p99: 3, max: 3, mean: 2 });
  });

  it('property: matches sorting the last samples', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 1000 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        (samples, size) => {
          const window = new LatencyWindow(size);
          for (const s of samples) window.add(s);
          const stats = window.stats();
          const expected = reference(samples, size);
          expect(stats).toEqual({ ...expected, mean: stats.mean });
          expect(stats.mean).toBeCloseTo(expected.mean, 9);
        },
      ),
    );
  });
});
