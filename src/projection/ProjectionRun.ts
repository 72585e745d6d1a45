import type { Observable, SchedulerLike, Subscriber } from 'rxjs';
import { EpochChangedError } from '../bus/errors.js';
import type { EventFilter, EventFrame } from '../bus/types.js';
import { describe } from '../core/checks.js';
import { type OverflowNotice, QueueOverflowError } from '../core/types.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import { ProjectionGapError, ProjectionReduceError, StaleSnapshotError } from './errors.js';
import { isThenable, SnapshotWriter } from './SnapshotWriter.js';
import type {
  ProjectableBus,
  ProjectionEmit,
  ProjectionRebuild,
  ProjectionSnapshot,
  ProjectionState,
  SnapshotStore,
  StaleReason,
} from './types.js';

/** A projection's checked options. */
export interface RunPlan<S, P> {
  name: string;
  initial: S;
  reduce: (state: S, frame: EventFrame<P>) => S;
  filter: EventFilter;
  /** The filter as a predicate, for the catch-up (which reads every frame). */
  matches: (frame: EventFrame<P>) => boolean;
  version: number;
  filterHash: string;
  emit: ProjectionEmit;
  rebuild: boolean;
  scheduler: SchedulerLike;
  store: SnapshotStore | undefined;
  every: number;
  everyMs: number | undefined;
}

/**
 * - loading: waiting for the store's snapshot;
 * - catching-up: folding what the log held at the start (`replay` up to that head);
 * - live: folding what `select` pushes after it;
 * - ending: the bus closed, the last snapshot is on its way;
 * - done: ended, failed or unsubscribed.
 */
/** The catch-up's filter: every frame of the log, the projection's filter applied here. */
const EVERY_FRAME: EventFilter = Object.freeze({ visibility: 'private' });

type Phase = 'loading' | 'catching-up' | 'live' | 'ending' | 'done';

function isSnapshot(value: unknown): value is ProjectionSnapshot {
  if (value === null || typeof value !== 'object') return false;
  const { seq, name, epoch } = value as Partial<ProjectionSnapshot>;
  return (
    typeof seq === 'number' &&
    Number.isInteger(seq) &&
    seq >= 0 &&
    typeof name === 'string' &&
    typeof epoch === 'string'
  );
}

/**
 * One subscription to a projection: loads the snapshot, folds the log from its seq up to the
 * head the bus had when the catch-up started (`replay`, which the bus reads page by page as the
 * fold takes frames), then the live frames after that head (`select`, from the same cursor: no
 * gap, no duplicate). It emits as `emit` says and saves snapshots as `snapshots` says.
 */
export class ProjectionRun<S, P> {
  private phase: Phase = 'loading';
  private state: S;
  /** Every frame of the filter up to `seq` is folded into `state`, none after. */
  private seq = 0;
  private epoch: string;
  private caughtUp = false;
  /** The snapshot resumed from, for the errors that name it. */
  private snapshot: ProjectionSnapshot | undefined;
  private source: OperatorSubscriber<EventFrame<P>> | undefined;
  /** Frames read since the running catch-up began: a gap before the first is the log's start. */
  private readSinceStart = 0;
  /** What the next emission says of a rebuild. */
  private rebuilt: ProjectionRebuild | undefined;
  /** With `emit` in ms: a change waits for the end of the window. */
  private held = false;
  private readonly window: ScheduledTask | undefined;
  private readonly snapshots: SnapshotWriter<S> | undefined;

  constructor(
    private readonly bus: ProjectableBus<P>,
    private readonly plan: RunPlan<S, P>,
    private readonly out: Subscriber<ProjectionState<S>>,
  ) {
    this.state = plan.initial;
    this.epoch = bus.epoch;
    if (typeof plan.emit === 'number') {
      this.window = new ScheduledTask(plan.scheduler, () => {
        if (this.held) this.emitNow();
      });
    }
    if (plan.store !== undefined) {
      this.snapshots = new SnapshotWriter<S>(
        plan.store,
        { name: plan.name, version: plan.version, filterHash: plan.filterHash },
        plan.every,
        plan.everyMs,
        plan.scheduler,
        () => ({ state: this.state, seq: this.seq, epoch: this.epoch }),
        (error) => this.fail(error),
      );
    }
  }

  /** Ended, failed or unsubscribed (also from inside a callback). */
  private get stopped(): boolean {
    return this.phase === 'done';
  }

