import {
  asapScheduler,
  from,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import {
  backwardsTimestamp,
  badTimestamp,
  keyBefore,
  type Laned,
  LaneHeap,
  sortLaneIds,
  TimedFifo,
  validateLaneIds,
} from '../core/laneOrder.js';
import { OverflowQueue, validateQueueConfig } from '../core/OverflowQueue.js';
import {
  type CoalescePolicy,
  coalesce,
  describe,
  type OverflowNotice,
  type OverflowPolicy,
  type QueueConfig,
  QueueOverflowError,
} from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

export type { Laned } from '../core/laneOrder.js';

/**
 * The isolation queue every lane of {@link mergeLanes} gets: a {@link QueueConfig} whose
 * `onOverflow` also learns which lane the gap is in. A plain `QueueConfig<T>` fits here.
 */
export interface LaneQueueConfig<T> extends Omit<QueueConfig<T>, 'onOverflow'> {
  /**
   * Receives each gap of one lane just before that lane's next released value (or when the lane
   * ends with a gap). A throw errors the merged stream with what was thrown, after the values
   * held then (a second throw while the stream ends errors it at once). Default: none.
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
   * The clock of `maxSkew` and its timer, and where `'arrival'` order with `lane` drains.
   * Default: `asapScheduler`.
   */
  scheduler?: SchedulerLike | undefined;
}

/** A value held in a lane's isolation queue, with the key it was given on arrival. */
interface Held<T> {
  value: T;
  ts: number;
  /** `scheduler.now()` when the lane emitted it (0 without `maxSkew`). */
  arrival: number;
}

/** One lane's state for one subscription. */
interface LaneState<T> {
  readonly id: string;
  readonly fifo: TimedFifo<T> | null;
  readonly queue: OverflowQueue<Held<T>> | null;
  /** laneSeq of the lane's last released value. */
  released: number;
  /** The timestamp of the lane's newest in-order value (`-Infinity` before any). */
  lastTs: number;
  done: boolean;
  /** Live with nothing pending, so counted in `idleLanes`: it holds every pending value back. */
  idle: boolean;
}

const OWNER = 'mergeLanes';

/** The isolation queue's configuration over held values: the user's callbacks see only values. */
function heldQueueOptions<T>(config: LaneQueueConfig<T>): QueueConfig<Held<T>> {
  const { capacity, overflow, classify, terminalReserve } = config;
  let heldOverflow: OverflowPolicy<Held<T>>;
  if (typeof overflow === 'string') heldOverflow = overflow;
  else {
    const { merge, key } = overflow as CoalescePolicy<T>;
    heldOverflow = coalesce<Held<T>>(
      (acc, next) => {
        // The merged value keeps the older key: it takes the place of the value queued first.
        acc.value = merge(acc.value, next.value);
        return acc;
      },
      key === undefined ? undefined : (held) => key(held.value),
    );
  }
  return {
    capacity,
    overflow: heldOverflow,
    classify: classify === undefined ? undefined : (held) => classify(held.value),
    terminalReserve,
  };
}

/** A notice about held values, as the user sees it: about values. */
function unwrapNotice<T>(notice: OverflowNotice<Held<T>>): OverflowNotice<T> {
  const result: OverflowNotice<T> = {
    policy: notice.policy,
    dropped: notice.dropped,
    merged: notice.merged,
    terminalPreserved: notice.terminalPreserved,
  };
  if (notice.first !== undefined) result.first = notice.first.value;
  if (notice.last !== undefined) result.last = notice.last.value;
  return result;
}

function validateOptions<T>(options: MergeLanesConfig<T>): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${OWNER}: options must be an object, got ${describe(options)}`);
  }
  const { order, timestamp, maxSkew, lane, onLate, scheduler } = options;
  if (order !== undefined && order !== 'arrival' && order !== 'timestamp') {
    throw new TypeError(`${OWNER}: order must be 'arrival' or 'timestamp', got ${describe(order)}`);
  }
  if (timestamp !== undefined && typeof timestamp !== 'function') {
    throw new TypeError(`${OWNER}: timestamp must be a function, got ${describe(timestamp)}`);
  }
  if (order === 'timestamp' && timestamp === undefined) {
    throw new TypeError(
      `${OWNER}: order 'timestamp' needs a timestamp function (value => number), got undefined`,
    );
  }
  if (
    maxSkew !== undefined &&
    (typeof maxSkew !== 'number' || Number.isNaN(maxSkew) || maxSkew < 0)
  ) {
    throw new RangeError(
      `${OWNER}: maxSkew must be a non-negative number of milliseconds, got ${describe(maxSkew)}`,
    );
  }
  if (lane !== undefined) validateQueueConfig(lane, `${OWNER}: lane`);
  if (onLate !== undefined && typeof onLate !== 'function') {
    throw new TypeError(`${OWNER}: onLate must be a function, got ${describe(onLate)}`);
  }
  if (
    scheduler !== undefined &&
    (scheduler === null ||
      typeof scheduler !== 'object' ||
      typeof scheduler.schedule !== 'function')
  ) {
    throw new TypeError(`${OWNER}: scheduler must be a SchedulerLike, got ${describe(scheduler)}`);
  }
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
    const input: unknown = lanes[id];
    if (input === null || (typeof input !== 'object' && typeof input !== 'function')) {
      throw new TypeError(
        `${OWNER}: lane ${describe(id)} must be an ObservableInput, got ${describe(input)}`,
      );
    }
  }
  validateOptions(options);
  const {
    order = 'arrival',
    timestamp,
    maxSkew = Number.POSITIVE_INFINITY,
    lane: laneConfig,
    onLate,
    scheduler = asapScheduler,
  } = options;
  const ids = sortLaneIds(subscribeOrder);
  const rankOf = new Map(ids.map((id, rank) => [id, rank] as const));
  const byTimestamp = order === 'timestamp';
  if (!byTimestamp && laneConfig === undefined) return mergeByArrival(lanes, subscribeOrder);
  const queueOptions = laneConfig === undefined ? undefined : heldQueueOptions(laneConfig);
  const onOverflow = laneConfig?.onOverflow;
  const skewed = maxSkew !== Number.POSITIVE_INFINITY;
  const timeOf = timestamp as (value: T) => number;

  return new Observable<Laned<T>>((subscriber) => {
    const states: LaneState<T>[] = ids.map((id) => ({
      id,
      fifo: queueOptions === undefined ? new TimedFifo<T>() : null,
      queue: queueOptions === undefined ? null : new OverflowQueue<Held<T>>(queueOptions),
      released: 0,
      lastTs: Number.NEGATIVE_INFINITY,
      done: false,
      idle: false,
    }));
    const laneSubscribers: OperatorSubscriber<T>[] = [];
    /** The lanes with values pending, keyed by their next value. */
    const heap = new LaneHeap(ids.length);
    /** Under 'timestamp': live lanes with nothing pending. While any, values wait (maxSkew). */
    let idleLanes = 0;
    let pending = 0;
    let lanesOpen = ids.length;
    let arrivals = 0;
    let releasing = false;
    /**
     * Set by the first error: from then on no lane is listened to, everything held is released
     * in merge order without waiting, and the stream ends with `endError`.
     */
    let ending = false;
    let endError: unknown;
    let lateBacklog: Laned<T>[] | undefined;
    let lateCount = 0;
    /** The key of the last value released by maxSkew: what sorts before it is late. */
    let skewReleased = false;
    let skewTs = 0;
    let skewRank = 0;
    let timer: Subscription | undefined;
    let timerDue = Number.NaN;
    let drainTask: Subscription | undefined;

    const sizeOf = (lane: LaneState<T>): number =>
      lane.fifo === null ? (lane.queue as OverflowQueue<Held<T>>).size : lane.fifo.size;

    /** Puts a lane where it belongs in the heap, and in the idle count, after any change. */
    const place = (rank: number): void => {
      const lane = states[rank]!;
      let size: number;
      if (lane.fifo !== null) {
        size = lane.fifo.size;
        if (size > 0) heap.set(rank, lane.fifo.headTs(), lane.released + 1);
      } else {
        const queue = lane.queue as OverflowQueue<Held<T>>;
        size = queue.size;
        if (size > 0) heap.set(rank, (queue.peek() as Held<T>).ts, lane.released + 1);
      }
      if (size === 0) heap.delete(rank);
      if (byTimestamp) {
        const idle = size === 0 && !lane.done;
        if (idle !== lane.idle) {
          lane.idle = idle;
          idleLanes += idle ? 1 : -1;
        }
      }
    };

    /** When the head value of a lane with values pending arrived. */
    const arrivalOf = (lane: LaneState<T>): number =>
      lane.fifo !== null
        ? lane.fifo.headArrival()
        : ((lane.queue as OverflowQueue<Held<T>>).peek() as Held<T>).arrival;

    /**
     * Reports a lane's pending gap. A first throw from onOverflow ends the stream like a failing
     * lane (the gap was handed over, so what follows it may still go); a throw while already
     * ending errors at once. Returns false when the stream errored.
     */
    const reportGap = (lane: LaneState<T>): boolean => {
      const queue = lane.queue;
      if (queue === null || !queue.hasNotice) return true;
      const notice = queue.takeNotice() as OverflowNotice<Held<T>>;
      if (onOverflow === undefined) return true;
      try {
        onOverflow(unwrapNotice(notice), lane.id);
      } catch (error) {
        if (ending) {
          subscriber.error(error);
          return false;
        }
        end(error);
      }
      return !subscriber.closed;
    };

    /** Releases the head of a lane. Returns false when the stream errored meanwhile. */
    const release = (rank: number): boolean => {
      const lane = states[rank]!;
      let value: T;
      if (lane.fifo !== null) {
        value = lane.fifo.shift();
      } else {
        if (!reportGap(lane)) return false;
        value = (lane.queue as OverflowQueue<Held<T>>).shift().value;
      }
      pending--;
      place(rank);
      subscriber.next({ lane: lane.id, laneSeq: ++lane.released, value });
      return !(lane.done && sizeOf(lane) === 0 && !reportGap(lane));
    };

    const disarmTimer = (): void => {
      timer?.unsubscribe();
      timer = undefined;
    };

    const armTimer = (due: number): void => {
      if (timer !== undefined && timerDue === due) return;
      disarmTimer();
      timerDue = due;
      timer = scheduler.schedule(
        () => {
          timer = undefined;
          pump();
        },
        Math.max(0, due - scheduler.now()),
      );
    };

    const finishIfDone = (): void => {
      if (subscriber.closed) return;
      if (ending) {
        // Gaps at the end of lanes that hold nothing more.
        for (const lane of states) if (!reportGap(lane)) return;
        subscriber.error(endError);
      } else if (lanesOpen === 0 && pending === 0) {
        subscriber.complete();
      }
    };

    /**
     * Releases every value whose turn has come; arms the maxSkew timer for the smallest pending
     * value when it must wait.
     */
    function pump(): void {
      if (releasing || subscriber.closed) return;
      releasing = true;
      let waiting = false;
      try {
        for (;;) {
          if (subscriber.closed) return;
          if (lateBacklog !== undefined && lateBacklog.length > 0) {
            subscriber.next(lateBacklog.shift() as Laned<T>);
            continue;
          }
          const rank = heap.peek();
          if (rank < 0) break;
          // Ending: no lane can send anything smaller any more, so nothing waits.
          if (!ending && idleLanes > 0) {
            // A live lane with nothing pending could still send something smaller.
            if (!skewed) break;
            const due = arrivalOf(states[rank]!) + maxSkew;
            if (scheduler.now() < due) {
              armTimer(due);
              waiting = true;
              break;
            }
            skewReleased = true;
            skewTs = heap.tsOf(rank);
            skewRank = rank;
          }
          if (!release(rank)) return;
        }
      } finally {
        releasing = false;
      }
      if (!waiting && timer !== undefined) disarmTimer();
      if (ending || lanesOpen === 0) finishIfDone();
    }

    const scheduleDrain = (): void => {
      if (drainTask === undefined && !subscriber.closed) {
        drainTask = scheduler.schedule(() => {
          drainTask = undefined;
          pump();
        });
      }
    };

    /**
     * Ends the stream with `error`: every lane is let go, so nothing more is accepted, and every
     * value already held goes out first (DESIGN.md: an error never drops what was accepted).
     */
    function end(error: unknown): void {
      if (ending || subscriber.closed) return;
      ending = true;
      endError = error;
      for (const laneSubscriber of laneSubscribers) laneSubscriber.unsubscribe();
      pump();
    }

    /** Holds a value in its lane. Returns false when the lane failed. */
    const hold = (rank: number, value: T, ts: number, arrival: number): boolean => {
      const lane = states[rank]!;
      if (lane.fifo !== null) {
        const wasEmpty = lane.fifo.size === 0;
        lane.fifo.push(value, ts, arrival);
        pending++;
        if (wasEmpty) place(rank);
        return true;
      }
      const queue = lane.queue as OverflowQueue<Held<T>>;
      const held: Held<T> = { value, ts, arrival };
      let outcome: string;
      try {
        outcome = queue.push(held);
      } catch (error) {
        end(error);
        return false;
      }
      if (outcome === 'overflow') {
        const { notice } = queue.overflowError(held);
        end(
          new QueueOverflowError(unwrapNotice(notice as OverflowNotice<Held<T>>), queue.capacity),
        );
        return false;
      }
      if (outcome === 'queued') pending++;
      // An eviction may have taken the head.
      place(rank);
      return true;
    };

    const emitLate = (rank: number, value: T): void => {
      const lane = states[rank]!;
      const laned: Laned<T> = { lane: lane.id, laneSeq: lane.released + 1, value, late: true };
      lateCount++;
      if (onLate !== undefined) {
        try {
          onLate(laned, lateCount);
        } catch (error) {
          // Like a throwing timestamp: the value it was about is where the stream fails, and its
          // laneSeq stays free for the lane's held values, which still go out.
          end(error);
          return;
        }
      }
      lane.released++;
      if (!releasing) subscriber.next(laned);
      else if (lateBacklog === undefined) lateBacklog = [laned];
      else lateBacklog.push(laned);
    };

    const onValue = (rank: number, value: T): void => {
      if (ending) return;
      if (!byTimestamp) {
        if (hold(rank, value, ++arrivals, 0) && !releasing) scheduleDrain();
        return;
      }
      let ts: number;
      try {
        ts = timeOf(value);
      } catch (error) {
        end(error);
        return;
      }
      // NaN is the only number not equal to itself; the check is inlined on this hot path.
      // biome-ignore lint/suspicious/noSelfCompare: see above.
      if (typeof ts !== 'number' || ts !== ts) {
        end(badTimestamp(OWNER, states[rank]!.id, ts));
        return;
      }
      const lane = states[rank]!;
      // Released values are in key order, so sorting before the last one released by maxSkew
      // is sorting before some value already out.
      if (skewReleased && keyBefore(ts, rank, 0, skewTs, skewRank, 0)) {
        if (ts > lane.lastTs) lane.lastTs = ts;
        emitLate(rank, value);
        return;
      }
      if (ts < lane.lastTs) {
        end(backwardsTimestamp(OWNER, lane.id, lane.lastTs, ts));
        return;
      }
      lane.lastTs = ts;
      if (hold(rank, value, ts, skewed ? scheduler.now() : 0)) pump();
    };

    const onComplete = (rank: number): void => {
      const lane = states[rank]!;
      lane.done = true;
      lanesOpen--;
      place(rank);
      if (sizeOf(lane) === 0 && !reportGap(lane)) return;
      if (byTimestamp || lanesOpen === 0) pump();
    };

    for (const id of subscribeOrder) {
      const rank = rankOf.get(id) as number;
      const laneSubscriber = new OperatorSubscriber<T>(
        (value) => onValue(rank, value),
        (error) => end(error),
        () => onComplete(rank),
      );
      laneSubscribers[rank] = laneSubscriber;
      // Added before any lane is subscribed, so that an unsubscribe during a synchronous
      // emission closes every lane at once.
      subscriber.add(laneSubscriber);
    }
    if (byTimestamp) for (let rank = 0; rank < ids.length; rank++) place(rank);
    for (const id of subscribeOrder) {
      if (subscriber.closed || ending) break;
      const rank = rankOf.get(id) as number;
      try {
        from(lanes[id] as ObservableInput<T>).subscribe(laneSubscribers[rank]!);
      } catch (error) {
        end(error);
      }
    }
    if (ids.length === 0) subscriber.complete();

    return () => {
      disarmTimer();
      drainTask?.unsubscribe();
      drainTask = undefined;
      for (const lane of states) {
        lane.fifo?.clear();
        lane.queue?.clear();
      }
      heap.clear();
      lateBacklog = undefined;
    };
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
      if (subscriber.closed) return;
      try {
        from(lanes[id] as ObservableInput<T>).subscribe(laneSubscribers[index]!);
      } catch (error) {
        subscriber.error(error);
      }
    });
    if (lanesOpen === 0) subscriber.complete();
  });
}
