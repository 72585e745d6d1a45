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

function newPage<T>(): Array<T | undefined> {
  return new Array(ARCHIVE_PAGE).fill(undefined);
}

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
 * subscriber asks for the next frame, so a reader holds at most two pages: the one it reads and,
 * from an archive that answers later (over a network), the next one, asked for as soon as the
 * first came, so that the archive's time overlaps the subscriber's. Frames the log no longer
 * holds are collected as a gap, reported before the next frame read.
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
  /** The archive's replay under way: of the page, or of the page after it (read ahead). */
  private fetching: Subscription | undefined;
  /** The page read ahead, into `spare`: `aheadEnd` frames, readable once `aheadReady`. */
  private spare: Array<EventFrame<P> | undefined> = EMPTY_PAGE;
  private aheadEnd = 0;
  private aheadReady = false;
  /** The archive failed while reading ahead: the reader fails once it has read what came before. */
  private aheadFailure: { error: unknown } | undefined;
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
    // A page read ahead starts after the page read, whose last frame was below the limit then.
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
      if (this.aheadReady && this.failure === undefined) {
        this.takeAhead();
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
        this.fetchPage(this.cursor, false);
      }
    }
  }

  /** Stops reading (the subscriber left): the page in flight is dropped. */
  dispose(): void {
    this.fetching?.unsubscribe();
    this.fetching = undefined;
    this.page = this.spare = EMPTY_PAGE;
    this.pageAt = this.pageEnd = this.aheadEnd = 0;
    this.aheadReady = false;
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
      // Nothing was read ahead: a page whose last frame lies beyond the limit asks for no more.
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

  /**
   * Asks the archive for the page after `after`: the page to read (`ahead` false, the page being
   * empty), or the one after it, into `spare` (`ahead` true). The archive may answer at once or
   * later; a full page that came later has the next one asked for at once (see
   * {@link readAhead}).
   */
  private fetchPage(after: number, ahead: boolean): void {
    // Two arrays of a page's size at most, reused page after page.
    if (this.page === EMPTY_PAGE) this.page = newPage();
    if (ahead && this.spare === EMPTY_PAGE) this.spare = newPage();
    const page = ahead ? this.spare : this.page;
    let synchronous = true;
    let count = 0;
    let last = after;
    const done = (): void => {
      this.fetching = undefined;
      // Only an empty page ends the archive's part: a short one may be a snapshot taken when it
      // was asked, while frames kept arriving (the next page asks again after its last frame).
      if (count === 0) this.archiveDrained = true;
      if (ahead) this.aheadReady = true;
      else if (count === ARCHIVE_PAGE && !synchronous) this.readAhead(last);
      if (!synchronous) this.wake();
    };
    const failed = (error: unknown): void => {
      if (!ahead) {
        this.fail(error, synchronous);
        return;
      }
      // The frames that came before the failure are read first, after the page before them.
      this.fetching = undefined;
      this.aheadFailure = { error };
      this.aheadReady = true;
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
        if (frame.seq <= after) return;
        last = frame.seq;
        const kept = this.freeze ? Object.freeze(frame) : frame;
        if (ahead) page[this.aheadEnd++] = kept;
        else page[this.pageEnd++] = kept;
        if (++count === ARCHIVE_PAGE || frame.seq >= this.limit) {
          // A full page (or the end): the rest is asked for once this page is read.
          receiver.unsubscribe();
          done();
        }
      },
      failed,
      done,
      (thrown) => {
        receiver.unsubscribe();
        failed(thrown);
      },
    );
    this.fetching = receiver;
    try {
      from(
        this.log.archive!.replay(
          this.filter.source,
          after,
          Math.min(ARCHIVE_PAGE, this.limit - after),
        ),
      ).subscribe(receiver);
    } catch (error) {
      failed(error);
    }
    synchronous = false;
    if (this.fetching === receiver && receiver.closed) this.fetching = undefined;
  }

  /**
   * A full page came from an archive that answers later: the page after it is asked for now,
   * while this one is read, unless the end or history comes first.
   */
  private readAhead(last: number): void {
    if (this.failure !== undefined || last >= this.limit) return;
    if (last + 1 >= this.log.history.oldestSeq) return;
    this.fetchPage(last, true);
  }

  /** The page read ahead becomes the page read; the one after it is asked for when it is full. */
  private takeAhead(): void {
    const read = this.page;
    this.page = this.spare;
    this.spare = read;
    this.pageAt = 0;
    this.pageEnd = this.aheadEnd;
    this.aheadEnd = 0;
    this.aheadReady = false;
    if (this.aheadFailure !== undefined) {
      this.failure = this.aheadFailure;
      this.aheadFailure = undefined;
    } else if (this.pageEnd === ARCHIVE_PAGE) {
      this.readAhead((this.page[ARCHIVE_PAGE - 1] as EventFrame<P>).seq);
    }
  }

  private fail(error: unknown, synchronous: boolean): void {
    this.fetching = undefined;
    this.failure = { error };
    if (!synchronous) this.wake();
  }
}