  /** Loads the snapshot (at once or when the store answers), then catches up. */
  start(): void {
    const { store, name } = this.plan;
    if (store === undefined) {
      this.catchUp();
      return;
    }
    let loaded: ReturnType<SnapshotStore['load']>;
    try {
      loaded = store.load(name);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!isThenable(loaded)) {
      this.resume(loaded);
      return;
    }
    Promise.resolve(loaded).then(
      (snapshot) => this.resume(snapshot),
      (error) => this.fail(error),
    );
  }

  /** The subscriber left (or the run ended): stop reading; save what was folded since the last snapshot. */
  teardown(): void {
    const running = this.phase !== 'done';
    this.stop();
    if (running) this.snapshots?.saveQuietly();
  }

  // --- the phases --------------------------------------------------------------------------

  private resume(snapshot: ProjectionSnapshot | undefined): void {
    if (this.phase === 'done') return;
    if (snapshot === undefined) {
      this.catchUp();
      return;
    }
    if (!isSnapshot(snapshot)) {
      this.fail(
        new TypeError(
          `projection ${JSON.stringify(this.plan.name)}: the store's load returned ${describe(
            snapshot,
          )}, which is not a snapshot`,
        ),
      );
      return;
    }
    const reason = this.staleReason(snapshot);
    this.snapshot = snapshot;
    if (reason !== undefined) {
      this.stale(reason, undefined);
      return;
    }
    this.state = snapshot.state as S;
    this.seq = snapshot.seq;
    this.snapshots?.savedAt(snapshot.seq);
    this.catchUp();
  }

  private staleReason(snapshot: ProjectionSnapshot): StaleReason | undefined {
    const { plan } = this;
    if (snapshot.name !== plan.name) return 'name';
    if (snapshot.version !== plan.version) return 'version';
    if (snapshot.filterHash !== plan.filterHash) return 'filter';
    if (snapshot.epoch !== this.bus.epoch) return 'epoch';
    return undefined;
  }

  /** The snapshot cannot be resumed from: an error, or a fold from `initial` again. */
  private stale(reason: StaleReason, missing: { fromSeq: number; toSeq: number } | undefined) {
    const { plan, snapshot } = this;
    if (!plan.rebuild) {
      this.fail(new StaleSnapshotError(plan.name, reason, snapshot, missing));
      return;
    }
    this.rebuilt = { reason };
    if (snapshot !== undefined) this.rebuilt.snapshotSeq = snapshot.seq;
    this.state = plan.initial;
    this.seq = 0;
    this.snapshots?.savedAt(0);
    this.catchUp();
  }

  /** Folds what the log holds after `seq`, up to the head it has now. */
  private catchUp(): void {
    this.phase = 'catching-up';
    this.readSinceStart = 0;
    // The replay reads up to the head the bus has when it is subscribed to: read here, before,
    // and again just after when nothing has happened yet (a Redis bus whose tail was idle brings
    // its head up to date as the replay is subscribed to, and its replays answer later).
    let head = this.bus.lastSeq;
    const epoch = this.bus.epoch;
    this.epoch = epoch;
    const source = this.follow(
      // Every frame, filtered here: the caught-up seq is then the seq of the last frame read.
      () => this.bus.replay(EVERY_FRAME, this.seq),
      () => this.caughtUpAt(head, epoch),
      (notice) => this.caughtUpAt(head, epoch, notice),
    );
    if (
      source !== undefined &&
      this.source === source &&
      this.readSinceStart === 0 &&
      !source.closed
    ) {
      head = Math.max(head, this.bus.lastSeq);
    }
  }

  /** The catch-up read everything up to `head` (the frames after it are live). */
  private caughtUpAt(head: number, epoch: string, lastGap?: OverflowNotice<EventFrame<P>>): void {
    // A gap nothing followed (the replay ended on it): the same rules as one before a frame.
    if (lastGap !== undefined && !this.acceptGap(lastGap)) return;
    if (this.bus.epoch !== epoch) {
      this.fail(new EpochChangedError(epoch, this.bus.epoch, this.seq));
      return;
    }
    // What lies between the last frame folded and `head` did not match the filter.
    if (head > this.seq) this.seq = head;
    this.phase = 'live';
    this.caughtUp = true;
    this.snapshots?.saveIfBehind();
    if (this.phase !== 'live') return;
    this.emitNow();
    if (this.phase !== 'live' || this.out.closed) return;
    this.follow(
      () => this.bus.select(this.plan.filter, { after: this.seq, epoch }),
      () => this.end(),
      (notice) => {
        if (this.acceptGap(notice)) this.end();
      },
    );
  }

