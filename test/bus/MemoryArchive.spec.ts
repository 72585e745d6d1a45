import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { FrameRing } from '../../src/bus/FrameRing.js';
import { filterPredicate } from '../../src/bus/filter.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';
import { QueueOverflowError } from '../../src/core/types.js';

const frame = (seq: number, runId = seq % 2 ? 'odd' : 'even'): EventFrame =>
  Object.freeze({ kind: 'k', runId, laneId: 'main', seq, laneSeq: seq, ts: seq });

function replayed(archive: MemoryArchive, after: number, filter = {}): number[] {
  const seqs: number[] = [];
  archive.replay(filter, after).subscribe((f) => seqs.push(f.seq));
  return seqs;
}

describe('MemoryArchive', () => {
  it('replays the frames after a cursor, filtered, then completes', () => {
    const archive = new MemoryArchive();
    for (let seq = 1; seq <= 10; seq++) archive.append(frame(seq));
    expect(replayed(archive, 0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(replayed(archive, 7)).toEqual([8, 9, 10]);
    expect(replayed(archive, 10)).toEqual([]);
    expect(replayed(archive, 3, { runId: 'even' })).toEqual([4, 6, 8, 10]);
    let completed = false;
    archive.replay({}, 0).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
    expect(archive.earliestSeq()).toBe(1);
    expect(archive.size).toBe(10);
  });

  it('takes the limit alone too', () => {
    const archive = new MemoryArchive(2);
    for (let seq = 1; seq <= 5; seq++) archive.append(frame(seq));
    expect(archive.limit).toBe(2);
    expect(replayed(archive, 0)).toEqual([4, 5]);
    expect(() => new MemoryArchive(0)).toThrow(RangeError);
  });

  it('with a limit, keeps the newest frames in a ring', () => {
    const archive = new MemoryArchive({ limit: 4 });
    expect(archive.earliestSeq()).toBeUndefined();
    for (let seq = 1; seq <= 11; seq++) archive.append(frame(seq));
    expect(archive.size).toBe(4);
    expect(archive.earliestSeq()).toBe(8);
    expect(replayed(archive, 0)).toEqual([8, 9, 10, 11]);
    expect(replayed(archive, 9)).toEqual([10, 11]);
    archive.clear();
    expect(archive.size).toBe(0);
  });

  it('matches a simple model for any limit, appends and cursor', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 70 }),
        (limit, count, after) => {
          const archive = new MemoryArchive(limit === undefined ? {} : { limit });
          for (let seq = 1; seq <= count; seq++) archive.append(frame(seq));
          const held = Array.from({ length: count }, (_, i) => i + 1).slice(
            limit === undefined ? 0 : -limit,
          );
          expect(replayed(archive, after)).toEqual(held.filter((seq) => seq > after));
        },
      ),
    );
  });

  it('stops when the subscriber unsubscribes, and errors on a throwing where', () => {
    const archive = new MemoryArchive();
    for (let seq = 1; seq <= 5; seq++) archive.append(frame(seq));
    const seen: number[] = [];
    const boom = new Error('where');
    let error: unknown;
    archive
      .replay(
        {
          where: (f) =>
            f.seq === 3
              ? (() => {
                  throw boom;
                })()
              : true,
        },
        0,
      )
      .subscribe({ next: (f) => seen.push(f.seq), error: (e) => (error = e) });
    expect(seen).toEqual([1, 2]);
    expect(error).toBe(boom);
  });

  it('gives every frame it still holds when frames are appended while it replays', () => {
    const archive = new MemoryArchive({ limit: 4 });
    for (let seq = 1; seq <= 4; seq++) archive.append(frame(seq));
    const seen: EventFrame[] = [];
    let completed = false;
    archive.replay({}, 0).subscribe({
      next: (f) => {
        seen.push(f);
        // One append per frame given: the ring drops a frame already given each time.
        if (f.seq < 8) archive.append(frame(f.seq + 4));
      },
      complete: () => (completed = true),
    });
    expect(seen.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(seen.every((f) => f.overflow === undefined)).toBe(true);
    expect(completed).toBe(true);
  });

  it('reports the frames overwritten before it reached them on the next frame it gives', () => {
    const archive = new MemoryArchive({ limit: 4 });
    for (let seq = 1; seq <= 4; seq++) archive.append(frame(seq));
    const seen: EventFrame[] = [];
    archive.replay({}, 0).subscribe((f) => {
      seen.push(f);
      if (f.seq === 1) for (let seq = 5; seq <= 7; seq++) archive.append(frame(seq));
    });
    expect(seen.map((f) => f.seq)).toEqual([1, 4, 5, 6, 7]);
    expect(seen[1]?.overflow).toEqual({
      policy: 'drop-oldest',
      dropped: 2,
      merged: 0,
      fromSeq: 2,
      toSeq: 3,
      terminalPreserved: false,
    });
    expect(Object.isFrozen(seen[1])).toBe(true);
    expect(seen.filter((f) => f.overflow !== undefined)).toHaveLength(1);
  });

  it('ends with an error carrying the notice when no frame it gives follows an overwritten range', () => {
    const archive = new MemoryArchive({ limit: 4 });
    for (let seq = 1; seq <= 4; seq++) archive.append(frame(seq, 'a'));
    const seen: number[] = [];
    let error: unknown;
    archive.replay({ runId: 'a' }, 0).subscribe({
      next: (f) => {
        seen.push(f.seq);
        if (f.seq === 1) for (let seq = 5; seq <= 8; seq++) archive.append(frame(seq, 'b'));
      },
      error: (e) => (error = e),
    });
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(QueueOverflowError);
    expect((error as QueueOverflowError).notice).toMatchObject({
      policy: 'drop-oldest',
      dropped: 3,
      fromSeq: 2,
      toSeq: 4,
      terminalPreserved: false,
    });
  });

  it('accounts for every seq when appends of any size interleave with its frames', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 12 }),
        (limit, count, after, appendsPerFrame) => {
          const archive = new MemoryArchive({ limit });
          let last = 0;
          const append = () => archive.append(frame(++last));
          for (let i = 0; i < count; i++) append();
          const lastBefore = last;
          const seen: EventFrame[] = [];
          let error: QueueOverflowError | undefined;
          let steps = 0;
          archive.replay({}, after).subscribe({
            next: (f) => {
              seen.push(f);
              const appends = appendsPerFrame[steps++] ?? 0;
              for (let i = 0; i < appends; i++) append();
            },
            error: (e) => (error = e as QueueOverflowError),
          });
          // Increasing seqs, each frame either given or inside a reported range, nothing twice.
          const accounted: number[] = [];
          for (const f of seen) {
            if (f.overflow !== undefined) {
              for (
                let seq = f.overflow.fromSeq as number;
                seq <= (f.overflow.toSeq as number);
                seq++
              ) {
                accounted.push(seq);
              }
              expect(f.overflow.dropped).toBe(
                (f.overflow.toSeq as number) - (f.overflow.fromSeq as number) + 1,
              );
            }
            accounted.push(f.seq);
          }
          if (error !== undefined) {
            for (
              let seq = error.notice.fromSeq as number;
              seq <= (error.notice.toSeq as number);
              seq++
            ) {
              accounted.push(seq);
            }
          }
          const start = Math.max(after, lastBefore - limit);
          const expected = Array.from(
            { length: Math.max(last - start, 0) },
            (_, i) => start + i + 1,
          );
          expect(accounted).toEqual(expected);
        },
      ),
    );
  });

  it('through a bus, a subscriber that publishes while it replays from the archive loses nothing', () => {
    const bus = new EventBus({ history: 2, archive: new MemoryArchive({ limit: 4 }) });
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'k' });
    const seen: EventFrame[] = [];
    bus.select({}, { after: 2 }).subscribe((f) => {
      seen.push(f);
      // One publish per replayed frame: the archive's ring moves while the replay reads it.
      if (f.seq <= 6) bus.publish({ kind: 'k' });
    });
    expect(seen.map((f) => f.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.every((f) => f.overflow === undefined)).toBe(true);
  });

  it('through a bus, a page read before the ring moved is delivered whole', () => {
    const bus = new EventBus({ history: 2, archive: new MemoryArchive({ limit: 4 }) });
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'k' });
    const seen: EventFrame[] = [];
    bus.select({}, { after: 2 }).subscribe((f) => {
      seen.push(f);
      if (f.seq === 3) for (let i = 0; i < 2; i++) bus.publish({ kind: 'k' });
    });
    // The bus read 3..6 as one page before 7 and 8 pushed 3 and 4 out of the archive's ring.
    expect(seen.map((f) => f.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(seen.every((f) => f.overflow === undefined)).toBe(true);
  });

  it.each([[{ limit: 0 }], [{ limit: 1.5 }], [{ limit: '3' }]])('rejects %o', (options) => {
    expect(() => new MemoryArchive(options as never)).toThrow(RangeError);
    expect(() => new MemoryArchive(options as never)).toThrow('limit');
  });

  it('with a limit, completes once it gave that many frames', () => {
    const archive = new MemoryArchive();
    for (let seq = 1; seq <= 10; seq++) archive.append(frame(seq));
    const seqs: number[] = [];
    let completed = false;
    archive.replay({ runId: 'even' }, 2, 3).subscribe({
      next: (f) => seqs.push(f.seq),
      complete: () => (completed = true),
    });
    expect(seqs).toEqual([4, 6, 8]);
    expect(completed).toBe(true);
    expect(replayed(archive, 8)).toEqual([9, 10]);
  });

  it('rejects a bad filter, cursor or limit at the call', () => {
    const archive = new MemoryArchive();
    expect(() => archive.replay({ runId: 1 } as never, 0)).toThrow(TypeError);
    expect(() => archive.replay({}, Number.NaN)).toThrow(RangeError);
    for (const limit of [0, 1.5, -1, Number.NaN]) {
      expect(() => archive.replay({}, 0, limit)).toThrow(
        /^MemoryArchive\.replay: limit must be a positive integer or Infinity/,
      );
    }
  });
});

