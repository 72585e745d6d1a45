import type { OverflowNotice } from '../core/types.js';
import type { LogGap } from './LogReader.js';
import type { EventFrame } from './types.js';

type Notice<P> = OverflowNotice<EventFrame<P>>;

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

  /** A gap of the log as a notice (and counted in `logDropped`). */
  logGap(gap: LogGap): Notice<P> {
    const dropped = gap.toSeq - gap.fromSeq + 1;
    this.logDropped += dropped;
    // The log evicts its oldest frames: that is the policy at work. Frames no longer held cannot
    // be inspected, so a terminal frame may be among them.
    return {
      policy: 'drop-oldest',
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
