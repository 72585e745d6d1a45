import type {
  OverflowQueueOptions,
  PushOutcome,
  QueueStats,
} from '../../src/core/OverflowQueue.js';
import type { EventClass, OverflowNotice, OverflowPolicyName } from '../../src/core/types.js';

/** A queued value as the reference models keep it. */
export interface ReferenceEntry<T> {
  value: T;
  cls: EventClass;
  key: unknown;
  /** The priority; always 0 in the model of a queue without priorities. */
  level: number;
}

/**
 * What the reference models of OverflowQueue and PriorityOverflowQueue share: one array in
 * arrival order, scanned for everything, the admission rule and the notice of the current gap.
 * Each model spells out its own policies in `push` and its own order in `shift`.
 */
export abstract class ReferenceModel<T> {
  readonly items: ReferenceEntry<T>[] = [];
  private notice: OverflowNotice<T> | undefined;
  private readonly reserve: number;
  private readonly policyName: OverflowPolicyName;
  private readonly counters = {
    pushed: 0,
    delivered: 0,
    dropped: 0,
    merged: 0,
    highWater: 0,
    terminalOvercommits: 0,
  };

  constructor(protected readonly options: OverflowQueueOptions<T>) {
    this.reserve =
      options.terminalReserve ?? (options.classify !== undefined && options.capacity > 1 ? 1 : 0);
    this.policyName = typeof options.overflow === 'string' ? options.overflow : 'coalesce';
  }

  /** Offers a value: the subclass's policies decide, the counters follow. */
  push(value: T): PushOutcome {
    const outcome = this.admit(value);
    this.counters.pushed++;
    if (outcome === 'overflow') this.counters.dropped++;
    this.counters.highWater = Math.max(this.counters.highWater, this.items.length);
    return outcome;
  }

  /** Takes the next value out, in the subclass's order. */
  shift(): T {
    const value = this.take();
    this.counters.delivered++;
    return value;
  }

  /** The counters a queue's `stats()` reports (no `clear` in the models: `cleared` is 0). */
  stats(): QueueStats {
    return {
      capacity: this.options.capacity,
      terminalReserve: this.reserve,
      usableCapacity: this.options.capacity - this.reserve,
      depth: this.items.length,
      nonTerminalDepth: this.items.filter((item) => item.cls !== 'terminal').length,
      cleared: 0,
      ...this.counters,
    };
  }

  protected abstract admit(value: T): PushOutcome;

  protected abstract take(): T;

  takeNotice(): OverflowNotice<T> | undefined {
    const notice = this.notice;
    this.notice = undefined;
    return notice;
  }

  /** The entry a value becomes, classified and keyed as the options say. */
  protected entryOf(value: T, level: number): ReferenceEntry<T> {
    const overflow = this.options.overflow;
    const keyOf = typeof overflow === 'object' ? overflow.key : undefined;
    return { value, cls: this.options.classify?.(value) ?? 'normal', key: keyOf?.(value), level };
  }

  /** Whether the entry is admitted without the policy. */
  protected hasRoomFor(entry: ReferenceEntry<T>): boolean {
    if (entry.cls === 'terminal' && this.items.length >= this.options.capacity) {
      this.counters.terminalOvercommits++;
    }
    const nonTerminal = this.items.filter((item) => item.cls !== 'terminal').length;
    return (
      entry.cls === 'terminal' ||
      (this.items.length < this.options.capacity &&
        nonTerminal < this.options.capacity - this.reserve)
    );
  }

  /**
   * Under coalesce: the newest entry of the newcomer's key (of any key without a key function)
   * among `candidates`, merged into when it is progress.
   */
  protected mergedInto(entry: ReferenceEntry<T>, candidates: ReferenceEntry<T>[]): boolean {
    const overflow = this.options.overflow;
    if (entry.cls !== 'progress' || typeof overflow !== 'object') return false;
    const sameKey = candidates.filter(
      (item) => overflow.key === undefined || Object.is(item.key, entry.key),
    );
    const target = sameKey[sameKey.length - 1];
    if (target === undefined || target.cls !== 'progress') return false;
    target.value = overflow.merge(target.value, entry.value);
    this.counters.merged++;
    this.gap().merged++;
    return true;
  }

  protected reject(value: T): PushOutcome {
    this.drop(value);
    return 'rejected';
  }

  /** Evicts the item at `index` and appends the newcomer; rejects it when `index` is -1. */
  protected evict(index: number, entry: ReferenceEntry<T>): PushOutcome {
    if (index < 0) return this.reject(entry.value);
    const [victim] = this.items.splice(index, 1);
    this.drop((victim as ReferenceEntry<T>).value);
    this.items.push(entry);
    return 'evicted';
  }

  private gap(): OverflowNotice<T> {
    this.notice ??= { policy: this.policyName, dropped: 0, merged: 0, terminalPreserved: true };
    return this.notice;
  }

  private drop(value: T): void {
    this.counters.dropped++;
    const notice = this.gap();
    if (notice.dropped === 0) notice.first = value;
    notice.last = value;
    notice.dropped++;
  }
}

/** The index of the last item that matches, or -1. */
export function lastIndexOf<T>(items: T[], matches: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) {
    if (matches(items[index] as T)) return index;
  }
  return -1;
}
