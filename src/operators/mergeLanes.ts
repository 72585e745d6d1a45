import { Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import {
  checkFunction,
  checkNonNegative,
  checkObservableInput,
  checkOptions,
  checkScheduler,
  describe,
  typeError,
  validateQueueConfig,
} from '../core/checks.js';
import { type Laned, sortLaneIds, validateLaneIds } from '../core/laneOrder.js';
import type { OverflowNotice, QueueConfig } from '../core/types.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { LaneRun } from './LaneRun.js';

export type { Laned } from '../core/laneOrder.js';

/**
 * The isolation queue every lane of {@link mergeLanes} gets: a {@link QueueConfig} whose
 * `onOverflow` also learns which lane the gap is in. A plain `QueueConfig<T>` fits here.
 */
export interface LaneQueueConfig<T> extends Omit<QueueConfig<T>, 'onOverflow'> {
  /**
   * Receives each gap of one lane just before that lane's next released value (that value is
   * already taken out, so nothing this callback pushes can evict it or overtake it). A throw
   * errors the merged stream with what was thrown, after the values held then (a second throw
   * while the stream ends errors it at once). Default: none.
   */
  onOverflow?: ((notice: OverflowNotice<T>, lane: string) => void) | undefined;
}

/** The options of {@link mergeLanes}. */
export interface MergeLanesConfig<T> {
  /**
   * `'arrival'`: values as they arrive. `'timestamp'`: a deterministic k-way merge by
   * (`timestamp(value)`, lane id, laneSeq). Default: `'arrival'`.
   */
  order?: 'arrival' | 'timestamp' | undefined;
  /**
   * The time of a value, for `'timestamp'` order (required there; ignored under `'arrival'`).
   * Must return a number that is not NaN, non-decreasing within a lane. Default: none.
   */
  timestamp?: ((value: T) => number) | undefined;
  /**
   * Under `'timestamp'` order, the longest a value waits, in ms of `scheduler` time since it
   * arrived, for lanes that have nothing pending: when the smallest pending value has waited
   * `maxSkew`, it is released even though a live lane holds no value (so a silent lane holds the
   * others back at most `maxSkew`). A non-negative number (`Infinity` allowed; `0` releases each
   * value as it arrives unless a smaller one is pending). Default: `Infinity` (values wait until
   * every live lane holds a pending value or has completed).
   */
  maxSkew?: number | undefined;
  /**
   * Isolation: every lane gets its own bounded queue with this configuration, so a flooding lane
   * drops or merges only its own values and never another lane's. Under `'arrival'` order the
   * queues are drained in one task on `scheduler` after each burst; under `'timestamp'` they hold
   * the values waiting for their turn. Default: none (lanes are not bounded; see the docs).
   */
  lane?: LaneQueueConfig<T> | undefined;
  /**
   * Called with each late value (and how many have been late so far) just before it is emitted.
   * A throw errors the stream with what was thrown, after the values held then; the late value
   * itself is not emitted. Default: none.
   */
  onLate?: ((late: Laned<T>, lateCount: number) => void) | undefined;
  /**
   * The clock of `maxSkew` and its timer, and where `'arrival'` order with `lane` drains: any
   * `SchedulerLike` (with `schedule` and `now`), `queueScheduler` included (each value is then
   * delivered at once). Default: `asapScheduler`.
   */
  scheduler?: SchedulerLike | undefined;
}

const OWNER = 'mergeLanes';

function validateOptions<T>(options: MergeLanesConfig<T>): void {
  checkOptions(options, OWNER);
  const { order, timestamp, maxSkew, lane, onLate, scheduler } = options;
  if (order !== undefined && order !== 'arrival' && order !== 'timestamp') {
    throw typeError(OWNER, 'order', "'arrival' or 'timestamp'", order);
  }
  checkFunction(timestamp, OWNER, 'timestamp');
  if (order === 'timestamp' && timestamp === undefined) {
    throw new TypeError(
      `${OWNER}: order 'timestamp' needs a timestamp function (value => number), got undefined`,
    );
  }
  if (maxSkew !== undefined) checkNonNegative(maxSkew, OWNER, 'maxSkew', ' of milliseconds');
  if (lane !== undefined) validateQueueConfig(lane, `${OWNER}: lane`);
  checkFunction(onLate, OWNER, 'onLate');
  if (scheduler !== undefined) checkScheduler(scheduler, OWNER);
}

/**
 * Merges named lanes (parallel sub-agents, say) into one stream of `{ lane, laneSeq, value }`,
 * in arrival order or in a deterministic timestamp order, optionally with one bounded queue per
 * lane so that a flooding lane loses only its own values.
 *
 * **`'arrival'`** (default): values as they arrive, tagged; laneSeq dense from 1 per lane.
 *
 * **`'timestamp'`**: a k-way merge by (`timestamp(value)`, lane id, laneSeq). The smallest
 * pending value is released as soon as every lane that has not completed holds a pending value,
 * or once it has waited `maxSkew` ms of `scheduler` time since it arrived (so a silent lane holds
 * the others back at most `maxSkew`). With every lane complete, the output is a stable sort of
 * the input by (timestamp, lane id, laneSeq); the same input with the same timing always gives
 * the same output; equal timestamps come out in lane-id order.
 *
 * Late values (only after a release by `maxSkew`): a value whose (timestamp, lane id) sorts
 * before that of a value released by `maxSkew` is released at once with `late: true` and counted
 * (`onLate`), also when its own lane went backwards. Otherwise, a timestamp below the lane's
 * previous one errors the stream with a `TypeError` naming the lane.
 *
 * ```text
 * order 'timestamp'; each digit is a value whose timestamp is that digit:
 * a:      -1--3--5|
 * b:      --2--4--6---|
 * result: --A-BC-D(EF)|    A = { lane: 'a', laneSeq: 1, value: 1 }, B = b#1 (2), C = a#2 (3) ...
 *
 * maxSkew 3: each value waits at most 3 frames after its arrival for the silent lane b
 * a:      -1-2-----|
 * b:      ----------|
 * result: ----A-B---|      A = a#1 (1) at frame 4, B = a#2 (2) at frame 6
 * ```
 *
 * Completes when every lane has completed and what they held is released. When a lane errors
 * (its source, its `timestamp`, its queue's `'error'` policy, its classifier or merge), every lane
 * is unsubscribed at once, every value any lane still holds is released at once in merge order
 * (no wait for other lanes or `maxSkew`; each lane's gap reported before its values), then the
 * stream errors: no value handed over before the error is lost. A throwing `onOverflow` or
 * `onLate` ends the stream the same way with what it threw (the late value `onLate` was called
 * with is not emitted); a second throw of `onOverflow` while ending errors at once. Unsubscribing
 * tears down every lane and every timer.
 *
 * ```text
 * a:      -1--3-----|
 * b:      --2--#
 * result: --A-B(C#)        C = a#2 (3): held when b failed, so it goes before the error
 * ```
 *
 * @param lanes - lane id (non-empty) to an `ObservableInput`; subscribed in the object's key order.
 * @param options - see {@link MergeLanesConfig}.
 *
 * Every case of marbles/mergeLanes.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/mergeLanes.md in the repository.
 *
 * @example
 * ```ts
 * mergeLanes(
 *   { planner: planner$, coder: coder$, tester: tester$ },
 *   { order: 'timestamp', timestamp: (e) => e.ts, maxSkew: 250,
 *     lane: { capacity: 256, overflow: 'drop-progress', classify } },
 * ).subscribe(({ lane, laneSeq, value }) => render(lane, laneSeq, value));
 * ```
 *
 * @throws TypeError or RangeError at creation for bad lanes or options (naming them).
 */
export function mergeLanes<T>(
  lanes: Record<string, ObservableInput<T>>,
  options: MergeLanesConfig<T> = {},
): Observable<Laned<T>> {
  const subscribeOrder = validateLaneIds(lanes, OWNER);
  for (const id of subscribeOrder) {
    checkObservableInput(lanes[id], OWNER, `lane ${describe(id)}`, true);
  }
  validateOptions(options);
  if (options.order !== 'timestamp' && options.lane === undefined) {
    return mergeByArrival(lanes, subscribeOrder);
  }
  const ids = sortLaneIds(subscribeOrder);
  const inputs = subscribeOrder.map((id) => ({ rank: ids.indexOf(id), input: lanes[id]! }));
  return new Observable<Laned<T>>((subscriber) => {
    new LaneRun(subscriber, ids, options).start(inputs);
  });
}

/** `'arrival'` order without isolation: a tagging `merge`, nothing held. */
function mergeByArrival<T>(
  lanes: Record<string, ObservableInput<T>>,
  subscribeOrder: string[],
): Observable<Laned<T>> {
  return new Observable<Laned<T>>((subscriber) => {
    let lanesOpen = subscribeOrder.length;
    const laneSubscribers = subscribeOrder.map((id) => {
      let laneSeq = 0;
      const laneSubscriber = new OperatorSubscriber<T>(
        (value) => subscriber.next({ lane: id, laneSeq: ++laneSeq, value }),
        (error) => subscriber.error(error),
        () => {
          if (--lanesOpen === 0) subscriber.complete();
        },
      );
      subscriber.add(laneSubscriber);
      return laneSubscriber;
    });
    subscribeOrder.forEach((id, index) => {
      subscribeWithin(subscriber, lanes[id] as ObservableInput<T>, laneSubscribers[index]!);
    });
    if (lanesOpen === 0) subscriber.complete();
  });
}
