/** Slots a ring allocates on its first push (or its capacity, when smaller). */
const INITIAL_SLOTS = 8;

/**
 * A ring of the newest frames of a dense seq range (the bus's history), holding at most
 * `capacity` of them: when full, each new frame overwrites the oldest one, so exactly the last
 * `capacity` frames are kept. Finding the frame of a seq is O(1).
 *
 * Storage is allocated as frames arrive, not at construction: it starts small and doubles
 * (never beyond `capacity`) each time it is full, so a large `capacity` costs memory only once
 * that many frames were published. Once grown to `capacity`, a push allocates nothing.
 */
export class FrameRing<F extends { readonly seq: number }> {
  private slots: Array<F | undefined> = [];
  /** The slot of the oldest frame held. */
  private head = 0;
  private count = 0;
  private newest = 0;

  constructor(readonly capacity: number) {}

  /** Frames held now. */
  get size(): number {
    return this.count;
  }

  /** Slots allocated now: grows by doubling with the frames held, up to `capacity`. */
  get allocated(): number {
    return this.slots.length;
  }

  /** The seq of the oldest frame held (`newestSeq + 1` when empty). */
  get oldestSeq(): number {
    return this.newest - this.count + 1;
  }

  /** The seq of the newest frame held (or last pushed, when the capacity is 0). */
  get newestSeq(): number {
    return this.newest;
  }

  /** Appends a frame; its seq must be the previous one's plus 1 (see `restart` otherwise). */
  push(frame: F): void {
    this.newest = frame.seq;
    if (this.count === this.capacity) {
      // Full at capacity (the steady state, checked first): the newest frame takes the oldest
      // one's slot.
      if (this.capacity === 0) return;
      this.slots[this.head] = frame;
      if (++this.head === this.capacity) this.head = 0;
      return;
    }
    const length = this.slots.length;
    if (this.count === length) this.grow();
    let slot = this.head + this.count;
    if (slot >= this.slots.length) slot -= this.slots.length;
    this.slots[slot] = frame;
    this.count++;
  }

  /**
   * Forgets every frame and makes `seq` the last one, so that the next push is `seq + 1`: for a
   * bus whose seq jumps (frames it will never hold). The storage already allocated is kept.
   */
  restart(seq: number): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.newest = seq;
  }

  /** The frame of `seq`, or `undefined` when it is not held (never held or overwritten). */
  get(seq: number): F | undefined {
    const offset = seq - this.oldestSeq;
    if (offset < 0 || offset >= this.count) return undefined;
    let slot = this.head + offset;
    if (slot >= this.slots.length) slot -= this.slots.length;
    return this.slots[slot];
  }

  /** Doubles the storage (up to `capacity`), oldest frame first. Only called when full. */
  private grow(): void {
    const length = this.slots.length;
    const next = new Array<F | undefined>(
      Math.min(this.capacity, Math.max(INITIAL_SLOTS, length * 2)),
    ).fill(undefined);
    for (let i = 0; i < length; i++) {
      let slot = this.head + i;
      if (slot >= length) slot -= length;
      next[i] = this.slots[slot];
    }
    this.slots = next;
    this.head = 0;
  }
}
