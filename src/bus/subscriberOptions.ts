import type { SchedulerLike } from 'rxjs';
import { asapScheduler } from 'rxjs';
import {
  checkDeliveryOptions,
  checkOptions,
  checkPositiveInteger,
  describe,
  policyNameOf,
  typeError,
  validateQueueConfig,
} from '../core/checks.js';
import type { OverflowQueueOptions, QueueStats } from '../core/OverflowQueue.js';
import {
  type Classifier,
  coalesce,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
} from '../core/types.js';
import type { DrainSchedule } from '../internal/DrainEngine.js';
import type { QueueTriggers } from '../internal/queueTriggers.js';
import type { MaxLag } from './LagGuard.js';
import type { EventFrame, SelectOptions, SubscriberQueue } from './types.js';

/** A subscriber queue, checked and resolved against the bus's defaults. */
export interface QueuePlan<P> {
  /** `overflow: 'backpressure'`: the bus refuses what does not fit; the queue never drops. */
  readonly backpressure: boolean;
  /** The policy's name, as metrics report it. */
  readonly policy: string;
  /** The queue's classifier (the bus's unless the queue gives one). */
  readonly classify: Classifier<EventFrame<P>>;
  /** The capacity the user gave. */
  readonly capacity: number;
  /** Non-terminal frames have room only below this many non-terminal frames. */
  readonly nonTerminalCapacity: number;
  /** The options of the subscriber's `OverflowQueue`, minus the merge watch (per subscriber). */
  readonly queue: OverflowQueueOptions<EventFrame<P>>;
  readonly schedule: DrainSchedule;
  /** Credits granted at subscription, before `demand` first emits. */
  readonly initialDemand: number;
  readonly triggers: QueueTriggers;
  readonly onOverflow: ((notice: OverflowNotice<EventFrame<P>>) => void) | undefined;
  /** How far behind it may fall, when limited. */
  readonly maxLag: MaxLag | undefined;
  readonly inspect: ((readStats: () => QueueStats) => void) | undefined;
}

/** `select`/`iterate` options, checked. */
export interface CheckedSelect<P> {
  after: number | undefined;
  epoch: string | undefined;
  queue: SubscriberQueue<P> | undefined;
}

/** Checks a cursor: a non-negative integer seq, or `undefined`. */
export function checkAfter(after: unknown, owner: string): number | undefined {
  if (after === undefined) return undefined;
  if (typeof after !== 'number' || !Number.isInteger(after) || after < 0) {
    throw new RangeError(
      `${owner}: after must be a non-negative integer (a seq), got ${describe(after)}`,
    );
  }
  return after;
}

/** Checks the options of `select` and `iterate` (their shape, the cursor, the epoch). */
export function checkSelectOptions<P>(
  options: SelectOptions<P> | undefined,
  owner: string,
): CheckedSelect<P> {
  if (options === undefined) return { after: undefined, epoch: undefined, queue: undefined };
  checkOptions(options, owner);
  const after = checkAfter(options.after, owner);
  const { epoch, queue } = options;
  if (epoch !== undefined && (typeof epoch !== 'string' || epoch === '')) {
    throw new TypeError(`${owner}: epoch must be a non-empty string, got ${describe(epoch)}`);
  }
  if (queue !== undefined && (queue === null || typeof queue !== 'object')) {
    throw typeError(owner, 'queue', 'an object', queue);
  }
  return { after, epoch, queue };
}

/**
 * Checks a subscriber queue as `boundedQueue` would (naming `owner queue`), and resolves it: the
 * bus's classifier by default, and a `'backpressure'` queue as one that never drops (the bus
 * refuses what does not fit before it reaches the queue).
 */
