/**
 * LogReader alone: one subscriber's way through history and an archive, with a scripted archive
 * whose pages and notices the tests choose.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/bus/EventLog.js';
import { FrameHub } from '../../src/bus/FrameHub.js';
import { compileFilter } from '../../src/bus/filter.js';
import { ARCHIVE_PAGE, type LogGap, LogReader } from '../../src/bus/LogReader.js';
import type { EventArchive, EventFilter, EventFrame } from '../../src/bus/types.js';
import type { OverflowNotice } from '../../src/core/types.js';

const frame = (seq: number, kind = 'tick'): EventFrame =>
  FrameHub.createFrame({ kind, payload: seq }, 'e1', seq, seq, 0);

/** An archive holding `held` (in seq order); `notices` puts an archive notice on a frame. */
function archiveOf(
  held: EventFrame[],
  earliest?: number,
): EventArchive & { asked: number[]; limits: Array<number | undefined> } {
  const asked: number[] = [];
  const limits: Array<number | undefined> = [];
  return {
    asked,
    limits,
    append: () => undefined,
    replay: (_filter: EventFilter, after: number, limit?: number) => {
      asked.push(after);
      limits.push(limit);
      return held.filter((f) => f.seq > after);
    },
    ...(earliest === undefined ? {} : { earliestSeq: () => earliest }),
  };
}

/** Frame `seq` carrying an archive's notice: one frame lost, `'drop-incoming'`, unless `notice` says otherwise. */
function withNotice(seq: number, notice: Partial<OverflowNotice<EventFrame>>): EventFrame {
  return {
    ...frame(seq),
    overflow: {
      policy: 'drop-incoming',
      dropped: 1,
      merged: 0,
      terminalPreserved: false,
      ...notice,
    },
  };
}

/** An archive that answers later: each replay is a Subject the test feeds, kept with its `after`. */
function laterArchive(): EventArchive & {
  calls: Array<{ after: number; pages: Subject<EventFrame> }>;
} {
  const calls: Array<{ after: number; pages: Subject<EventFrame> }> = [];
  return {
    calls,
    append: () => undefined,
    replay: (_filter: EventFilter, after: number) => {
      const pages = new Subject<EventFrame>();
      calls.push({ after, pages });
      return pages;
    },
  };
}

/** Feeds seqs `from..to` to a replay, then completes it unless `open`. */
function answer(pages: Subject<EventFrame>, from: number, to: number, open = false): void {
  for (let seq = from; seq <= to && pages.observed; seq++) pages.next(frame(seq));
  if (!open) pages.complete();
}

/** Takes the frames available now, as seqs. */
function seqsOf(r: LogReader<unknown>): number[] {
  const seqs: number[] = [];
  for (let f = r.next(); f !== undefined; f = r.next()) seqs.push(f.seq);
  return seqs;
}

/** `from..to` as an array. */
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** An archive whose replay throws at the call. */
const archiveDown: EventArchive = {
  append: () => undefined,
  replay: () => {
    throw new Error('archive down');
  },
};

/** A log whose history holds `fromSeq..head` and whose archive is `archive`. */
function logOf(archive: EventArchive | undefined, fromSeq: number, head: number) {
  const log = new EventLog<unknown>(head - fromSeq + 1, archive, false);
  if (fromSeq > 1) log.restartAt(fromSeq - 1);
  for (let seq = fromSeq; seq <= head; seq++) log.append(frame(seq));
  return log;
}

function reader(
  log: EventLog<unknown>,
  after: number,
  options: { end?: number; reportGaps?: boolean; filter?: EventFilter; wake?: () => void } = {},
) {
  return new LogReader<unknown>(
    log,
    compileFilter(options.filter, 'test'),
    after,
    options.end,
    options.reportGaps ?? true,
    false,
    options.wake ?? (() => {}),
  );
}

/** Reads everything available now: the seqs, and the gaps met before each. */
function readAll(r: LogReader<unknown>): string[] {
  const out: string[] = [];
  for (let f = r.next(); f !== undefined; f = r.next()) {
    const gap = r.takeGap();
    if (gap !== undefined) out.push(gapText(gap));
    out.push(`${f.seq}${f.overflow === undefined ? '' : '!'}`);
  }
  const gap = r.takeGap();
  if (gap !== undefined) out.push(gapText(gap));
  return out;
}

