import type { PushOutcome } from '../../src/core/OverflowQueue.js';
import { ReferenceModel } from './referenceModel.js';

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
    switch (this.options.overflow) {
      case 'drop-incoming':
        return this.reject(value);
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
      default:
        if (this.mergedInto(entry, this.items)) return 'merged';
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