export function planQueue<P>(
  queue: SubscriberQueue<P>,
  owner: string,
  busClassify: Classifier<EventFrame<P>>,
): QueuePlan<P> {
  const queueOwner = `${owner} queue`;
  const backpressure = queue.overflow === 'backpressure';
  const classify = memoized(queue.classify ?? busClassify);
  const overflow: OverflowPolicy<EventFrame<P>> = backpressure
    ? 'drop-incoming'
    : (queue.overflow as OverflowPolicy<EventFrame<P>>);
  const reserve = validateQueueConfig({ ...queue, overflow, classify }, queueOwner);
  const initialDemand = checkDeliveryOptions(queue, queueOwner);
  const maxLag = checkMaxLag(queue.maxLag, backpressure, queueOwner);
  const { demand, flushOn, scheduler = asapScheduler } = queue;
  const schedule: DrainSchedule =
    demand !== undefined ? 'now' : flushOn !== undefined ? 'tick' : (scheduler as SchedulerLike);
  return {
    backpressure,
    policy: backpressure ? 'backpressure' : policyNameOf(overflow, queueOwner),
    classify,
    capacity: queue.capacity,
    nonTerminalCapacity: queue.capacity - reserve,
    queue: {
      capacity: backpressure ? Number.MAX_SAFE_INTEGER : queue.capacity,
      overflow,
      classify,
      terminalReserve: reserve,
      onDrop: backpressure ? undefined : queue.onDrop,
      mergeAtNewest: true,
    },
    schedule,
    initialDemand,
    triggers: { demand, flushOn },
    onOverflow: queue.onOverflow,
    maxLag,
    inspect: queue.inspect,
  };
}

/** Checks `maxLag`: frames a positive integer, ms a positive number, not with 'backpressure'. */
function checkMaxLag(maxLag: unknown, backpressure: boolean, owner: string): MaxLag | undefined {
  if (maxLag === undefined) return undefined;
  if (maxLag === null || typeof maxLag !== 'object') {
    throw new TypeError(
      `${owner}: maxLag must be an object ({ frames?, ms? }), got ${describe(maxLag)}`,
    );
  }
  if (backpressure) {
    throw new RangeError(
      `${owner}: maxLag cannot be combined with overflow 'backpressure', which holds publishers back instead`,
    );
  }
  const { frames, ms } = maxLag as MaxLag;
  if (frames !== undefined) checkPositiveInteger(frames, owner, 'maxLag.frames');
  if (ms !== undefined && !(typeof ms === 'number' && ms > 0 && Number.isFinite(ms))) {
    throw new RangeError(
      `${owner}: maxLag.ms must be a positive number of ms, got ${describe(ms)}`,
    );
  }
  if (frames === undefined && ms === undefined) {
    throw new RangeError(`${owner}: maxLag needs frames or ms`);
  }
  return { frames, ms };
}

/**
 * A classifier that answers a repeated question about the same frame from memory: a
 * `'backpressure'` room check and the queue's admission then classify a frame once.
 */
function memoized<P>(classify: Classifier<EventFrame<P>>): Classifier<EventFrame<P>> {
  let lastFrame: EventFrame<P> | undefined;
  let lastClass: EventClass = 'normal';
  return (frame) => {
    if (frame !== lastFrame) {
      // Forgotten first: a classifier that throws leaves nothing half-remembered.
      lastFrame = undefined;
      lastClass = classify(frame);
      lastFrame = frame;
    }
    return lastClass;
  };
}

/**
 * A `coalesce` policy that also tells `onMerge` the seqs of the frames it folds (a merged frame
 * shows one seq of the several it stands for, and a bus notice carries the range), and makes the
 * merged frame carry the newest seq it contains, so that it stands where its newest part stood.
 */
export function watchMerges<P>(
  overflow: OverflowPolicy<EventFrame<P>>,
  onMerge: (queued: EventFrame<P>, incoming: EventFrame<P>) => void,
): OverflowPolicy<EventFrame<P>> {
  if (typeof overflow !== 'object' || overflow.kind !== 'coalesce') return overflow;
  const { merge, key, fallback } = overflow;
  return coalesce(
    (queued: EventFrame<P>, incoming: EventFrame<P>) => {
      const merged = merge(queued, incoming);
      onMerge(queued, incoming);
      const newest = Math.max(queued.seq, incoming.seq);
      return merged.seq === newest ? merged : { ...merged, seq: newest };
    },
    key,
    fallback === undefined ? undefined : { fallback },
  );
}
