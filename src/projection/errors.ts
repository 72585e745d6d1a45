import type { ProjectionSnapshot, StaleReason } from './types.js';

const EXPLAIN: Record<StaleReason, (snapshot: ProjectionSnapshot | undefined) => string> = {
  name: (snapshot) => `it belongs to the projection ${JSON.stringify(snapshot?.name)}`,
  version: (snapshot) => `it was folded by version ${snapshot?.version} of the reducer`,
  filter: (snapshot) => `it was folded over another filter (hash ${snapshot?.filterHash})`,
  epoch: (snapshot) =>
    `it counts seqs in epoch ${JSON.stringify(snapshot?.epoch)}, another log than the bus's`,
  trimmed: () => 'the log no longer holds the frames right after it',
};

/**
 * A projection cannot resume from its snapshot (with `onStale: 'error'`, the default): the
 * message and `reason` say why. With `onStale: 'rebuild'` the projection folds again instead.
 */
export class StaleSnapshotError extends Error {
  /** Why the snapshot cannot be resumed from. */
  readonly reason: StaleReason;
  /** The projection's name. */
  readonly projection: string;
  /** The snapshot, when there was one (`'trimmed'` without one: the log lost its first frames). */
  readonly snapshot: ProjectionSnapshot | undefined;
  /** With `'trimmed'`: the frames the log no longer holds. */
  readonly missing:
    | {
        /** The first seq the log no longer holds. */
        fromSeq: number;
        /** The last seq the log no longer holds. */
        toSeq: number;
      }
    | undefined;

  constructor(
    projection: string,
    reason: StaleReason,
    snapshot: ProjectionSnapshot | undefined,
    missing?: { fromSeq: number; toSeq: number },
  ) {
    const what =
      snapshot === undefined
        ? `projection ${JSON.stringify(projection)}: cannot fold from seq 0`
        : `projection ${JSON.stringify(projection)}: cannot resume from its snapshot at seq ${snapshot.seq}`;
    const range =
      missing === undefined ? '' : ` (seqs ${missing.fromSeq}..${missing.toSeq} are gone)`;
    super(
      `${what}: ${EXPLAIN[reason](snapshot)}${range}; pass onStale: 'rebuild' to fold again from the oldest frame held`,
    );
    this.name = 'StaleSnapshotError';
    this.reason = reason;
    this.projection = projection;
    this.snapshot = snapshot;
    this.missing = missing;
  }
}

/**
 * The reducer threw on a frame: the projection errors with this, naming the frame's seq (the
 * reducer's throw is the `cause`). No snapshot is saved after it: the last one saved is kept.
 */
export class ProjectionReduceError extends Error {
  /** The projection's name. */
  readonly projection: string;
  /** The seq of the frame the reducer threw on. */
  readonly seq: number;
  /** The kind of that frame. */
  readonly kind: string;

  constructor(projection: string, seq: number, kind: string, cause: unknown) {
    super(
      `projection ${JSON.stringify(projection)}: reduce threw on the frame at seq ${seq} (${JSON.stringify(
        kind,
      )}): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'ProjectionReduceError';
    this.projection = projection;
    this.seq = seq;
    this.kind = kind;
  }
}

/**
 * Frames the projection had to fold never reached it (the bus reported them as a gap while the
 * projection was folding, e.g. a Redis stream that lost entries): its state would be wrong, so
 * it errors. Resume from the last snapshot once the log is repaired, or rebuild.
 */
export class ProjectionGapError extends Error {
  /** The projection's name. */
  readonly projection: string;
  /** The first seq missed. */
  readonly fromSeq: number;
  /** The last seq missed. */
  readonly toSeq: number;

  constructor(projection: string, fromSeq: number, toSeq: number) {
    super(
      `projection ${JSON.stringify(projection)}: seqs ${fromSeq}..${toSeq} never reached it; its state would miss them`,
    );
    this.name = 'ProjectionGapError';
    this.projection = projection;
    this.fromSeq = fromSeq;
    this.toSeq = toSeq;
  }
}