/** `gap <from>-<to>`, then its policy when set, and how many were lost when not the whole range. */
function gapText(gap: LogGap): string {
  const policy = gap.policy ? ` ${gap.policy}` : '';
  const dropped = gap.dropped === gap.toSeq - gap.fromSeq + 1 ? '' : ` (${gap.dropped} lost)`;
  return `gap ${gap.fromSeq}-${gap.toSeq}${policy}${dropped}`;
}

describe('LogReader', () => {
  it('reads the archive below history, then history, and is caught up at the head', () => {
    const archive = archiveOf([1, 2, 3, 4].map((seq) => frame(seq)));
    const r = reader(logOf(archive, 5, 6), 1);
    expect(r.caughtUp).toBe(false);
    expect(readAll(r)).toEqual(['2', '3', '4', '5', '6']);
    expect(r.caughtUp).toBe(true);
    expect(r.cursor).toBe(6);
    // The page ended where history starts: history is read where it is, no second request.
    expect(archive.asked).toEqual([1]);
  });

  it('without an archive, what history no longer holds is one gap before the first frame', () => {
    const r = reader(logOf(undefined, 5, 6), 1);
    expect(readAll(r)).toEqual(['gap 2-4', '5', '6']);
  });

  it('reports no gap when told not to', () => {
    const r = reader(logOf(undefined, 5, 6), 1, { reportGaps: false });
    expect(readAll(r)).toEqual(['5', '6']);
  });

  it("reports what is older than the archive's oldest frame as gone", () => {
    const archive = archiveOf(
      [4].map((seq) => frame(seq)),
      4,
    );
    const r = reader(logOf(archive, 5, 5), 0);
    expect(readAll(r)).toEqual(['gap 1-3', '4', '5']);
  });

  it('takes an archive notice as its own gap, and widens one gap over several notices', () => {
    // 3 follows a gap of 2; 6 follows a gap of 4-5; a filter skips 3, so both gaps go on 6.
    const archive = archiveOf([
      frame(1),
      withNotice(3, { fromSeq: 2, toSeq: 2 }),
      withNotice(6, { fromSeq: 4, toSeq: 5, dropped: 2 }),
      frame(7),
    ]);
    const log = logOf(archive, 8, 8);
    expect(readAll(reader(log, 0))).toEqual([
      '1',
      'gap 2-2 drop-incoming',
      '3',
      'gap 4-5 drop-incoming',
      '6',
      '7',
      '8',
    ]);
    const filtered = reader(log, 1, { filter: { kinds: ['tick'], where: (f) => f.seq !== 3 } });
    // One gap over both, seq 3 inside it: read (and filtered out), so not counted as lost.
    expect(readAll(filtered)).toEqual(['gap 2-5 drop-incoming (3 lost)', '6', '7', '8']);
    // Without gap reports, the frame keeps the archive's notice.
    expect(readAll(reader(log, 0, { reportGaps: false }))).toEqual(['1', '3!', '6!', '7', '8']);
  });

  it('cuts an archive notice back to where it was: what it read or reported is not lost again', () => {
    // 3 was read before 5's notice of 2-4; 8's notice of 6-7 says one of the two was lost; 9's
    // notice lies wholly behind the reader.
    const archive = archiveOf([
      frame(1),
      frame(3),
      withNotice(5, { fromSeq: 2, toSeq: 4, dropped: 3 }),
      withNotice(8, { fromSeq: 6, toSeq: 7, dropped: 1 }),
      withNotice(9, { fromSeq: 1, toSeq: 8, dropped: 8 }),
    ]);
    expect(readAll(reader(logOf(archive, 10, 10), 0))).toEqual([
      '1',
      '3',
      'gap 4-4 drop-incoming',
      '5',
      'gap 6-7 drop-incoming (1 lost)',
      '8',
      '9',
      '10',
    ]);
  });

  it('a gap older than the archive and a notice of the archive after it are one gap, the newer policy', () => {
    // The archive's oldest is 4: 1-3 are older than it. 4 is read (and filtered out); 6's notice
    // reaches back to 1, but only 5 is after the reader.
    const archive = archiveOf([frame(4), withNotice(6, { fromSeq: 1, toSeq: 5, dropped: 2 })], 4);
    const filtered = reader(logOf(archive, 7, 7), 0, { filter: { where: (f) => f.seq !== 4 } });
    expect(readAll(filtered)).toEqual(['gap 1-5 drop-incoming (4 lost)', '6', '7']);
  });

  it('keeps an archive notice without a seq range on its frame (it cannot be placed)', () => {
    const vague = withNotice(2, { policy: 'drop-oldest' });
    const halfOpen = withNotice(3, { policy: 'drop-oldest', fromSeq: 1 });
    const toOnly = withNotice(4, { policy: 'drop-oldest', toSeq: 3 });
    const archive = archiveOf([frame(1), vague, halfOpen, toOnly]);
    expect(readAll(reader(logOf(archive, 5, 5), 0))).toEqual(['1', '2!', '3!', '4!', '5']);
  });

  it('reads on when the archive cannot tell its oldest frame (earliestSeq throws)', () => {
    const archive: EventArchive = {
      append: () => undefined,
      replay: (_filter, after) => [frame(2), frame(3)].filter((f) => f.seq > after),
      earliestSeq: () => {
        throw new Error('unknown');
      },
    };
    expect(readAll(reader(logOf(archive, 4, 4), 1))).toEqual(['2', '3', '4']);
  });

  it('stops at a fixed end, also in the middle of an archive page', () => {
    const archive = archiveOf([1, 2, 3, 4, 5].map((seq) => frame(seq)));
    const r = reader(logOf(archive, 6, 8), 1, { end: 3 });
    expect(readAll(r)).toEqual(['2', '3']);
    expect(r.caughtUp).toBe(true);
    expect(r.cursor).toBe(3);
  });

  it('an archive page of frames that do not match, all beyond the end, moves the cursor to the end', () => {
    const archive: EventArchive = {
      append: () => undefined,
      // Filtered at the source: only seq 5 matches, beyond the end of 3.
      replay: (_filter, after) => [frame(5)].filter((f) => f.seq > after),
    };
    const r = reader(logOf(archive, 6, 8), 0, { end: 3 });
    expect(readAll(r)).toEqual([]);
    expect(r.caughtUp).toBe(true);
    expect(r.cursor).toBe(3);
  });

  it('reads a page at a time, asking again after the last frame of a full page only', () => {
    const count = ARCHIVE_PAGE + 10;
    const archive = archiveOf(Array.from({ length: count }, (_, i) => frame(i + 1)));
    const r = reader(logOf(archive, count + 1, count + 1), 0);
    const seqs = readAll(r);
    expect(seqs).toHaveLength(count + 1);
    expect(seqs.at(-1)).toBe(`${count + 1}`);
    expect(archive.asked).toEqual([0, ARCHIVE_PAGE]);
  });

  it('waits for a page that comes later, wakes its subscriber, and drops it when disposed', () => {
    const pages = new Subject<EventFrame>();
    const archive: EventArchive = { append: () => undefined, replay: () => pages };
    let woken = 0;
    const r = reader(logOf(archive, 4, 4), 0, { wake: () => woken++ });
    expect(r.next()).toBeUndefined();
    expect(r.caughtUp).toBe(false);
    pages.next(frame(1));
    pages.next(frame(2));
    pages.complete();
    expect(woken).toBe(1);
    // 3 is neither in the archive nor in history (which starts at 4): the archive said all it had.
    expect(readAll(r)).toEqual(['1', '2', '4']);
    const slow = new Subject<EventFrame>();
    const slowArchive: EventArchive = { append: () => undefined, replay: () => slow };
    const disposed = reader(logOf(slowArchive, 4, 4), 0);
    disposed.next();
    expect(slow.observed).toBe(true);
    disposed.dispose();
    expect(slow.observed).toBe(false);
  });

  it('a failing archive or a throwing filter stops reading with the error, after the frames read', () => {
    const r = reader(logOf(archiveDown, 4, 4), 0);
    expect(r.next()).toBeUndefined();
    expect(r.failure).toEqual({ error: new Error('archive down') });
    const notFrames: EventArchive = { append: () => undefined, replay: () => [42 as never] };
    const bad = reader(logOf(notFrames, 4, 4), 0);
    expect(bad.next()).toBeUndefined();
    expect(String(bad.failure?.error)).toMatch(/not a frame/);
    const throwing = reader(logOf(undefined, 1, 3), 0, {
      filter: {
        where: (f) => {
          if (f.seq === 2) throw new Error('where threw');
          return true;
        },
      },
    });
    expect(throwing.next()?.seq).toBe(1);
    expect(throwing.next()).toBeUndefined();
    expect(throwing.failure).toEqual({ error: new Error('where threw') });
  });

  it('an archive that repeats a frame or goes back delivers each seq once, in increasing order', () => {
    const archive: EventArchive = {
      append: () => undefined,
      replay: (_filter, after) =>
        [frame(2), frame(2), frame(4), frame(3)].filter((f) => f.seq > after),
    };
    const r = reader(logOf(archive, 5, 5), 1);
    expect(readAll(r)).toEqual(['2', '4', '5']);
    expect(r.cursor).toBe(5);
  });

  it('leaves out of a page the frames up to the cursor that an archive replays anyway', () => {
    // This archive ignores `after` and replays from its start each time.
    const count = ARCHIVE_PAGE + 10;
    const held = Array.from({ length: count }, (_, i) => frame(i + 1));
    const asked: number[] = [];
    const archive: EventArchive = {
      append: () => undefined,
      replay: (_filter, after) => {
        asked.push(after);
        // A reader that kept the old frames in its pages would ask again and again.
        if (asked.length > 2) throw new Error('asked once too often');
        return held;
      },
    };
    const r = reader(logOf(archive, count + 1, count + 1), 5);
    const seqs = readAll(r);
    expect(seqs).toEqual(Array.from({ length: count - 4 }, (_, i) => `${i + 6}`));
    // A full page holds ARCHIVE_PAGE frames after the cursor, none at or before it.
    expect(asked).toEqual([5, 5 + ARCHIVE_PAGE]);
  });

  it('stops listening to the archive once a page reaches the end, and is caught up there', () => {
    const pages = new Subject<EventFrame>();
    const archive: EventArchive = { append: () => undefined, replay: () => pages };
    let woken = 0;
    const r = reader(logOf(archive, 6, 8), 0, { end: 3, wake: () => woken++ });
    expect(r.next()).toBeUndefined();
    pages.next(frame(1));
    pages.next(frame(2));
    expect(pages.observed).toBe(true);
    pages.next(frame(3));
    // The frame at the end closes the page: the archive is not waited for any longer.
    expect(pages.observed).toBe(false);
    expect(woken).toBe(1);
    expect(readAll(r)).toEqual(['1', '2', '3']);
    expect(r.caughtUp).toBe(true);
  });

  it('wakes its subscriber for an archive failure that comes later, never for one met at once', () => {
    let woken = 0;
    const atOnce = reader(logOf(archiveDown, 4, 4), 0, { wake: () => woken++ });
    expect(atOnce.next()).toBeUndefined();
    expect(atOnce.failure).toEqual({ error: new Error('archive down') });
    expect(woken).toBe(0);

    const pages = new Subject<EventFrame>();
    const later = reader(logOf({ append: () => undefined, replay: () => pages }, 4, 4), 0, {
      wake: () => woken++,
    });
    expect(later.next()).toBeUndefined();
    expect(later.failure).toBeUndefined();
    pages.error(new Error('connection lost'));
    expect(woken).toBe(1);
    expect(later.failure).toEqual({ error: new Error('connection lost') });
    expect(later.next()).toBeUndefined();
  });

  it('a gap below history stops at a fixed end that lies inside it, and the cursor with it', () => {
    // No archive: 2-3 are gone, 4-5 are beyond the end.
    const bare = reader(logOf(undefined, 6, 8), 1, { end: 3 });
    expect(readAll(bare)).toEqual(['gap 2-3']);
    expect(bare.cursor).toBe(3);
    expect(bare.caughtUp).toBe(true);
    // The archive holds nothing from 10 down: 1-3 are gone, and the archive is not asked.
    const trimmed = archiveOf([], 10);
    const old = reader(logOf(trimmed, 6, 8), 0, { end: 3 });
    expect(readAll(old)).toEqual(['gap 1-3']);
    expect(old.cursor).toBe(3);
    expect(trimmed.asked).toEqual([]);
    // The archive has nothing more that matches: the cursor moves to the end, with no gap.
    const drained = archiveOf([]);
    const rest = reader(logOf(drained, 6, 8), 1, { end: 3 });
    expect(readAll(rest)).toEqual([]);
    expect(rest.cursor).toBe(3);
    expect(rest.caughtUp).toBe(true);
  });

  it('fails with "not a frame" when the archive replays null, undefined or an object without a seq', () => {
    for (const value of [null, undefined, { kind: 'tick', seq: '3' }]) {
      const archive: EventArchive = { append: () => undefined, replay: () => [value as never] };
      const r = reader(logOf(archive, 4, 4), 0);
      expect(r.next()).toBeUndefined();
      expect(String(r.failure?.error)).toMatch(
        /EventBus: the archive's replay emitted .*not a frame/,
      );
    }
  });

  it("a gap from the archive's oldest frame that reaches into history stops where history starts", () => {
    // The archive kept nothing older than 8, and history holds 5-6: 1-4 are gone, 5-6 are read.
    const archive = archiveOf([], 8);
    const r = reader(logOf(archive, 5, 6), 0);
    expect(readAll(r)).toEqual(['gap 1-4', '5', '6']);
    expect(archive.asked).toEqual([]);
  });

  it('a second gap met before the first was taken widens it instead of replacing it', () => {
    // History holds 5-6 of a 2-frame ring, nothing matches there: 2-4 is a gap not yet taken.
    const log = logOf(undefined, 5, 6);
    const r = reader(log, 1, { filter: { where: (f) => f.seq >= 9 } });
    expect(r.next()).toBeUndefined();
    expect(r.cursor).toBe(6);
    // The ring moves on past the cursor: 7-8 are gone too, and go into the gap still held.
    for (let seq = 7; seq <= 10; seq++) log.append(frame(seq));
    expect(r.next()?.seq).toBe(9);
    // 5-6 were read (and filtered out): inside the range, not among the lost.
    expect(r.takeGap()).toEqual({ fromSeq: 2, toSeq: 8, dropped: 5 });
    expect(r.next()?.seq).toBe(10);
    expect(r.takeGap()).toBeUndefined();
  });

  it('asks the archive for a page of frames at most, and none past its end', () => {
    const count = ARCHIVE_PAGE + 10;
    const archive = archiveOf(Array.from({ length: count }, (_, i) => frame(i + 1)));
    const log = logOf(archive, count + 1, count + 1);
    expect(readAll(reader(log, 0))).toHaveLength(count + 1);
    expect(archive.limits).toEqual([ARCHIVE_PAGE, 11]);
    // With an end below the head: the frames up to it, not a page.
    const ending = reader(log, 5, { end: 12 });
    expect(readAll(ending)).toEqual(['6', '7', '8', '9', '10', '11', '12']);
    expect(archive.limits.at(-1)).toBe(7);
  });

  it('reads every archive page into one array of a page size, reused page after page', () => {
    // White-box: the page is private, but "a reader holds at most two pages" is its contract
    // (one from an archive that answers at once).
    const pageOf = (r: LogReader<unknown>) => (r as unknown as { page: unknown[] }).page;
    const short = reader(logOf(archiveOf([frame(1), frame(2)]), 3, 3), 0);
    expect(short.next()?.seq).toBe(1);
    expect(pageOf(short)).toHaveLength(ARCHIVE_PAGE);

    const count = ARCHIVE_PAGE + 10;
    const archive = archiveOf(Array.from({ length: count }, (_, i) => frame(i + 1)));
    const r = reader(logOf(archive, count + 1, count + 1), 0);
    expect(r.next()?.seq).toBe(1);
    const first = pageOf(r);
    for (let seq = 2; seq <= ARCHIVE_PAGE + 1; seq++) expect(r.next()?.seq).toBe(seq);
    expect(archive.asked).toEqual([0, ARCHIVE_PAGE]);
    // The second page went into the first one's array, from its start.
    expect(pageOf(r)).toBe(first);
    expect(first).toHaveLength(ARCHIVE_PAGE);
    expect(readAll(r)).toHaveLength(count + 1 - (ARCHIVE_PAGE + 1));
    r.dispose();
    expect(pageOf(r)).toHaveLength(0);
  });

  it('reads ahead into a second array, and the two take turns page after page', () => {
    // White-box, as above: two arrays at most, allocated once.
    const arrays = (r: LogReader<unknown>) => {
      const { page, spare } = r as unknown as { page: unknown[]; spare: unknown[] };
      return [page, spare];
    };
    const archive = laterArchive();
    const count = 4 * ARCHIVE_PAGE;
    const r = reader(logOf(archive, count + 1, count + 1), 0);
    r.next();
    expect(arrays(r)[1]).toHaveLength(0);
    const seen = new Set<unknown>();
    for (let call = 0; call < 4; call++) {
      answer(archive.calls[call]!.pages, call * ARCHIVE_PAGE + 1, (call + 1) * ARCHIVE_PAGE);
      for (const array of arrays(r)) if (array.length > 0) seen.add(array);
      seqsOf(r);
    }
    expect(seen.size).toBe(2);
    // An archive that answers at once never needs the second one.
    const atOnce = reader(
      logOf(archiveOf(range(1, count).map((seq) => frame(seq))), count + 1, count + 1),
      0,
    );
    expect(seqsOf(atOnce)).toHaveLength(count + 1);
    expect(arrays(atOnce)[1]).toHaveLength(0);
  });
  it('from an archive that answers later, asks for the next page as soon as a full one came, and holds two at most', () => {
    const archive = laterArchive();
    const count = 2 * ARCHIVE_PAGE + 5;
    let woken = 0;
    const r = reader(logOf(archive, count + 1, count + 1), 0, { wake: () => woken++ });
    expect(r.next()).toBeUndefined();
    answer(archive.calls[0]!.pages, 1, ARCHIVE_PAGE);
    // Asked before a frame of the first page was read.
    expect(archive.calls.map((c) => c.after)).toEqual([0, ARCHIVE_PAGE]);
    expect(woken).toBe(1);
    expect(seqsOf(r).slice(0, 3)).toEqual([1, 2, 3]);
    answer(archive.calls[1]!.pages, ARCHIVE_PAGE + 1, 2 * ARCHIVE_PAGE);
    // Two pages held: no third is asked for until the first is read.
    expect(archive.calls).toHaveLength(2);
    expect(r.caughtUp).toBe(false);
    expect(seqsOf(r)).toEqual(range(ARCHIVE_PAGE + 1, 2 * ARCHIVE_PAGE));
    expect(archive.calls.map((c) => c.after)).toEqual([0, ARCHIVE_PAGE, 2 * ARCHIVE_PAGE]);
    // A short page asks for none after it; then history.
    answer(archive.calls[2]!.pages, 2 * ARCHIVE_PAGE + 1, count);
    expect(archive.calls).toHaveLength(3);
    expect(seqsOf(r)).toEqual(range(2 * ARCHIVE_PAGE + 1, count + 1));
    expect(r.caughtUp).toBe(true);
    expect(r.takeGap()).toBeUndefined();
  });

  it('reads ahead after the first page from the read-ahead page too, and a page read ahead empty ends the archive part', () => {
    const archive = laterArchive();
    const count = 2 * ARCHIVE_PAGE;
    // History starts well after the archive's frames: what lies between was not kept anywhere.
    const r = reader(logOf(archive, count + 10, count + 10), 0);
    r.next();
    answer(archive.calls[0]!.pages, 1, ARCHIVE_PAGE);
    answer(archive.calls[1]!.pages, ARCHIVE_PAGE + 1, count);
    for (let seq = 1; seq <= ARCHIVE_PAGE + 1; seq++) expect(r.next()?.seq).toBe(seq);
    // The second page was full: the third is asked for as it became the page read.
    expect(archive.calls.map((c) => c.after)).toEqual([0, ARCHIVE_PAGE, count]);
    expect(seqsOf(r)).toEqual(range(ARCHIVE_PAGE + 2, count));
    answer(archive.calls[2]!.pages, 1, 0);
    expect(seqsOf(r)).toEqual([count + 10]);
    // The archive had nothing more: the frames between are skipped without a gap (they did not match).
    expect(r.takeGap()).toBeUndefined();
    expect(r.caughtUp).toBe(true);
  });

  it('reads nothing ahead of an archive that answers at once, past the end, or into history', () => {
    const count = 2 * ARCHIVE_PAGE + 5;
    const atOnce = archiveOf(range(1, count).map((seq) => frame(seq)));
    const log = logOf(atOnce, count + 1, count + 1);
    const r = reader(log, 0);
    expect(r.next()?.seq).toBe(1);
    expect(atOnce.asked).toEqual([0]);

    const ending = laterArchive();
    const toEnd = reader(logOf(ending, count + 1, count + 1), 0, { end: ARCHIVE_PAGE });
    toEnd.next();
    answer(ending.calls[0]!.pages, 1, ARCHIVE_PAGE, true);
    expect(ending.calls).toHaveLength(1);
    expect(seqsOf(toEnd)).toEqual(range(1, ARCHIVE_PAGE));
    expect(toEnd.caughtUp).toBe(true);

    const below = laterArchive();
    const toHistory = reader(logOf(below, ARCHIVE_PAGE + 1, ARCHIVE_PAGE + 3), 0);
    toHistory.next();
    answer(below.calls[0]!.pages, 1, ARCHIVE_PAGE, true);
    expect(below.calls).toHaveLength(1);
    expect(seqsOf(toHistory)).toEqual(range(1, ARCHIVE_PAGE + 3));
  });

  it('stops reading ahead when disposed, and a read ahead that fails gives its frames before the error', () => {
    const archive = laterArchive();
    const count = 3 * ARCHIVE_PAGE;
    const disposed = reader(logOf(archive, count + 1, count + 1), 0);
    disposed.next();
    answer(archive.calls[0]!.pages, 1, ARCHIVE_PAGE);
    expect(archive.calls[1]!.pages.observed).toBe(true);
    disposed.dispose();
    expect(archive.calls[1]!.pages.observed).toBe(false);

    const failing = laterArchive();
    let woken = 0;
    const r = reader(logOf(failing, count + 1, count + 1), 0, { wake: () => woken++ });
    r.next();
    answer(failing.calls[0]!.pages, 1, ARCHIVE_PAGE);
    answer(failing.calls[1]!.pages, ARCHIVE_PAGE + 1, ARCHIVE_PAGE + 3, true);
    failing.calls[1]!.pages.error(new Error('connection lost'));
    expect(woken).toBe(2);
    // The reader fails once it reached the failure, not before.
    expect(r.failure).toBeUndefined();
    expect(seqsOf(r)).toEqual(range(1, ARCHIVE_PAGE + 3));
    expect(r.failure).toEqual({ error: new Error('connection lost') });
    expect(failing.calls).toHaveLength(2);
    expect(r.caughtUp).toBe(false);
  });

  it('a subscriber woken by a page may read it and leave from inside the wake: the read ahead stops', () => {
    const archive = laterArchive();
    const count = 3 * ARCHIVE_PAGE;
    const read: number[] = [];
    const r: LogReader<unknown> = reader(logOf(archive, count + 1, count + 1), 0, {
      wake: () => {
        // Re-entrant, as a bus's drain is: reads what came, then unsubscribes.
        read.push(...seqsOf(r));
        r.dispose();
      },
    });
    r.next();
    answer(archive.calls[0]!.pages, 1, ARCHIVE_PAGE);
    expect(read).toEqual(range(1, ARCHIVE_PAGE));
    expect(archive.calls).toHaveLength(2);
    expect(archive.calls[1]!.pages.observed).toBe(false);
  });

  it('a read ahead refused at the call fails the reader after the page before it, with one wake', () => {
    const pages = new Subject<EventFrame>();
    let calls = 0;
    const archive: EventArchive = {
      append: () => undefined,
      replay: () => {
        if (++calls === 1) return pages;
        throw new Error('pool exhausted');
      },
    };
    let woken = 0;
    const count = 2 * ARCHIVE_PAGE;
    const r = reader(logOf(archive, count + 1, count + 1), 0, { wake: () => woken++ });
    r.next();
    answer(pages, 1, ARCHIVE_PAGE);
    // The page's own wake covers the refusal met while it came.
    expect(woken).toBe(1);
    expect(calls).toBe(2);
    expect(seqsOf(r)).toEqual(range(1, ARCHIVE_PAGE));
    expect(r.failure).toEqual({ error: new Error('pool exhausted') });
  });

  it('a filter that throws ends reading there: no page is read ahead, none read ahead is read', () => {
    const count = 3 * ARCHIVE_PAGE;
    const failAt = (seq: number): EventFilter => ({
      where: (f) => {
        if (f.seq === seq) throw new Error(`where threw at ${seq}`);
        return true;
      },
    });
    // Thrown while the first page is still coming: nothing is asked for after it.
    const early = laterArchive();
    const r = reader(logOf(early, count + 1, count + 1), 0, { filter: failAt(2) });
    r.next();
    answer(early.calls[0]!.pages, 1, 2, true);
    expect(seqsOf(r)).toEqual([1]);
    expect(r.failure).toEqual({ error: new Error('where threw at 2') });
    answer(early.calls[0]!.pages, 3, ARCHIVE_PAGE);
    expect(early.calls).toHaveLength(1);

    // Thrown in a page whose next one was read ahead: that one is not read.
    const late = laterArchive();
    const l = reader(logOf(late, count + 1, count + 1), 0, { filter: failAt(ARCHIVE_PAGE) });
    l.next();
    answer(late.calls[0]!.pages, 1, ARCHIVE_PAGE);
    answer(late.calls[1]!.pages, ARCHIVE_PAGE + 1, 2 * ARCHIVE_PAGE);
    expect(seqsOf(l)).toEqual(range(1, ARCHIVE_PAGE - 1));
    expect(l.failure).toEqual({ error: new Error(`where threw at ${ARCHIVE_PAGE}`) });
    expect(l.next()).toBeUndefined();
    expect(late.calls).toHaveLength(2);
  });
  it('reads every matching frame once, in order, however an archive that answers later is paced (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          // Seqs 1..held: in the archive when `kept`, of kind 'a' when `isA`.
          held: fc.integer({ min: 0, max: 3 * ARCHIVE_PAGE + 50 }),
          keptEvery: fc.integer({ min: 1, max: 3 }),
          inHistory: fc.integer({ min: 1, max: 20 }),
          after: fc.integer({ min: 0, max: 2 * ARCHIVE_PAGE }),
          end: fc.option(fc.integer({ min: 0, max: 4 * ARCHIVE_PAGE }), { nil: undefined }),
          onlyA: fc.boolean(),
          // Each step: read this many frames (0: answer the pending replay, if any, instead).
          steps: fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 40 }),
        }),
        ({ held, keptEvery, inHistory, after, end, onlyA, steps }) => {
          const isA = (seq: number) => seq % 5 !== 0;
          const inArchive = range(1, held)
            .filter((seq) => seq % keptEvery === 0)
            .map((seq) => frame(seq, isA(seq) ? 'a' : 'b'));
          const archive = laterArchive();
          const log = new EventLog<unknown>(inHistory, archive, false);
          log.restartAt(held);
          for (let seq = held + 1; seq <= held + inHistory; seq++) {
            log.append(frame(seq, isA(seq) ? 'a' : 'b'));
          }
          const head = held + inHistory;
          const from = Math.min(after, head);
          const r = reader(log, from, {
            ...(end === undefined ? {} : { end: Math.min(end, head) }),
            ...(onlyA ? { filter: { kinds: ['a'] } } : {}),
          });
          const limit = end === undefined ? head : Math.min(end, head);
          const seen: number[] = [];
          let answered = 0;
          const answerNext = () => {
            const call = archive.calls[answered++]!;
            for (const f of inArchive) {
              if (!call.pages.observed) break;
              if (f.seq > call.after) call.pages.next(f);
            }
            call.pages.complete();
          };
          const read = (count: number) => {
            for (let i = 0; i < count; i++) {
              const f = r.next();
              if (f === undefined) return;
              seen.push(f.seq);
            }
          };
          let calls = 0;
          for (const step of [...steps, ...Array(20).fill(0), 100_000]) {
            if (step === 0 && answered < archive.calls.length) answerNext();
            else read(step);
            // One replay at a time, and never past the page after the one being read.
            expect(archive.calls.length - answered).toBeLessThanOrEqual(1);
            if (archive.calls.length > calls) {
              calls = archive.calls.length;
              const asked = archive.calls.map((c) => c.after);
              if (calls > 1) expect(r.cursor).toBeGreaterThanOrEqual(asked[calls - 2]!);
            }
          }
          while (answered < archive.calls.length) {
            answerNext();
            read(100_000);
          }
          const wanted = [...inArchive.map((f) => f.seq), ...range(held + 1, head)].filter(
            (seq) => seq > from && seq <= limit && (!onlyA || isA(seq)),
          );
          expect(seen).toEqual(wanted);
          expect(r.caughtUp).toBe(true);
          expect(r.takeGap()).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
  });
});
