import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/internal/seededRandom.js';

describe('seededRandom', () => {
  it('gives the same numbers for the same seed (the values the benchmarks and demos rely on)', () => {
    const random = seededRandom(1);
    expect([random(), random(), random()]).toEqual([
      0.6270739405881613, 0.002735721180215478, 0.5274470399599522,
    ]);
    const fromZero = seededRandom(0);
    expect([fromZero(), fromZero()]).toEqual([0.26642920868471265, 0.0003297457005828619]);
  });

  it('reads the seed as an unsigned 32-bit integer', () => {
    expect(seededRandom(2 ** 32 + 5)()).toBe(seededRandom(5)());
  });

  it('stays in [0, 1) and differs between seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const random = seededRandom(seed);
        for (let draw = 0; draw < 20; draw++) {
          const value = random();
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(1);
        }
        expect(seededRandom(seed)()).not.toBe(seededRandom(seed + 1)());
      }),
    );
  });
});