describe('FrameRing', () => {
  it('holds exactly the last capacity frames, found by seq in O(1)', () => {
    const ring = new FrameRing<EventFrame>(3);
    expect(ring.size).toBe(0);
    expect(ring.oldestSeq).toBe(1);
    for (let seq = 1; seq <= 7; seq++) ring.push(frame(seq));
    expect(ring.size).toBe(3);
    expect([ring.oldestSeq, ring.newestSeq]).toEqual([5, 7]);
    expect([4, 5, 6, 7, 8].map((seq) => ring.get(seq)?.seq)).toEqual([
      undefined,
      5,
      6,
      7,
      undefined,
    ]);
  });

  it('restarts empty at any seq and fills on from there, wrapping around', () => {
    const ring = new FrameRing<EventFrame>(3);
    for (let seq = 1; seq <= 4; seq++) ring.push(frame(seq));
    ring.restart(10);
    expect([ring.size, ring.oldestSeq, ring.newestSeq, ring.get(4)]).toEqual([
      0,
      11,
      10,
      undefined,
    ]);
    for (let seq = 11; seq <= 15; seq++) ring.push(frame(seq));
    expect([12, 13, 14, 15, 16].map((seq) => ring.get(seq)?.seq)).toEqual([
      undefined,
      13,
      14,
      15,
      undefined,
    ]);
    const empty = new FrameRing<EventFrame>(0);
    empty.restart(5);
    empty.push(frame(6));
    expect([empty.size, empty.newestSeq]).toEqual([0, 6]);
  });

  it('a ring of capacity 0 holds nothing but tracks the newest seq', () => {
    const ring = new FrameRing<EventFrame>(0);
    ring.push(frame(1));
    ring.push(frame(2));
    expect([ring.size, ring.oldestSeq, ring.newestSeq, ring.get(2)]).toEqual([0, 3, 2, undefined]);
  });
});

describe('filterPredicate', () => {
  it('tests frames like select does', () => {
    const internalOdd = filterPredicate({ runId: 'odd', visibility: 'internal' });
    expect(internalOdd(frame(1))).toBe(true);
    expect(internalOdd(frame(2))).toBe(false);
    expect(internalOdd({ ...frame(3), visibility: 'private' })).toBe(false);
    expect(filterPredicate()({ ...frame(3), visibility: 'internal' })).toBe(false);
    expect(() => filterPredicate({ kinds: 'k' } as never)).toThrow(TypeError);
  });
});
