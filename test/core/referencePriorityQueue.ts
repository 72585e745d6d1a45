import type { PushOutcome } from '../../src/core/OverflowQueue.js';
import type { PriorityOverflowQueueOptions } from '../../src/core/PriorityOverflowQueue.js';
import type { CoalesceFallback } from '../../src/core/types.js';
import { lastIndexOf, type ReferenceEntry, ReferenceModel } from './referenceModel.js';

/**
 * The plainest model of PriorityOverflowQueue: one array in arrival order, scanned for
 * everything. It spells out the documented rule of each policy with priorities.
 */
export class ReferencePriorityQueue<T> extends ReferenceModel<T> {
  constructor(private readonly priorityOptions: PriorityOverflowQueueOptions<T>) {
    super(priorityOptions);
  }

  protected admit(value: T): PushOutcome {
    const level = this.priorityOptions.priority?.(value) ?? 0;
    const entry = this.entryOf(value, level);
    if (this.hasRoomFor(entry)) {
      this.items.push(entry);
      return 'queued';
    }
    const overflow = this.options.overflow;
    if (typeof overflow === 'object') {
      const ownLevel = this.items.filter((item) => item.level === level);
      if (this.mergedInto(entry, ownLevel)) return 'merged';
      return this.apply(overflow.fallback ?? 'drop-progress', entry);
    }
    return this.apply(overflow, entry);
  }

  private apply(policy: CoalesceFallback, entry: ReferenceEntry<T>): PushOutcome {
    const { value, level } = entry;
    const nonTerminal = this.items.filter((item) => item.cls !== 'terminal');
    const lowestNonTerminal = Math.min(...nonTerminal.map((item) => item.level));
    switch (policy) {
      case 'error':
        return 'overflow';
      case 'drop-oldest':
        if (nonTerminal.length === 0 || level < lowestNonTerminal) return this.reject(value);
        return this.evict(
          this.items.findIndex(
            (item) => item.cls !== 'terminal' && item.level === lowestNonTerminal,
          ),
          entry,
        );
      case 'drop-incoming':
        if (nonTerminal.length === 0 || level <= lowestNonTerminal) return this.reject(value);
        return this.evict(
          lastIndexOf(
            this.items,
            (item) => item.cls !== 'terminal' && item.level === lowestNonTerminal,
          ),
          entry,
        );
      case 'drop-progress':
        return this.dropProgress(entry);
    }
  }

  protected take(): T {
    if (this.items.length === 0) throw new RangeError('empty');
    const highest = Math.max(...this.items.map((item) => item.level));
    const index = this.items.findIndex((item) => item.level === highest);
    const [entry] = this.items.splice(index, 1);
    return (entry as ReferenceEntry<T>).value;
  }

  /** The values in the order shift() would return them. */
  toArray(): T[] {
    return [...this.items]
      .map((item, order) => ({ item, order }))
      .sort((a, b) => b.item.level - a.item.level || a.order - b.order)
      .map(({ item }) => item.value);
  }

  private dropProgress(entry: ReferenceEntry<T>): PushOutcome {
    const progress = this.items.filter((item) => item.cls === 'progress');
    if (progress.length === 0) return this.reject(entry.value);
    const lowest = Math.min(...progress.map((item) => item.level));
    if (entry.cls === 'progress' && entry.level < lowest) return this.reject(entry.value);
    return this.evict(
      this.items.findIndex((item) => item.cls === 'progress' && item.level === lowest),
      entry,
    );
  }
}