  /** The bus closed: the held emission, the last snapshot, then complete. */
  private end(): void {
    this.phase = 'ending';
    if (this.held) this.emitNow();
    this.window?.cancel();
    this.snapshots?.saveIfBehind();
    if (this.phase !== 'ending') return;
    const pending = this.snapshots?.settled;
    if (pending === undefined) {
      this.complete();
      return;
    }
    pending.then(
      () => this.complete(),
      (error) => this.fail(error),
    );
  }

  private complete(): void {
    if (this.phase !== 'ending') return;
    this.stop();
    this.out.complete();
  }

  private fail(error: unknown): void {
    if (this.phase === 'done') return;
    this.stop();
    this.out.error(error);
  }

  private stop(): void {
    this.phase = 'done';
    this.source?.unsubscribe();
    this.source = undefined;
    this.window?.cancel();
    this.snapshots?.cancel();
  }

  // --- frames ------------------------------------------------------------------------------

  /**
   * Subscribes to `frames` (replacing the source before): each frame folded, `done` when it
   * completes, `endedOnGap` when it ends on a gap nothing followed, any other error fails.
   * Returns the new source (`undefined` when `frames` threw).
   */
  private follow(
    frames: () => Observable<EventFrame<P>>,
    done: () => void,
    endedOnGap: (notice: OverflowNotice<EventFrame<P>>) => void,
  ): OperatorSubscriber<EventFrame<P>> | undefined {
    this.source?.unsubscribe();
    const source = new OperatorSubscriber<EventFrame<P>>(
      (frame) => this.take(frame),
      (error) => {
        if (error instanceof QueueOverflowError)
          endedOnGap(error.notice as OverflowNotice<EventFrame<P>>);
        else this.fail(error);
      },
      done,
      (thrown) => this.fail(thrown),
    );
    this.source = source;
    let input: Observable<EventFrame<P>>;
    try {
      input = frames();
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    subscribeWithin(this.out, input, source);
    return source;
  }

  private take(frame: EventFrame<P>): void {
    if (frame.overflow !== undefined && !this.acceptGap(frame.overflow)) return;
    this.readSinceStart++;
    if (this.phase === 'catching-up' && !this.plan.matches(frame)) {
      this.seq = frame.seq;
      return;
    }
    let next: S;
    try {
      next = this.plan.reduce(this.state, frame);
    } catch (error) {
      this.fail(new ProjectionReduceError(this.plan.name, frame.seq, frame.kind, error));
      return;
    }
    if (this.stopped) return;
    this.state = next;
    this.seq = frame.seq;
    this.snapshots?.folded();
    if (!this.stopped) this.changed();
  }

  /**
   * Frames the bus could not deliver. Before the first frame of a catch-up, the log lost the
   * frames after the cursor: stale, unless the fold is at seq 0 and may rebuild (then the gap is
   * what the rebuild says it missed). Anywhere else, the state would miss frames: an error.
   */
  private acceptGap(notice: OverflowNotice<EventFrame<P>>): boolean {
    const fromSeq = notice.fromSeq ?? this.seq + 1;
    const missing = { fromSeq, toSeq: notice.toSeq ?? fromSeq };
    if (this.phase === 'catching-up' && this.readSinceStart === 0) {
      if (this.seq === 0 && this.plan.rebuild) {
        this.rebuilt = { ...(this.rebuilt ?? { reason: 'trimmed' }), missing };
        return true;
      }
      this.stale('trimmed', missing);
      return false;
    }
    this.fail(new ProjectionGapError(this.plan.name, missing.fromSeq, missing.toSeq));
    return false;
  }

  // --- emissions ---------------------------------------------------------------------------

  private changed(): void {
    const { emit } = this.plan;
    if (emit === 'every') {
      this.emitNow();
      return;
    }
    if (!this.caughtUp) return;
    if (emit === 'caught-up' || !(this.window as ScheduledTask).isPending) this.emitNow();
    else this.held = true;
  }

  private emitNow(): void {
    const value: { -readonly [K in keyof ProjectionState<S>]: ProjectionState<S>[K] } = {
      state: this.state,
      seq: this.seq,
      epoch: this.epoch,
      caughtUp: this.caughtUp,
    };
    if (this.rebuilt !== undefined) {
      value.rebuilt = this.rebuilt;
      this.rebuilt = undefined;
    }
    this.held = false;
    if (this.window !== undefined && this.caughtUp) {
      this.window.cancel();
      this.window.schedule(this.plan.emit as number);
    }
    this.out.next(value);
  }
}
