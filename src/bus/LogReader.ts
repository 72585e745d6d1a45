import { from, type Subscription } from 'rxjs';
import { describe } from '../core/checks.js';
import type { OverflowPolicyName } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import type { EventLog } from './EventLog.js';
import { type CompiledFilter, matchesFilter } from './filter.js';
import type { EventFrame } from './types.js';

/** Frames taken from the archive per request: a reader holds at most one page. */
export const ARCHIVE_PAGE = 1024;

const EMPTY_PAGE: never[] = [];

/** A range of seqs the log no longer held when a reader needed it. */
export interface LogGap {
  fromSeq: number;
  toSeq: number;
  /**
   * The frames of the range that were lost: fewer than its length when frames read between two
   * gaps (and filtered out) lie inside it, the two having been reported as one.
   */
  dropped: number;
  /** Why, when the archive said (e.g. `'drop-incoming'` for entries it could not read); default `'drop-oldest'`. */
  policy?: OverflowPolicyName | undefined;
}

/**
 * One subscriber's way through the log, from its cursor to the head (or to a fixed end): history
 * frames are read where they are, archive frames one page at a time, and only when the
 * subscriber asks for the next frame, so a reader holds nothing but the page in flight. Frames
 * the log no longer holds are collected as a gap, reported before the next frame read.
 */
export class LogReader<P> {
  /** The seq of the last frame read (delivered or skipped as not matching). */
  cursor: number;
  /** Why reading stopped, when it failed (a throwing `where`, a failing archive). */
  failure: { error: unknown } | undefined;
  private gap: LogGap | undefined;
  /** The page read from the archive: `pageAt` is the next frame, `pageEnd` the end. */
  private page: Array<EventFrame<P> | undefined> = EMPTY_PAGE;
  private pageAt = 0;
  private pageEnd = 0;
  private fetching: Subscription | undefined;
  /** The last archive page had nothing after the cursor: the archive holds nothing more below history. */
  private archiveDrained = false;
  private earliestChecked = false;

  /**
   * @param end - the last seq to read (`undefined`: follow the head).
   * @param reportGaps - whether frames the log no longer holds are reported as a gap.
   * @param wake - called when an archive page arrives asynchronously.
   */
  constructor(
    private readonly log: EventLog<P>,
    private readonly filter: CompiledFilter,
    after: number,
    private readonly end: number | undefined,
    private readonly reportGaps: boolean,
    private readonly freeze: boolean,
    private readonly wake: () => void,
  ) {
    this.cursor = after;
  }

  /** Whether everything up to the end (or the head) was read. */
  get caughtUp(): boolean {
    return this.cursor >= this.limit && this.fetching === undefined && this.pageAt === this.pageEnd;
  }

  /** The gap met since the last call, if any. */
  takeGap(): LogGap | undefined {
    const gap = this.gap;
    this.gap = undefined;
    return gap;
  }

  /**
   * The next matching frame the log holds now, or `undefined`: caught up, waiting for an archive
   * page, or failed.
   */
  next(): EventFrame<P> | undefined {
    const { history } = this.log;
    for (;;) {
      // The frames of a page come first, also those read before the archive failed.
      if (this.pageAt < this.pageEnd) {
        const frame = this.fromPage();
        if (frame !== undefined) return frame;
        continue;
      }
      if (this.failure !== undefined) return undefined;
      if (this.fetching !== undefined || this.cursor >= this.limit) return undefined;
      const seq = this.cursor + 1;
      if (seq >= history.oldestSeq) {
        const frame = history.get(seq) as EventFrame<P>;
        this.cursor = seq;
        this.archiveDrained = false;
        if (this.matches(frame)) return frame;
      } else if (this.log.archive === undefined) {
        this.skipTo(Math.min(history.oldestSeq - 1, this.limit), true);
      } else if (!this.earliestChecked) {
        this.earliestChecked = true;
        this.skipOlderThanArchive();
      } else if (this.archiveDrained) {
        // The archive returned what it holds below history: the rest did not match.
        this.skipTo(Math.min(history.oldestSeq - 1, this.limit), false);
      } else {
        this.fetchPage();
      }
    }
  }

  /** Stops reading (the subscriber left): the page in flight is dropped. */
  dispose(): void {
    this.fetching?.unsubscribe();
    this.fetching = undefined;
    this.page = EMPTY_PAGE;
    this.pageAt = this.pageEnd = 0;
  }

  private get limit(): number {
    return this.end ?? this.log.head;
  }

