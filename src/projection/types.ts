/**
 * The vocabulary of projections: the bus a projection reads, its options, what it emits, and
 * the snapshots it saves and resumes from.
 *
 * @packageDocumentation
 */
import type { Observable, SchedulerLike } from 'rxjs';
import type { EventFilter, EventFrame, SelectOptions } from '../bus/types.js';

/**
 * What a projection needs of a bus: its epoch and head, `replay` for the catch-up and `select`
 * for the live frames. `EventBus` and `RedisEventBus` both offer it.
 */
export interface ProjectableBus<P = unknown> {
  /** The log's epoch: a snapshot from another epoch is stale. */
  readonly epoch: string;
  /** The seq of the newest frame: how far the catch-up reads. */
  readonly lastSeq: number;
  /** The frames the log holds after `after`, then complete. */
  replay(filter?: EventFilter, after?: number): Observable<EventFrame<P>>;
  /** The frames after `after`, then live ones. */
  select(filter?: EventFilter, options?: SelectOptions<P>): Observable<EventFrame<P>>;
}

/**
 * A projection's state as saved: the state, the seq it reflects (every frame of the filter up
 * to `seq` folded in, none after), and what it must match to be resumed from.
 */
export interface ProjectionSnapshot<S = unknown> {
  /** The projection's `name`: a store holds one snapshot per name. */
  readonly name: string;
  /** The projection's `version` when it was saved. */
  readonly version: number;
  /** {@link projectionFilterHash} of the projection's filter. */
  readonly filterHash: string;
  /** The bus's epoch: the log `seq` counts in. */
  readonly epoch: string;
  /** Every frame of the filter up to this seq is folded into `state`, none after it. */
  readonly seq: number;
  /** The folded state. */
  readonly state: S;
}

/**
 * Where a projection keeps its snapshots. A store must:
 * - write a snapshot as it is when `save` is called (copy or encode it then: the projection goes
 *   on folding), and atomically: a `load` never sees part of one;
 * - land the `save`s of one name in the order they were called (a later one is never overwritten
 *   by an earlier one);
 * - return from `load` the last snapshot saved under that name, or `undefined`.
 *
 * `MemorySnapshotStore` keeps them in the process; `RedisSnapshotStore`
 * (`rxjs-backpressure/redis`) in Redis, one key per name.
 */
export interface SnapshotStore {
  /** The last snapshot saved under `name`, or `undefined`. */
  load(name: string): ProjectionSnapshot | undefined | PromiseLike<ProjectionSnapshot | undefined>;
  /** Saves a snapshot under its `name`, replacing the one there. */
  save(snapshot: ProjectionSnapshot): void | PromiseLike<void>;
}

/** When a projection saves a snapshot. */
export interface SnapshotConfig {
  /** The store. Required. */
  store: SnapshotStore;
  /**
   * Save after this many frames folded since the last snapshot: a positive integer, or `Infinity`
   * to save only on the other occasions. Default: 1,000.
   */
  every?: number;
  /**
   * Also save this many ms (on the projection's scheduler) after the first frame folded since the
   * last snapshot: a positive number. Default: none.
   */
  everyMs?: number;
}

/** Why a snapshot cannot be resumed from. */
export type StaleReason =
  /** The snapshot belongs to another projection (the store returned another name). */
  | 'name'
  /** The projection's `version` changed: its reducer (or its `where`) is not the same. */
  | 'version'
  /** The projection's filter changed. */
  | 'filter'
  /** The bus's epoch changed: the snapshot's seq counts in another log. */
  | 'epoch'
  /** The log no longer holds the frames right after the snapshot's seq (or after 0). */
  | 'trimmed';

/**
 * What a rebuild (`onStale: 'rebuild'`) tells the first emission after it: why, what was thrown
 * away, and which frames the log no longer held when the fold started again from the oldest.
 */
export interface ProjectionRebuild {
  /** Why the snapshot was not resumed from. */
  reason: StaleReason;
  /** The seq of the snapshot thrown away (absent when there was none: the log lost its start). */
  snapshotSeq?: number;
  /** The frames the rebuild could not fold, because the log no longer held them. */
  missing?: {
    /** The first seq the log no longer held. */
    fromSeq: number;
    /** The last seq the log no longer held. */
    toSeq: number;
  };
}

/** What a projection emits. */
export interface ProjectionState<S> {
  /** The folded state. */
  readonly state: S;
  /** Every frame of the filter up to this seq is folded into `state`, none after it. */
  readonly seq: number;
  /** The bus's epoch. */
  readonly epoch: string;
  /** `false` while the projection reads what the log held when it started, then `true`. */
  readonly caughtUp: boolean;
  /** On the first emission after a rebuild (`onStale: 'rebuild'`): what was rebuilt and why. */
  readonly rebuilt?: ProjectionRebuild;
}

/**
 * When a projection emits: `'caught-up'` once when it has caught up and then on every live
 * frame; `'every'` after every frame, during the catch-up too; a number `n`: once when caught
 * up, then live states at most every `n` ms (the first change after a quiet `n` ms at once, the
 * newest of those that follow at the end of the `n` ms).
 */
export type ProjectionEmit = 'caught-up' | 'every' | number;

/** The options of {@link projection}. */
export interface ProjectionConfig<S, P = unknown> {
  /** The projection's name: its snapshots are saved under it. A non-empty string. Required. */
  name: string;
  /** The state before the first frame. Required (it may be `undefined` when `S` allows). */
  initial: S;
  /**
   * Folds one frame into the state: returns the new state and leaves the old one as it is (a
   * snapshot may still be on its way to the store). A throw errors the projection with a
   * `ProjectionReduceError` naming the frame's seq; no snapshot is saved after it. Required.
   */
  reduce: (state: S, frame: EventFrame<P>) => S;
  /** Which frames are folded: a bus filter. Its hash goes into every snapshot. Default: `{}`. */
  filter?: EventFilter;
  /**
   * The version of `reduce` (and of the filter's `where`, which the hash cannot see): change it
   * when either changes, so that snapshots folded by the old code are not resumed from. A
   * positive integer. Default: 1.
   */
  version?: number;
  /** Where and when to save snapshots. Default: none (every subscription folds from seq 0). */
  snapshots?: SnapshotConfig;
  /** When to emit. Default: `'caught-up'`. */
  emit?: ProjectionEmit;
  /**
   * A snapshot that cannot be resumed from (another name, version, filter or epoch, or a log that
   * no longer holds the frames after it): `'error'` errors the projection with a
   * `StaleSnapshotError` naming the reason; `'rebuild'` folds again from `initial` over the oldest
   * frame the log still holds, and says so on the first emission (`rebuilt`). Default: `'error'`.
   */
  onStale?: 'error' | 'rebuild';
  /** Drives `emit` in ms and `snapshots.everyMs`. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike;
}
