/**
 * A fixed-size ring of the newest frames of a dense seq range (the bus's history). A frame's slot
 * is `seq % capacity`, so finding the frame of a seq is O(1) and the ring never reallocates: when
 * full, each new frame overwrites the oldest one. Unlike a history that halves itself, exactly
 * the last `capacity` frames are kept.
 */
export class FrameRing<F extends { readonly seq: number }> {
  private readonly slots: Array<F | undefined>;
  private count = 0;
  private newest = 0;
  /** `newest % capacity`, kept up to date by counting so that a push needs no division. */
  private newestSlot = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<F | undefined>(capacity).fill(undefined);
  }

  /** Frames held now. */
  get size(): number {
    return this.count;
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
    if (this.capacity === 0) return;
    if (++this.newestSlot === this.capacity) this.newestSlot = 0;
    this.slots[this.newestSlot] = frame;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Forgets every frame and makes `seq` the last one, so that the next push is `seq + 1`: for a
   * bus whose seq jumps (frames it will never hold).
   */
  restart(seq: number): void {
    this.slots.fill(undefined);
    this.count = 0;
    this.newest = seq;
    this.newestSlot = this.capacity === 0 ? 0 : seq % this.capacity;
  }

  /** The frame of `seq`, or `undefined` when it is not held (never held or overwritten). */
  get(seq: number): F | undefined {
    if (seq < this.oldestSeq || seq > this.newest) return undefined;
    return this.slots[seq % this.capacity];
  }
}
