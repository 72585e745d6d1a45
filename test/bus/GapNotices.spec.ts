import { describe, expect, it } from 'vitest';
import { GapNotices, inSeqOrder } from '../../src/bus/GapNotices.js';
import type { EventFrame } from '../../src/bus/types.js';
import type { OverflowNotice } from '../../src/core/types.js';

type Notice = OverflowNotice<EventFrame<unknown>>;

function gap(fromSeq: number, toSeq: number, policy: Notice['policy'] = 'drop-oldest'): Notice {
  return {
    policy,
    dropped: toSeq - fromSeq + 1,
    merged: 0,
    fromSeq,
    toSeq,
    terminalPreserved: false,
  };
}

const frameAt = (seq: number) => ({ seq }) as EventFrame<unknown>;

describe('inSeqOrder', () => {
  it('gives either notice alone when the other is absent', () => {
    const a = gap(1, 2);
    expect(inSeqOrder(a, undefined)).toBe(a);
    expect(inSeqOrder(undefined, a)).toBe(a);
    expect(inSeqOrder(undefined, undefined)).toBeUndefined();
  });

  it('combines two notices with the lower seqs first, whichever order they come in', () => {
    const early = gap(3, 5, 'coalesce');
    const late = gap(10, 12, 'drop-oldest');
    const expected = {
      policy: 'drop-oldest',
      dropped: 6,
      merged: 0,
      fromSeq: 3,
      toSeq: 12,
      terminalPreserved: false,
    };
    expect(inSeqOrder(late, early)).toStrictEqual(expected);
    expect(inSeqOrder(early, late)).toStrictEqual(expected);
  });

  it('keeps the order given when both start at the same seq', () => {
    expect(inSeqOrder(gap(3, 4, 'coalesce'), gap(3, 6, 'drop-oldest'))?.policy).toBe('drop-oldest');
  });
});

describe('GapNotices', () => {
  it('holds log gaps behind queued frames and hands over those before a seq, oldest first', () => {
    const notices = new GapNotices<unknown>();
    expect(notices.deferring).toBe(false);
    notices.defer(gap(1, 3));
    notices.defer(gap(6, 8));
    notices.defer(gap(12, 14));
    expect(notices.deferring).toBe(true);
    expect(notices.takeDeferred(1)).toBeUndefined();
    expect(notices.takeDeferred(9)).toStrictEqual({ ...gap(1, 8), dropped: 6 });
    // A gap ending at 14 lies before 15, not before 14.
    expect(notices.takeDeferred(14)).toBeUndefined();
    expect(notices.deferring).toBe(true);
    expect(notices.takeDeferred(15)).toStrictEqual(gap(12, 14));
    expect(notices.deferring).toBe(false);
    expect(notices.takeDeferred(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it("turns the log's gaps into notices and counts what they lost", () => {
    const notices = new GapNotices<unknown>();
    expect(notices.logGap({ fromSeq: 4, toSeq: 9, dropped: 6 })).toStrictEqual(gap(4, 9));
    expect(
      notices.logGap({ fromSeq: 20, toSeq: 20, dropped: 1, policy: 'drop-progress' }),
    ).toStrictEqual(gap(20, 20, 'drop-progress'));
    // Two gaps the reader met as one, a frame it read between them inside the range.
    expect(notices.logGap({ fromSeq: 30, toSeq: 34, dropped: 4 })).toStrictEqual({
      ...gap(30, 34),
      dropped: 4,
    });
    expect(notices.logDropped).toBe(11);
  });

  it("gives a queue's notice the seq range of its first and last frames", () => {
    const notices = new GapNotices<unknown>();
    const queued: Notice = {
      policy: 'drop-oldest',
      dropped: 3,
      merged: 0,
      first: frameAt(5),
      last: frameAt(7),
      terminalPreserved: true,
    };
    expect(notices.fromQueue(queued)).toStrictEqual({ ...queued, fromSeq: 5, toSeq: 7 });
  });

  it('widens the range to the seqs coalesce folded since the last notice, then forgets them', () => {
    const notices = new GapNotices<unknown>();
    const queued: Notice = {
      policy: 'coalesce',
      dropped: 1,
      merged: 4,
      first: frameAt(5),
      last: frameAt(7),
      terminalPreserved: true,
    };
    notices.noteMerged(undefined);
    notices.noteMerged(9);
    notices.noteMerged(2);
    notices.noteMerged(6);
    expect(notices.fromQueue(queued)).toMatchObject({ fromSeq: 2, toSeq: 9 });
    notices.noteMerged(6);
    expect(notices.fromQueue(queued)).toMatchObject({ fromSeq: 5, toSeq: 7 });
    expect(notices.fromQueue(queued)).toMatchObject({ fromSeq: 5, toSeq: 7 });
  });

  it('a notice of merges alone (no first or last frame) takes its range from them', () => {
    const notices = new GapNotices<unknown>();
    const merged: Notice = { policy: 'coalesce', dropped: 0, merged: 2, terminalPreserved: true };
    notices.noteMerged(4);
    notices.noteMerged(3);
    expect(notices.fromQueue(merged)).toStrictEqual({ ...merged, fromSeq: 3, toSeq: 4 });
    // Without merges or frames, no range at all (not a range of undefined).
    expect(notices.fromQueue(merged)).toStrictEqual(merged);
  });
});
