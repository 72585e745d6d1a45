import { combineNotices } from '../core/notices.js';
import type { OverflowNotice } from '../core/types.js';
import type { LogGap } from './LogReader.js';
import type { EventFrame } from './types.js';

type Notice<P> = OverflowNotice<EventFrame<P>>;

/** Two gaps (either may be absent) as one notice, the one with the lower seqs first. */
export function inSeqOrder<P>(
  a: Notice<P> | undefined,
  b: Notice<P> | undefined,
): Notice<P> | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (b.fromSeq ?? 0) < (a.fromSeq ?? 0) ? combineNotices(b, a) : combineNotices(a, b);
}

/**
 * One subscriber's gaps as bus notices, each with the seq range to repair from: the log's gaps
 * (frames it no longer held) and its queue's (dropped or merged frames; a merged frame shows one
 * seq of the several it stands for, so the merges' seqs are collected as they happen).
 */
export class GapNotices<P> {
  /** Frames lost to the log. */
  logDropped = 0;
  /** The seq range of the frames `coalesce` folded since the last notice (0 = none). */
  private mergedFromSeq = 0;
  private mergedToSeq = 0;
  /**
   * Log gaps met while frames from before them were still queued, oldest first: each belongs
   * on the first frame after it, not on the next frame delivered.
   */
  private waiting: Notice<P>[] = [];

  /** Whether log gaps wait behind queued frames. */
  get deferring(): boolean {
    return this.waiting.length > 0;
  }

  /** Holds a log gap (a notice from `logGap`) until a frame after it is delivered. */
  defer(notice: Notice<P>): void {
    this.waiting.push(notice);
  }

  /** The waiting log gaps that lie before seq `seq`, as one notice (and no longer waiting). */
  takeDeferred(seq: number): Notice<P> | undefined {
    let notice: Notice<P> | undefined;
    let taken = 0;
    for (const gap of this.waiting) {
      if ((gap.toSeq as number) >= seq) break;
      notice = notice === undefined ? gap : combineNotices(notice, gap);
      taken++;
    }
    if (taken > 0) this.waiting.splice(0, taken);
    return notice;
  }

  /** A gap of the log as a notice (and counted in `logDropped`). */
  logGap(gap: LogGap): Notice<P> {
    const { dropped } = gap;
    this.logDropped += dropped;
    // The log evicts its oldest frames: that is the policy at work. Frames no longer held cannot
    // be inspected, so a terminal frame may be among them.
    return {
      policy: gap.policy ?? 'drop-oldest',
      dropped,
      merged: 0,
      fromSeq: gap.fromSeq,
      toSeq: gap.toSeq,
      terminalPreserved: false,
    };
  }

  /** A queue's notice with the seq range of its gap (merged frames leave no first/last). */
  fromQueue(notice: Notice<P>): Notice<P> {
    const busNotice: Notice<P> = { ...notice };
    let fromSeq = notice.first?.seq;
    let toSeq = notice.last?.seq;
    if (this.mergedFromSeq > 0) {
      if (fromSeq === undefined || this.mergedFromSeq < fromSeq) fromSeq = this.mergedFromSeq;
      if (toSeq === undefined || this.mergedToSeq > toSeq) toSeq = this.mergedToSeq;
      this.mergedFromSeq = this.mergedToSeq = 0;
    }
    if (fromSeq !== undefined) busNotice.fromSeq = fromSeq;
    if (toSeq !== undefined) busNotice.toSeq = toSeq;
    return busNotice;
  }

  noteMerged(seq: number | undefined): void {
    if (typeof seq !== 'number') return;
    if (this.mergedFromSeq === 0 || seq < this.mergedFromSeq) this.mergedFromSeq = seq;
    if (seq > this.mergedToSeq) this.mergedToSeq = seq;
  }
}
