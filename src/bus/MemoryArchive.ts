import { Observable } from 'rxjs';
import { checkOptions, checkPositiveInteger } from '../core/checks.js';
import { combineNotices } from '../core/notices.js';
import { describe, type OverflowNotice, QueueOverflowError } from '../core/types.js';
import { compileFilter, matchesFilter } from './filter.js';
import type { EventArchive, EventFilter, EventFrame } from './types.js';

/** The options of a {@link MemoryArchive}. */
export interface MemoryArchiveConfig {
  /**
   * The most frames kept: when full, each new frame evicts the oldest (a ring, no reallocation).
   * A positive integer. Default: unbounded.
   */
  limit?: number;
}

/**
 * An in-memory {@link EventArchive}: keeps every frame (or the last `limit`) for `select` and
 * `replay` cursors older than the bus's history. Replays synchronously; finding the cursor is
 * O(log n), then each replayed frame costs O(1).
 *
 * @example
 * ```ts
 * const bus = new EventBus({ history: 1_000, archive: new MemoryArchive({ limit: 1_000_000 }) });
 * bus.select({ runId: 'r1' }, { after: savedCursor }).subscribe(render);
 * ```
 */
export class MemoryArchive implements EventArchive {
  /** The most frames kept (`Infinity` when unbounded). */
  readonly limit: number;
  private frames: EventFrame[] = [];
  /** Index in `frames` of the oldest frame (a ring once `limit` frames are held). */
  private head = 0;
  /** Frames appended since creation (never reset), the position after the newest frame. */
  private appended = 0;

  /**
   * @param options - `{ limit }`, or the limit alone: `new MemoryArchive(100_000)`.
   * @throws RangeError for a `limit` that is not a positive integer.
   */
  constructor(options: MemoryArchiveConfig | number = {}) {
    if (typeof options === 'number') options = { limit: options };
    checkOptions(options, 'MemoryArchive');
    const { limit } = options;
    if (limit !== undefined) checkPositiveInteger(limit, 'MemoryArchive', 'limit');
    this.limit = limit ?? Number.POSITIVE_INFINITY;
  }

  /** Frames held now. */
  get size(): number {
    return this.frames.length;
  }

  /** Stores a frame. Frames must arrive in increasing seq order (a bus appends them so). */
  append(frame: EventFrame): void {
    this.appended++;
    if (this.frames.length < this.limit) {
      this.frames.push(frame);
      return;
    }
    this.frames[this.head] = frame;
    this.head = (this.head + 1) % this.frames.length;
  }

  /** The seq of the oldest frame held, or `undefined` when empty. */
  earliestSeq(): number | undefined {
    return this.at(0)?.seq;
  }

  /**
   * The held frames matching `filter` with `seq > after`, oldest first, synchronously; then
   * complete. Frames appended while the replay runs are included. When appends (from inside a
   * subscriber, say) overwrite frames the replay had not reached yet, the next frame it gives
   * carries `overflow: { policy: 'drop-oldest', dropped, fromSeq, toSeq, terminalPreserved:
   * false }` for them; when no frame follows them, the replay ends with a
   * {@link QueueOverflowError} carrying that notice instead of completing. With `limit`, it
   * completes once it gave that many frames.
   *
   * @throws TypeError at once for a bad filter; RangeError for a bad `after`, or a `limit` that
   * is not a positive integer (or Infinity, the default).
   */
  replay(
    filter: EventFilter,
    after: number,
    limit = Number.POSITIVE_INFINITY,
  ): Observable<EventFrame> {
    const compiled = compileFilter(filter, 'MemoryArchive.replay');
    if (typeof after !== 'number' || Number.isNaN(after)) {
      throw new RangeError(`MemoryArchive.replay: after must be a number, got ${describe(after)}`);
    }
    checkPositiveInteger(limit, 'MemoryArchive.replay', 'limit', true);
    return new Observable<EventFrame>((subscriber) => {
      let wanted = limit;
      // Positions count every frame ever appended, so a ring that moves under the replay cannot
      // shift the next frame out of its reach: it shows as positions that are no longer held.
      let position = this.oldestPosition() + this.firstIndexAfter(after);
      let lastSeq = after;
      // Frames overwritten before the replay reached them, not yet reported: how many, and the
      // seqs around them (their own seqs are gone with them).
      let lost = 0;
      let lostFrom = 0;
      let lostTo: number | undefined;
      while (!subscriber.closed && wanted > 0) {
        const oldest = this.oldestPosition();
        if (position < oldest) {
          if (lost === 0) lostFrom = lastSeq + 1;
          lost += oldest - position;
          lostTo = undefined;
          position = oldest;
        }
        if (position >= this.appended) break;
        let frame = this.at(position - oldest) as EventFrame;
        position++;
        if (lost > 0 && lostTo === undefined) lostTo = frame.seq - 1;
        lastSeq = frame.seq;
        let matches: boolean;
        try {
          matches = matchesFilter(compiled, frame);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        if (!matches) continue;
        if (lost > 0) {
          frame = withGap(frame, gapNotice(lost, lostFrom, lostTo ?? lostFrom + lost - 1));
          lost = 0;
        }
        wanted--;
        subscriber.next(frame);
      }
      if (subscriber.closed) return;
      if (lost === 0) subscriber.complete();
      else
        subscriber.error(
          new QueueOverflowError(
            gapNotice(lost, lostFrom, lostTo ?? lostFrom + lost - 1),
            this.limit,
          ),
        );
    });
  }

  /** Drops every frame. A replay running meanwhile reports them as overwritten. */
  clear(): void {
    this.frames = [];
    this.head = 0;
  }

  /** The position (count of frames appended before it) of the oldest frame held. */
  private oldestPosition(): number {
    return this.appended - this.frames.length;
  }

  private at(index: number): EventFrame | undefined {
    const length = this.frames.length;
    if (index >= length) return undefined;
    return this.frames[(this.head + index) % length];
  }

  /** The index of the first frame with `seq > after` (binary search: seqs increase). */
  private firstIndexAfter(after: number): number {
    let low = 0;
    let high = this.frames.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.at(middle) as EventFrame).seq <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** A copy of a held frame carrying the gap before it (frozen as the held frame is). */
function withGap(frame: EventFrame, gap: OverflowNotice<EventFrame>): EventFrame {
  const overflow = frame.overflow === undefined ? gap : combineNotices(gap, frame.overflow);
  const copy = { ...frame, overflow };
  if (Object.isFrozen(frame)) {
    Object.freeze(overflow);
    Object.freeze(copy);
  }
  return copy;
}

/**
 * The notice of `dropped` frames overwritten in `fromSeq..toSeq`: the one the bus gives for a
 * cursor older than the archive (frames that are gone cannot be checked for terminals).
 */
function gapNotice(dropped: number, fromSeq: number, toSeq: number): OverflowNotice<EventFrame> {
  return { policy: 'drop-oldest', dropped, merged: 0, fromSeq, toSeq, terminalPreserved: false };
}
