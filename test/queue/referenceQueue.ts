import type { OverflowQueueOptions, PushOutcome } from '../../src/queue/OverflowQueue.js';
import type { EventClass, OverflowNotice, OverflowPolicyName } from '../../src/queue/types.js';

interface Entry<T> {
  value: T;
  cls: EventClass;
  key: unknown;
}

/**
 * The plainest possible model of OverflowQueue: an array, with a linear scan for everything. The
 * property tests check the real queue against it.
 */
export class ReferenceQueue<T> {
  readonly items: Entry<T>[] = [];
  private notice: OverflowNotice<T> | undefined;
  private readonly reserve: number;
  private readonly policyName: OverflowPolicyName;

  constructor(private readonly options: OverflowQueueOptions<T>) {
    this.reserve =
      options.terminalReserve ?? (options.classify !== undefined && options.capacity > 1 ? 1 : 0);
    this.policyName = typeof options.overflow === 'string' ? options.overflow : 'coalesce';
  }

  push(value: T): PushOutcome {
    const cls = this.options.classify?.(value) ?? 'normal';
    const overflow = this.options.overflow;
    const keyOf = typeof overflow === 'object' ? overflow.key : undefined;
    const key = keyOf?.(value);
    const nonTerminal = this.items.filter((entry) => entry.cls !== 'terminal').length;
    if (
      cls === 'terminal' ||
      (this.items.length < this.options.capacity &&
        nonTerminal < this.options.capacity - this.reserve)
    ) {
      this.items.push({ value, cls, key });
      return 'queued';
    }
    switch (overflow) {
      case 'drop-incoming':
        this.drop(value);
        return 'rejected';
      case 'error':
        return 'overflow';
      case 'drop-oldest':
        return this.evict(
          this.items.findIndex((entry) => entry.cls !== 'terminal'),
          value,
          cls,
          key,
        );
      case 'drop-progress':
        return this.evict(
          this.items.findIndex((entry) => entry.cls === 'progress'),
          value,
          cls,
          key,
        );
      default: {
        if (cls === 'progress') {
          let target: Entry<T> | undefined;
          for (let index = this.items.length - 1; index >= 0; index--) {
            const entry = this.items[index] as Entry<T>;
            if (keyOf === undefined || Object.is(entry.key, key)) {
              target = entry;
              break;
            }
          }
          if (target !== undefined && target.cls === 'progress') {
            target.value = overflow.merge(target.value, value);
            this.gap().merged++;
            return 'merged';
          }
        }
        return this.evict(
          this.items.findIndex((entry) => entry.cls === 'progress'),
          value,
          cls,
          key,
        );
      }
    }
  }

  shift(): T {
    const entry = this.items.shift();
    if (entry === undefined) throw new RangeError('empty');
    return entry.value;
  }

  takeNotice(): OverflowNotice<T> | undefined {
    const notice = this.notice;
    this.notice = undefined;
    return notice;
  }

  private evict(index: number, value: T, cls: EventClass, key: unknown): PushOutcome {
    if (index < 0) {
      this.drop(value);
      return 'rejected';
    }
    const [victim] = this.items.splice(index, 1);
    this.drop((victim as Entry<T>).value);
    this.items.push({ value, cls, key });
    return 'evicted';
  }

  private gap(): OverflowNotice<T> {
    this.notice ??= { policy: this.policyName, dropped: 0, merged: 0, terminalPreserved: true };
    return this.notice;
  }

  private drop(value: T): void {
    const notice = this.gap();
    if (notice.dropped === 0) notice.first = value;
    notice.last = value;
    notice.dropped++;
  }
}
