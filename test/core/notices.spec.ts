import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineNotices } from '../../src/core/notices.js';
import type { OverflowNotice, OverflowPolicyName } from '../../src/core/types.js';

/*
 * combineNotices is the one place where two gaps become one (the bus folds a subscriber's gap
 * into the replay's, agent streams fold per-run gaps). Each field has its own rule; each is
 * checked on its own, with values that tell the two notices apart, including falsy ones (0,
 * '') that a `||` in place of `??` would skip.
 */

const notice = (fields: Partial<OverflowNotice<unknown>>): OverflowNotice<unknown> => ({
  policy: 'drop-oldest',
  dropped: 0,
  merged: 0,
  terminalPreserved: true,
  ...fields,
});

describe('combineNotices', () => {
  it('adds the dropped and the merged counts', () => {
    const combined = combineNotices(
      notice({ dropped: 2, merged: 3 }),
      notice({ dropped: 5, merged: 11 }),
    );
    expect(combined.dropped).toBe(7);
    expect(combined.merged).toBe(14);
  });

  it("reports the newer gap's policy", () => {
    expect(combineNotices(notice({ policy: 'coalesce' }), notice({ policy: 'error' })).policy).toBe(
      'error',
    );
    expect(combineNotices(notice({ policy: 'error' }), notice({ policy: 'coalesce' })).policy).toBe(
      'coalesce',
    );
  });

  it('preserves terminals only when both gaps did', () => {
    for (const older of [true, false]) {
      for (const newer of [true, false]) {
        const combined = combineNotices(
          notice({ terminalPreserved: older }),
          notice({ terminalPreserved: newer }),
        );
        expect(combined.terminalPreserved).toBe(older && newer);
      }
    }
  });

  it('takes first and fromSeq from the older gap, falling back on the newer', () => {
    const both = combineNotices(
      notice({ first: 'a', fromSeq: 10 }),
      notice({ first: 'c', fromSeq: 20 }),
    );
    expect(both.first).toBe('a');
    expect(both.fromSeq).toBe(10);
    const newerOnly = combineNotices(notice({}), notice({ first: 'c', fromSeq: 20 }));
    expect(newerOnly.first).toBe('c');
    expect(newerOnly.fromSeq).toBe(20);
    const falsyOlder = combineNotices(
      notice({ first: 0, fromSeq: 0 }),
      notice({ first: 'c', fromSeq: 20 }),
    );
    expect(falsyOlder.first).toBe(0);
    expect(falsyOlder.fromSeq).toBe(0);
  });

  it('takes last and toSeq from the newer gap, falling back on the older', () => {
    const both = combineNotices(notice({ last: 'b', toSeq: 15 }), notice({ last: 'd', toSeq: 25 }));
    expect(both.last).toBe('d');
    expect(both.toSeq).toBe(25);
    const olderOnly = combineNotices(notice({ last: 'b', toSeq: 15 }), notice({}));
    expect(olderOnly.last).toBe('b');
    expect(olderOnly.toSeq).toBe(15);
    const falsyNewer = combineNotices(
      notice({ last: 'b', toSeq: 15 }),
      notice({ last: '', toSeq: 0 }),
    );
    expect(falsyNewer.last).toBe('');
    expect(falsyNewer.toSeq).toBe(0);
  });

  it('spans the whole range when each gap knows one end', () => {
    const combined = combineNotices(
      notice({ dropped: 1, first: 'a', fromSeq: 3 }),
      notice({ dropped: 1, last: 'z', toSeq: 9 }),
    );
    expect(combined).toStrictEqual({
      policy: 'drop-oldest',
      dropped: 2,
      merged: 0,
      first: 'a',
      last: 'z',
      fromSeq: 3,
      toSeq: 9,
      terminalPreserved: true,
    });
  });

  it('leaves out the optional fields neither gap has, and changes neither input', () => {
    const older = notice({ dropped: 1, merged: 2, policy: 'coalesce' });
    const newer = notice({ merged: 4, policy: 'coalesce', terminalPreserved: false });
    const combined = combineNotices(older, newer);
    expect(combined).toStrictEqual({
      policy: 'coalesce',
      dropped: 1,
      merged: 6,
      terminalPreserved: false,
    });
    expect(Object.keys(combined).sort()).toEqual([
      'dropped',
      'merged',
      'policy',
      'terminalPreserved',
    ]);
    expect(older).toStrictEqual(notice({ dropped: 1, merged: 2, policy: 'coalesce' }));
    expect(newer).toStrictEqual(
      notice({ merged: 4, policy: 'coalesce', terminalPreserved: false }),
    );
    expect(combined).not.toBe(older);
    expect(combined).not.toBe(newer);
  });

  const policies: OverflowPolicyName[] = [
    'drop-oldest',
    'drop-incoming',
    'drop-progress',
    'error',
    'coalesce',
  ];
  const noticeArbitrary = fc
    .record(
      {
        policy: fc.constantFrom(...policies),
        dropped: fc.nat(100),
        merged: fc.nat(100),
        first: fc.integer({ min: -5, max: 5 }),
        last: fc.integer({ min: -5, max: 5 }),
        fromSeq: fc.nat(50),
        toSeq: fc.nat(50),
        terminalPreserved: fc.boolean(),
      },
      { requiredKeys: ['policy', 'dropped', 'merged', 'terminalPreserved'] },
    )
    .map((fields) => fields as OverflowNotice<number>);

  it('is associative: a run of gaps combines to the same notice however it is grouped', () => {
    fc.assert(
      fc.property(noticeArbitrary, noticeArbitrary, noticeArbitrary, (a, b, c) => {
        expect(combineNotices(combineNotices(a, b), c)).toStrictEqual(
          combineNotices(a, combineNotices(b, c)),
        );
      }),
    );
  });

  it('matches a field-by-field model of a run of gaps', () => {
    fc.assert(
      fc.property(fc.array(noticeArbitrary, { minLength: 1, maxLength: 6 }), (gaps) => {
        const combined = gaps.reduce((acc, gap) => combineNotices(acc, gap));
        const firstDefined = <K extends keyof OverflowNotice<number>>(key: K) =>
          gaps.find((gap) => gap[key] !== undefined)?.[key];
        const lastDefined = <K extends keyof OverflowNotice<number>>(key: K) =>
          [...gaps].reverse().find((gap) => gap[key] !== undefined)?.[key];
        expect(combined.policy).toBe(gaps[gaps.length - 1]?.policy);
        expect(combined.dropped).toBe(gaps.reduce((sum, gap) => sum + gap.dropped, 0));
        expect(combined.merged).toBe(gaps.reduce((sum, gap) => sum + gap.merged, 0));
        expect(combined.terminalPreserved).toBe(gaps.every((gap) => gap.terminalPreserved));
        expect(combined.first).toBe(firstDefined('first'));
        expect(combined.fromSeq).toBe(firstDefined('fromSeq'));
        expect(combined.last).toBe(lastDefined('last'));
        expect(combined.toSeq).toBe(lastDefined('toSeq'));
      }),
    );
  });
});
