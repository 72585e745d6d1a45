/**
 * An unbounded FIFO over one array: O(1) amortized `push` and `shift`, with the taken head
 * compacted away once it is at least half of the array (never per value). No RxJS.
 *
 * @packageDocumentation
 */

/** Compact only past this many taken slots, so small FIFOs never move their values. */
const COMPACT_AFTER = 64;

/** A FIFO of values: the backlog of a paced lane, its bursts, a board's ready items. */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  /** Values held now. */
  get size(): number {
    return this.items.length - this.head;
  }

  get isEmpty(): boolean {
    return this.head === this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest value; only when not empty. */
  peek(): T {
    return this.items[this.head] as T;
  }

  /** The newest value; only when not empty. */
  newest(): T {
    return this.items[this.items.length - 1] as T;
  }

  /** The value `index` places after the oldest; only for `0 <= index < size`. */
  at(index: number): T {
    return this.items[this.head + index] as T;
  }

  /** Takes the oldest value out; only when not empty. */
  shift(): T {
    const items = this.items;
    const item = items[this.head] as T;
    items[this.head] = undefined;
    this.head++;
    // Stryker disable all: resetting and compacting only free memory; what the FIFO holds, and
    // in which order, is the same without them (the tests cannot tell, the heap can).
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= items.length) {
      items.splice(0, this.head);
      this.head = 0;
    }
    // Stryker restore all
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
