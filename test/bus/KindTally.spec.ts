import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KindTally } from '../../src/bus/KindTally.js';

/** The reference: a plain count per kind, in first-seen order. */
function referenceCounts(kinds: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return Object.fromEntries(counts);
}

function tally(kinds: string[]): KindTally {
  const counts = new KindTally();
  for (const kind of kinds) counts.add(kind);
  return counts;
}

describe('KindTally', () => {
  it('is empty before the first kind', () => {
    expect(new KindTally().toRecord()).toEqual({});
  });

  it('counts runs of one kind and interleaved kinds', () => {
    expect(tally(['d', 'd', 'd', 't', 'd', 'u', 't']).toRecord()).toEqual({ d: 4, t: 2, u: 1 });
  });

  it('keeps counting a kind after four others pushed it out of the recent ones', () => {
    const kinds = ['a', 'b', 'c', 'd', 'e', 'a', 'f', 'g', 'h', 'i', 'a', 'e'];
    expect(tally(kinds).toRecord()).toEqual({
      a: 3,
      b: 1,
      c: 1,
      d: 1,
      e: 2,
      f: 1,
      g: 1,
      h: 1,
      i: 1,
    });
  });

  it('compares kinds by value, not by string identity', () => {
    const built = ['model', 'delta'].join('.');
    expect(tally(['model.delta', built, `model.${'delta'}`]).toRecord()).toEqual({
      'model.delta': 3,
    });
  });

  it('reports a kind named __proto__ as an own count', () => {
    const record = tally(['__proto__', '__proto__', 'constructor']).toRecord();
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.hasOwn(record, '__proto__')).toBe(true);
    expect(Object.entries(record)).toEqual([
      ['__proto__', 2],
      ['constructor', 1],
    ]);
  });

  it('matches a plain count per kind on any sequence (few kinds and many)', () => {
    const kinds = (pool: number) =>
      fc.array(
        fc.integer({ min: 0, max: pool - 1 }).map((i) => `k${i}`),
        { maxLength: 300 },
      );
    fc.assert(
      fc.property(fc.oneof(kinds(3), kinds(6), kinds(40)), (sequence) => {
        const record = tally(sequence).toRecord();
        expect(Object.entries(record)).toEqual(Object.entries(referenceCounts(sequence)));
      }),
    );
  });
});
