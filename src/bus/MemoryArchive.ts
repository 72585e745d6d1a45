import { Observable } from 'rxjs';
import { describe } from '../core/types.js';
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

  /**
   * @param options - `{ limit }`, or the limit alone: `new MemoryArchive(100_000)`.
   * @throws RangeError for a `limit` that is not a positive integer.
   */
  constructor(options: MemoryArchiveConfig | number = {}) {
    if (typeof options === 'number') options = { limit: options };
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`MemoryArchive: options must be an object, got ${describe(options)}`);
    }
    const { limit } = options;
    if (
      limit !== undefined &&
      (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    ) {
      throw new RangeError(
        `MemoryArchive: limit must be a positive integer, got ${describe(limit)}`,
      );
    }
    this.limit = limit ?? Number.POSITIVE_INFINITY;
  }

  /** Frames held now. */
  get size(): number {
    return this.frames.length;
  }

  /** Stores a frame. Frames must arrive in increasing seq order (a bus appends them so). */
  append(frame: EventFrame): void {
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
   * complete. Frames appended while the replay runs are included.
   *
   * @throws TypeError at once for a bad filter; RangeError for a bad `after`.
   */
  replay(filter: EventFilter, after: number): Observable<EventFrame> {
    const compiled = compileFilter(filter, 'MemoryArchive.replay');
    if (typeof after !== 'number' || Number.isNaN(after)) {
      throw new RangeError(`MemoryArchive.replay: after must be a number, got ${describe(after)}`);
    }
    return new Observable<EventFrame>((subscriber) => {
      let lastSeq = after;
      let index = this.firstIndexAfter(after);
      for (; index < this.frames.length && !subscriber.closed; index++) {
        const frame = this.at(index) as EventFrame;
        // Appends during the replay (a ring that wrapped) may shift indexes: never go back.
        if (frame.seq <= lastSeq) continue;
        lastSeq = frame.seq;
        let matches: boolean;
        try {
          matches = matchesFilter(compiled, frame);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        if (matches) subscriber.next(frame);
      }
      subscriber.complete();
    });
  }

  /** Drops every frame. */
  clear(): void {
    this.frames = [];
    this.head = 0;
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
