import type { BusSubscriber } from './BusSubscriber.js';
import { matchesFilter } from './filter.js';
import { SubscriberBucket } from './SubscriberBucket.js';
import type { EventFrame } from './types.js';

type Bucket<P> = SubscriberBucket<BusSubscriber<P>>;

/**
 * The live subscribers of a bus, indexed by their filter's runId, else agentId, else laneId,
 * else as wildcards, so that a frame costs the subscribers it can match, not all of them.
 */
export class SubscriberIndex<P> {
  /** Every subscriber in the index. */
  readonly all = new Set<BusSubscriber<P>>();
  /** How many of them have a `'backpressure'` queue. */
  backpressureCount = 0;
  // A bucket leaves its index with its last subscriber: one run's id never outlives its listeners.
  private readonly byRun = new Map<string, Bucket<P>>();
  private readonly byAgent = new Map<string, Bucket<P>>();
  private readonly byLane = new Map<string, Bucket<P>>();
  private readonly wildcard: Bucket<P> = new SubscriberBucket<BusSubscriber<P>>(undefined);

  get size(): number {
    return this.all.size;
  }

  add(subscriber: BusSubscriber<P>): void {
    const { filter } = subscriber;
    let bucket: Bucket<P>;
    // The bucket guarantees its field: the subscriber stops checking it per frame.
    if (filter.runId !== undefined) {
      bucket = this.bucketIn(this.byRun, filter.runId, subscriber);
      subscriber.runId = undefined;
    } else if (filter.agentId !== undefined) {
      bucket = this.bucketIn(this.byAgent, filter.agentId, subscriber);
      subscriber.agentId = undefined;
    } else if (filter.laneId !== undefined) {
      bucket = this.bucketIn(this.byLane, filter.laneId, subscriber);
      subscriber.laneId = undefined;
    } else {
      bucket = this.wildcard;
    }
    bucket.add(subscriber);
    subscriber.bucket = bucket;
    this.all.add(subscriber);
    if (subscriber.plan?.backpressure === true) this.backpressureCount++;
  }

  /** Takes a subscriber out; `false` when it was not in. */
  delete(subscriber: BusSubscriber<P>): boolean {
    const bucket = subscriber.bucket;
    if (bucket === undefined) return false;
    bucket.delete(subscriber);
    const map = subscriber.bucketMap;
    if (bucket.size === 0 && map !== undefined && bucket.key !== undefined) map.delete(bucket.key);
    subscriber.bucket = undefined;
    subscriber.bucketMap = undefined;
    this.all.delete(subscriber);
    if (subscriber.plan?.backpressure === true) this.backpressureCount--;
    return true;
  }

  // The per-publish path is split into small methods, with what is rare (several subscribers per
  // bucket) out of line: V8 inlines a limited amount of code into one optimised function, and a
  // path that fits keeps the frame allocation of publish inlined.

  /** Pushes a frame to every caught-up subscriber it matches. */
  deliver(frame: EventFrame<P>): void {
    const byRun = this.runBucketOf(frame);
    if (byRun !== undefined) this.deliverTo(byRun, frame);
    const byAgent = this.agentBucketOf(frame);
    if (byAgent !== undefined) this.deliverTo(byAgent, frame);
    const byLane = this.laneBucketOf(frame);
    if (byLane !== undefined) this.deliverTo(byLane, frame);
    if (this.wildcard.size > 0) this.deliverTo(this.wildcard, frame);
  }

  /**
   * The ids of the `'backpressure'` subscribers with no room for `frame`, if any, when `ahead`
   * frames published before it (a batch's) are not counted anywhere yet.
   */
  fullFor(frame: EventFrame<P>, ahead: number): number[] | undefined {
    let full = this.fullIn(this.runBucketOf(frame), frame, ahead, undefined);
    full = this.fullIn(this.agentBucketOf(frame), frame, ahead, full);
    full = this.fullIn(this.laneBucketOf(frame), frame, ahead, full);
    return this.fullIn(this.wildcard, frame, ahead, full);
  }

  private bucketIn(index: Map<string, Bucket<P>>, key: string, subscriber: BusSubscriber<P>) {
    let bucket = index.get(key);
    if (bucket === undefined) {
      bucket = new SubscriberBucket<BusSubscriber<P>>(key);
      index.set(key, bucket);
    }
    subscriber.bucketMap = index;
    return bucket;
  }

  // The subscribers a frame can reach through each index (`undefined`: none there). The size
  // checks skip a hash lookup per index nobody uses (a bus of wildcard subscribers).

  private runBucketOf(frame: EventFrame<P>): Bucket<P> | undefined {
    return frame.runId === undefined || this.byRun.size === 0
      ? undefined
      : this.byRun.get(frame.runId);
  }

  private agentBucketOf(frame: EventFrame<P>): Bucket<P> | undefined {
    return frame.agentId === undefined || this.byAgent.size === 0
      ? undefined
      : this.byAgent.get(frame.agentId);
  }

  private laneBucketOf(frame: EventFrame<P>): Bucket<P> | undefined {
    return this.byLane.size === 0 ? undefined : this.byLane.get(frame.laneId as string);
  }

  private deliverTo(bucket: Bucket<P>, frame: EventFrame<P>): void {
    const first = bucket.first;
    if (first !== undefined) this.deliverToOne(first, frame);
    if (bucket.rest !== undefined) this.deliverToRest(bucket.rest, frame);
  }

  private deliverToRest(subscribers: Set<BusSubscriber<P>>, frame: EventFrame<P>): void {
    for (const subscriber of subscribers) this.deliverToOne(subscriber, frame);
  }

  private deliverToOne(subscriber: BusSubscriber<P>, frame: EventFrame<P>): void {
    // Behind the head (cursor Infinity), a subscriber reads this frame from the log when it gets
    // there; an ended one takes nothing.
    if (frame.seq <= subscriber.cursor) return;
    let matches: boolean;
    if (subscriber.where === undefined) matches = matchesFilter(subscriber, frame);
    else {
      // Only `where` can throw.
      try {
        matches = matchesFilter(subscriber, frame);
      } catch (error) {
        subscriber.stop(error);
        return;
      }
    }
    if (matches) subscriber.offer(frame);
  }

  private fullIn(
    bucket: Bucket<P> | undefined,
    frame: EventFrame<P>,
    ahead: number,
    full: number[] | undefined,
  ): number[] | undefined {
    if (bucket === undefined) return full;
    let ids = full;
    if (bucket.first !== undefined && this.isFull(bucket.first, frame, ahead)) {
      ids = withId(ids, bucket.first.id);
    }
    if (bucket.rest !== undefined) {
      for (const subscriber of bucket.rest) {
        if (this.isFull(subscriber, frame, ahead)) ids = withId(ids, subscriber.id);
      }
    }
    return ids;
  }

  private isFull(subscriber: BusSubscriber<P>, frame: EventFrame<P>, ahead: number): boolean {
    if (subscriber.plan?.backpressure !== true || subscriber.ended) return false;
    try {
      if (!matchesFilter(subscriber.filter, frame)) return false;
    } catch {
      // Its stream errors when the frame is pushed: it holds nothing back.
      return false;
    }
    return !subscriber.hasRoomFor(frame, ahead);
  }
}

/** `ids` with `id` appended (a new list when there was none). */
function withId(ids: number[] | undefined, id: number): number[] {
  if (ids === undefined) return [id];
  ids.push(id);
  return ids;
}
