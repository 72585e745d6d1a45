import { asyncScheduler, Observable } from 'rxjs';
import { compileFilter, matchesFilter } from '../bus/filter.js';
import {
  checkFunction,
  checkOneOf,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
  describe,
  typeError,
} from '../core/checks.js';
import { projectionFilterHash } from './filterHash.js';
import { ProjectionRun, type RunPlan } from './ProjectionRun.js';
import type { ProjectableBus, ProjectionConfig, ProjectionState, SnapshotConfig } from './types.js';

const OWNER = 'projection';

/** Snapshots every this many frames folded, by default. */
export const DEFAULT_SNAPSHOT_EVERY = 1000;

/**
 * A read model folded from the bus's log: the state folded over every frame of `filter`, from
 * the latest snapshot's seq (or from seq 0) through the log, then live. The catch-up reads the
 * log at the fold's pace, page by page (a million-frame log is never held in memory twice), and
 * ends at the head the bus had when it started; then the projection follows `select` from there,
 * with no gap and no duplicate. It saves a snapshot every `snapshots.every` frames (and/or
 * `everyMs`), when it has caught up, and when it ends or is unsubscribed, so that a process
 * killed at any point resumes, from its last snapshot, to the state a plain fold over the frames
 * gives, with no frame folded twice and none skipped.
 *
 * A snapshot of another name, `version`, filter or epoch, or one the log no longer holds the
 * frames after, errors with `StaleSnapshotError` (or, with `onStale: 'rebuild'`, is thrown away
 * and the state folded again from the oldest frame held). A throwing `reduce` errors with
 * `ProjectionReduceError` naming the frame's seq. The bus closing completes the projection once
 * its last snapshot is saved. Works with `EventBus` and `RedisEventBus` alike.
 *
 * ```text
 * log:               a b c | d - - e - -    a, b, c in the log before subscribing (|)
 * emit 'caught-up':        C d - - e - -    C: once caught up (state abc); then every live frame
 * emit 'every':      A B C C'd - - e - -    each catch-up state (caughtUp: false), C' caught up
 * emit 3 (ms):             C - - d e - -    a change in a quiet window waits for its end
 * ```
 *
 * @example
 * ```ts
 * import { EventBus, MemorySnapshotStore, projection } from 'rxjs-backpressure';
 *
 * const bus = new EventBus();
 * bus.publish({ kind: 'tool.call', runId: 'r1' });
 * const calls$ = projection(bus, {
 *   name: 'tool-calls',
 *   initial: 0,
 *   reduce: (count) => count + 1,
 *   filter: { kinds: ['tool.call'] },
 *   snapshots: { store: new MemorySnapshotStore(), every: 500 },
 * });
 * calls$.subscribe(({ state, seq }) => console.log(`${state} calls up to seq ${seq}`));
 * ```
 *
 * @throws TypeError or RangeError for a bad option, naming it (`projection: name must be …`).
 */
export function projection<S, P = unknown>(
  bus: ProjectableBus<P>,
  config: ProjectionConfig<S, P>,
): Observable<ProjectionState<S>> {
  const plan = planProjection(bus, config);
  return new Observable<ProjectionState<S>>((subscriber) => {
    const run = new ProjectionRun<S, P>(bus, plan, subscriber);
    // Added before the catch-up starts, which may run synchronously: a subscriber that leaves
    // from inside it stops the run at once.
    subscriber.add(() => run.teardown());
    run.start();
  });
}

function planProjection<S, P>(
  bus: ProjectableBus<P>,
  config: ProjectionConfig<S, P>,
): RunPlan<S, P> {
  if (
    bus === null ||
    typeof bus !== 'object' ||
    typeof bus.replay !== 'function' ||
    typeof bus.select !== 'function' ||
    typeof bus.epoch !== 'string'
  ) {
    throw typeError(
      OWNER,
      'bus',
      'an EventBus or a RedisEventBus (with epoch, lastSeq, replay and select)',
      bus,
    );
  }
  checkOptions(config, OWNER);
  const { name, reduce, version = 1, emit = 'caught-up', onStale = 'error' } = config;
  if (typeof name !== 'string' || name === '') {
    throw typeError(OWNER, 'name', 'a non-empty string', name);
  }
  checkFunction(reduce, OWNER, 'reduce', true);
  checkPositiveInteger(version, OWNER, 'version');
  if (typeof emit === 'number') checkPositiveNumber(emit, OWNER, 'emit', false, ' (ms)');
  else checkOneOf(emit, OWNER, 'emit', ['caught-up', 'every']);
  checkOneOf(onStale, OWNER, 'onStale', ['error', 'rebuild']);
  const scheduler = config.scheduler ?? asyncScheduler;
  checkScheduler(scheduler, OWNER);
  const compiled = compileFilter(config.filter, OWNER);
  const filter = compiled.source;
  const snapshots = config.snapshots === undefined ? undefined : checkSnapshots(config.snapshots);
  return {
    name,
    initial: config.initial,
    reduce,
    filter,
    matches: (frame) => matchesFilter(compiled, frame),
    version,
    filterHash: projectionFilterHash(filter),
    emit,
    rebuild: onStale === 'rebuild',
    scheduler,
    store: snapshots?.store,
    every: snapshots?.every ?? Number.POSITIVE_INFINITY,
    everyMs: snapshots?.everyMs,
  };
}

function checkSnapshots(
  snapshots: SnapshotConfig,
): Required<Omit<SnapshotConfig, 'everyMs'>> & Pick<SnapshotConfig, 'everyMs'> {
  if (snapshots === null || typeof snapshots !== 'object') {
    throw typeError(OWNER, 'snapshots', 'an object with a store', snapshots);
  }
  const { store, every = DEFAULT_SNAPSHOT_EVERY, everyMs } = snapshots;
  if (
    store === null ||
    typeof store !== 'object' ||
    typeof store.load !== 'function' ||
    typeof store.save !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: snapshots.store must be a SnapshotStore (with load and save), got ${describe(store)}`,
    );
  }
  checkPositiveInteger(every, OWNER, 'snapshots.every', true);
  if (everyMs !== undefined)
    checkPositiveNumber(everyMs, OWNER, 'snapshots.everyMs', false, ' (ms)');
  return { store, every, everyMs };
}
