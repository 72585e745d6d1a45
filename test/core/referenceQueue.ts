import type { PushOutcome } from '../../src/core/OverflowQueue.js';
import type { CoalesceFallback } from '../../src/core/types.js';
import { type ReferenceEntry, ReferenceModel } from './referenceModel.js';

/**
 * The plainest possible model of OverflowQueue: an array, with a linear scan for everything. The
 * property tests check the real queue against it.
 */
export class ReferenceQueue<T> extends ReferenceModel<T> {
  protected admit(value: T): PushOutcome {
    const entry = this.entryOf(value, 0);
    if (this.hasRoomFor(entry)) {
      this.items.push(entry);
      return 'queued';
    }
    const overflow = this.options.overflow;
    if (typeof overflow === 'object') {
      if (this.mergedInto(entry, this.items)) return 'merged';
      return this.apply(overflow.fallback ?? 'drop-progress', entry);
    }
    return this.apply(overflow, entry);
  }

  private apply(policy: CoalesceFallback, entry: ReferenceEntry<T>): PushOutcome {
    switch (policy) {
      case 'drop-incoming':
        return this.reject(entry.value);
      case 'error':
        return 'overflow';
      case 'drop-oldest':
        return this.evict(
          this.items.findIndex((item) => item.cls !== 'terminal'),
          entry,
        );
      case 'drop-progress':
        return this.evict(
          this.items.findIndex((item) => item.cls === 'progress'),
          entry,
        );
    }
  }

  protected take(): T {
    const entry = this.items.shift();
    if (entry === undefined) throw new RangeError('empty');
    return entry.value;
  }
}