  private fromPage(): EventFrame<P> | undefined {
    const frame = this.page[this.pageAt] as EventFrame<P>;
    this.page[this.pageAt++] = undefined;
    if (this.pageAt === this.pageEnd) this.pageAt = this.pageEnd = 0;
    if (frame.seq <= this.cursor) return undefined;
    if (frame.seq > this.limit) {
      // The archive gives matching frames in seq order: none after the cursor up to the limit
      // matched. The rest of the page is beyond the limit too.
      for (let i = this.pageAt; i < this.pageEnd; i++) this.page[i] = undefined;
      this.pageAt = this.pageEnd = 0;
      this.skipTo(this.limit, false);
      return undefined;
    }
    const after = this.cursor;
    this.cursor = frame.seq;
    const own = frame.overflow === undefined ? frame : this.takeArchiveGap(frame, after);
    return this.matches(own) ? own : undefined;
  }

  /**
   * An archive frame carrying the archive's notice of a gap before it (frames trimmed or
   * unreadable there): the gap becomes this reader's, reported and counted as every gap of the
   * log, on the next frame the subscriber gets; the frame goes on without it. The part of the
   * notice at or before `after`, where the reader already was, is not lost again: it is cut off.
   */
  private takeArchiveGap(frame: EventFrame<P>, after: number): EventFrame<P> {
    const { overflow, ...rest } = frame;
    const notice = overflow as NonNullable<typeof overflow>;
    if (!this.reportGaps || notice.fromSeq === undefined || notice.toSeq === undefined)
      return frame;
    const fromSeq = Math.max(notice.fromSeq, after + 1);
    const { toSeq, policy } = notice;
    if (toSeq >= fromSeq) {
      const dropped = Math.min(notice.dropped, toSeq - fromSeq + 1);
      if (this.gap === undefined) this.gap = { fromSeq, toSeq, dropped, policy };
      else {
        // As two notices combine: the counts add up, the range spans both, the newer policy holds.
        this.gap.toSeq = toSeq;
        this.gap.dropped += dropped;
        this.gap.policy = policy;
      }
    }
    return this.freeze ? Object.freeze(rest) : rest;
  }

  private matches(frame: EventFrame<P>): boolean {
    try {
      return matchesFilter(this.filter, frame);
    } catch (error) {
      this.failure = { error };
      return false;
    }
  }

  /** Moves the cursor to `seq`; the frames passed over are a gap when `lost`. */
  private skipTo(seq: number, lost: boolean): void {
    if (seq <= this.cursor) return;
    if (lost && this.reportGaps) {
      const dropped = seq - this.cursor;
      if (this.gap === undefined) this.gap = { fromSeq: this.cursor + 1, toSeq: seq, dropped };
      else {
        this.gap.toSeq = seq;
        this.gap.dropped += dropped;
      }
    }
    this.cursor = seq;
  }

  /** Reports what is older than the archive's oldest frame as gone. */
  private skipOlderThanArchive(): void {
    let earliest: number | undefined;
    try {
      earliest = this.log.archive?.earliestSeq?.();
    } catch {
      earliest = undefined;
    }
    if (earliest !== undefined && earliest > this.cursor + 1) {
      this.skipTo(Math.min(earliest - 1, this.log.history.oldestSeq - 1, this.limit), true);
    }
  }

  /** Asks the archive for the next page after the cursor; it may answer at once or later. */
  private fetchPage(): void {
    // One array of a page's size, reused page after page (the previous page was read out).
    if (this.page === EMPTY_PAGE) this.page = new Array(ARCHIVE_PAGE).fill(undefined);
    const page = this.page;
    let synchronous = true;
    let count = 0;
    const done = (): void => {
      this.fetching = undefined;
      // Only an empty page ends the archive's part: a short one may be a snapshot taken when it
      // was asked, while frames kept arriving (the next page asks again after its last frame).
      if (count === 0) this.archiveDrained = true;
      if (!synchronous) this.wake();
    };
    const receiver = new OperatorSubscriber<unknown>(
      (value) => {
        const frame = value as EventFrame<P>;
        if (frame === null || typeof frame !== 'object' || typeof frame.seq !== 'number') {
          throw new TypeError(
            `EventBus: the archive's replay emitted ${describe(frame)}, which is not a frame`,
          );
        }
        if (frame.seq <= this.cursor) return;
        page[this.pageEnd++] = this.freeze ? Object.freeze(frame) : frame;
        if (++count === ARCHIVE_PAGE || frame.seq >= this.limit) {
          // A full page (or the end): the rest is asked for once this page is read.
          receiver.unsubscribe();
          done();
        }
      },
      (error) => this.fail(error, synchronous),
      done,
      (thrown) => {
        receiver.unsubscribe();
        this.fail(thrown, synchronous);
      },
    );
    this.fetching = receiver;
    try {
      from(
        this.log.archive!.replay(
          this.filter.source,
          this.cursor,
          Math.min(ARCHIVE_PAGE, this.limit - this.cursor),
        ),
      ).subscribe(receiver);
    } catch (error) {
      this.fail(error, true);
    }
    synchronous = false;
    if (this.fetching === receiver && receiver.closed) this.fetching = undefined;
  }

  private fail(error: unknown, synchronous: boolean): void {
    this.fetching = undefined;
    this.failure = { error };
    if (!synchronous) this.wake();
  }
}
