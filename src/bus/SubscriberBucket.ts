/**
 * The subscribers that share one index key of the bus (a runId, an agentId, a laneId, or none).
 *
 * @packageDocumentation
 */

/**
 * A set of subscribers in the order they were added, built for the common case of exactly one:
 * a UI or a writer per run. That one is held in a field, so delivering to it costs no set
 * iteration and no trip through a hash table's memory, which counts when ten thousand runs each
 * have their own subscriber and none of them stays in the CPU cache. The others live in a `Set`.
 *
 * Members are visited as `first`, then `rest` in its order: the order they were added. A visit
 * while members come and go behaves like iterating a `Set`: a member deleted before its turn is
 * not visited, one added during the visit is visited after the others (the bus skips it: it
 * subscribed after the frame). No member moves, so none is visited twice or skipped.
 */
export class SubscriberBucket<S> {
  /** The oldest member while it stays; `undefined` once it leaves (the rest keep their place). */
  first: S | undefined;
  /** Members added while `first` or an older member was there, in the order they came. */
  rest: Set<S> | undefined;
  private count = 0;

  /** @param key The index key (kept so that an empty bucket can be removed from its map). */
  constructor(readonly key: string | undefined) {}

  /** Members now. */
  get size(): number {
    return this.count;
  }

  /** Adds a member after the others (a member already held is not added twice). */
  add(member: S): void {
    if (member === this.first || this.rest?.has(member) === true) return;
    // Only an empty bucket may fill `first`: a later member placed there would jump the queue.
    if (this.count === 0) this.first = member;
    else {
      this.rest ??= new Set();
      this.rest.add(member);
    }
    this.count++;
  }

  /** Removes a member; returns whether it was held. */
  delete(member: S): boolean {
    if (member === this.first) this.first = undefined;
    else if (this.rest === undefined || !this.rest.delete(member)) return false;
    if (--this.count === 0) this.rest = undefined;
    return true;
  }
}
