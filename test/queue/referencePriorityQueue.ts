import type { PushOutcome } from '../../src/queue/OverflowQueue.js';
import type { PriorityOverflowQueueOptions } from '../../src/queue/PriorityOverflowQueue.js';
import type { EventClass, OverflowNotice, OverflowPolicyName } from '../../src/queue/types.js';

interface Entry<T> {
  value: T;
  cls: EventClass;
  key: unknown;
  level: number;
}

/**
 * The plainest model of PriorityOverflowQueue: one array in arrival order, scanned for
 * everything. It spells out the documented rule of each policy with priorities.
 */
export class ReferencePriorityQueue<T> {
  readonly items: Entry<T>[] = [];
  private notice: OverflowNotice<T> | undefined;
  private readonly reserve: number;
  private readonly policyName: OverflowPolicyName;

  constructor(private readonly options: PriorityOverflowQueueOptions<T>) {
    this.reserve =
      options.terminalReserve ?? (options.classify !== undefined && options.capacity > 1 ? 1 : 0);
    this.policyName = typeof options.overflow === 'string' ? options.overflow : 'coalesce';
  }

  push(value: T): PushOutcome {
    const cls = this.options.classify?.(value) ?? 'normal';
    const level = this.options.priority?.(value) ?? 0;
    const overflow = this.options.overflow;
    const keyOf = typeof overflow === 'object' ? overflow.key : undefined;
    const key = keyOf?.(value);
    const nonTerminal = this.items.filter((entry) => entry.cls !== 'terminal');
    if (
      cls === 'terminal' ||
      (this.items.length < this.options.capacity &&
        nonTerminal.length < this.options.capacity - this.reserve)
    ) {
      this.items.push({ value, cls, key, level });
      return 'queued';
    }
    const entry = { value, cls, key, level };
    const lowestNonTerminal = Math.min(...nonTerminal.map((item) => item.level));
    switch (overflow) {
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
      default: {
        if (cls === 'progress') {
          const target =
            this.items[
              lastIndexOf(
                this.items,
                (item) => item.level === level && (keyOf === undefined || Object.is(item.key, key)),
              )
            ];
          if (target !== undefined && target.cls === 'progress') {
            target.value = overflow.merge(target.value, value);
            this.gap().merged++;
            return 'merged';
          }
        }
        return this.dropProgress(entry);
      }
    }
  }

  shift(): T {
    if (this.items.length === 0) throw new RangeError('empty');
    const highest = Math.max(...this.items.map((item) => item.level));
    const index = this.items.findIndex((item) => item.level === highest);
    const [entry] = this.items.splice(index, 1);
    return (entry as Entry<T>).value;
  }

  /** The values in the order shift() would return them. */
  toArray(): T[] {
    return [...this.items]
      .map((item, order) => ({ item, order }))
      .sort((a, b) => b.item.level - a.item.level || a.order - b.order)
      .map(({ item }) => item.value);
  }

  takeNotice(): OverflowNotice<T> | undefined {
    const notice = this.notice;
    this.notice = undefined;
    return notice;
  }

  private dropProgress(entry: Entry<T>): PushOutcome {
    const progress = this.items.filter((item) => item.cls === 'progress');
    if (progress.length === 0) return this.reject(entry.value);
    const lowest = Math.min(...progress.map((item) => item.level));
    if (entry.cls === 'progress' && entry.level < lowest) return this.reject(entry.value);
    return this.evict(
      this.items.findIndex((item) => item.cls === 'progress' && item.level === lowest),
      entry,
    );
  }

  private reject(value: T): PushOutcome {
    this.drop(value);
    return 'rejected';
  }

  private evict(index: number, entry: Entry<T>): PushOutcome {
    const [victim] = this.items.splice(index, 1);
    this.drop((victim as Entry<T>).value);
    this.items.push(entry);
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

function lastIndexOf<T>(items: T[], matches: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) {
    if (matches(items[index] as T)) return index;
  }
  return -1;
}
