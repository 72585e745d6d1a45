/**
 * The state of `summarizeProgress`, with no RxJS: the pending summaries per key and the FIFO of
 * items ready to be emitted. The drain engine takes the ready items through the same steps as any
 * queue (`isEmpty`, `size`, `shift`, `takeNotice`, `clear`); the operator around it only decides
 * when windows close.
 *
 * @packageDocumentation
 */
import { describe } from './checks.js';
import type { Classifier } from './types.js';

/** What the board reads the time from (a scheduler has this shape). */
export interface BoardClock {
  now(): number;
}

/** How a {@link SummaryBoard} classifies, keys and merges values. */
export interface SummaryBoardConfig<T> {
  /** Progress values are merged; `'normal'` and `'terminal'` values pass through. */
  classify: Classifier<T>;
  /** Folds a progress value (`next`) into the pending summary of its key (`acc`). */
  merge: (acc: T, next: T) => T;
  /** Only progress values with equal keys (SameValueZero) are merged. Default: one key. */
  key?: ((value: T) => unknown) | undefined;
  /**
   * Which pending summaries a non-progress value releases before itself: those whose first value
   * had the same scope. Default: the key, so only the summary of the value's own key.
   */
  scope?: ((value: T) => unknown) | undefined;
  /** A summary standing for this many values is released at once (a count or `Infinity`). */
  maxMerged: number;
  /** A summary is due this many ms after its first value (`Infinity`: never by time). */
  window: number;
  /**
   * The first progress value of a key with no window open leaves at once and opens the key's
   * window; the values after it are merged until the window closes. Default: `false`.
   */
  leading?: boolean | undefined;
  /** The clock deadlines are read from; read only when a key's first value arrives. */
  clock: BoardClock;
  /** The operator named in the error of a classifier answering something that is not a class. */
  owner: string;
}

/** One key's pending summary, linked in two lists: all pending (oldest first) and its scope's. */
interface Summary<T> {
  readonly key: unknown;
  /** The summary (absent while `empty`). */
  value: T;
  /** Values folded into `value`. */
  count: number;
  /** A window held open by a value that left at once (`leading`), with nothing merged yet. */
  empty: boolean;
  /** When the window of this summary closes, on the board's clock. */
  readonly deadline: number;
  older: Summary<T> | undefined;
  newer: Summary<T> | undefined;
  /** The scope list this summary is linked into (only when a `scope` function is given). */
  readonly scope: ScopeList<T> | undefined;
  olderInScope: Summary<T> | undefined;
  newerInScope: Summary<T> | undefined;
}

/** The pending summaries of one scope, oldest first. */
interface ScopeList<T> {
  readonly scope: unknown;
  oldest: Summary<T> | undefined;
  newest: Summary<T> | undefined;
}

const ONE_KEY: unique symbol = Symbol('SummaryBoard.oneKey');
const INITIAL_READY_SLOTS = 8;

/**
 * Pending summaries per key plus a FIFO of items ready to be emitted, in the order they must be
 * emitted.
 *
 * {@link push} classifies a value: a progress value is merged into the pending summary of its
 * key (or opens one); any other value moves the pending summaries of its scope to the ready FIFO,
 * then itself. A summary also moves to the ready FIFO when `maxMerged` values were folded into
 * it, when its window closes ({@link closeDue}), or at the end ({@link flushAll}). Pending
 * summaries are kept in the order of their first values: the order in which windows of one
 * length close, and the order of a release of them all.
 *
 * Per value the work is O(1): one map lookup and at most one merge; releasing a summary unlinks
 * it in O(1). A callback that throws (`classify`, `key`, `scope`, `merge`) throws to the caller
 * and leaves the board as it was before the value.
 */
export class SummaryBoard<T> {
  private readonly classify: Classifier<T>;
  private readonly merge: (acc: T, next: T) => T;
  private readonly keyOf: ((value: T) => unknown) | undefined;
  private readonly scopeOf: ((value: T) => unknown) | undefined;
  private readonly maxMerged: number;
  private readonly window: number;
  private readonly leading: boolean;
  private readonly clock: BoardClock;
  private readonly owner: string;
  private readonly byKey = new Map<unknown, Summary<T>>();
  private readonly scopes: Map<unknown, ScopeList<T>> | undefined;
  private oldest: Summary<T> | undefined = undefined;
  private newest: Summary<T> | undefined = undefined;
  /** The ready FIFO: a ring whose length is a power of two, doubled when full. */
  // Stryker disable next-line ArrayDeclaration: presizing only
  private ready: Array<T | undefined> = new Array(INITIAL_READY_SLOTS);
  private readyHead = 0;
  private readyCount = 0;

  constructor(config: SummaryBoardConfig<T>) {
    this.classify = config.classify;
    this.merge = config.merge;
    this.keyOf = config.key;
    this.scopeOf = config.scope;
    this.maxMerged = config.maxMerged;
    this.window = config.window;
    this.leading = config.leading ?? false;
    this.clock = config.clock;
    this.owner = config.owner;
    this.scopes = config.scope === undefined ? undefined : new Map();
  }

  /** Whether any summary is pending (a window is open). */
  get hasPending(): boolean {
    return this.oldest !== undefined;
  }

  /** When the oldest pending summary is due (`Infinity` when none is, or none has a deadline). */
  get firstDeadline(): number {
    return this.oldest === undefined ? Number.POSITIVE_INFINITY : this.oldest.deadline;
  }

  /** Whether the ready FIFO is empty. */
  get isEmpty(): boolean {
    return this.readyCount === 0;
  }

  /** How many items are ready. */
  get size(): number {
    return this.readyCount;
  }

  /** Takes the oldest ready item; only called when {@link isEmpty} is false. */
  shift(): T {
    const ready = this.ready;
    const item = ready[this.readyHead] as T;
    ready[this.readyHead] = undefined;
    this.readyHead = (this.readyHead + 1) & (ready.length - 1);
    this.readyCount--;
    return item;
  }

  /** Merging loses nothing: there is never a gap to report. */
  takeNotice(): undefined {
    return undefined;
  }

  /** Forgets every pending summary and every ready item. */
  clear(): void {
    this.byKey.clear();
    this.scopes?.clear();
    this.oldest = undefined;
    this.newest = undefined;
    // Stryker disable next-line ArrayDeclaration: presizing only
    this.ready = new Array(INITIAL_READY_SLOTS);
    this.readyHead = 0;
    this.readyCount = 0;
  }

  /**
   * Takes one value from the source. Throws what a callback throws, and a `TypeError` for a
   * class that is not one; the board is then as it was before the value.
   */
  push(value: T): void {
    const valueClass = this.classify(value);
    if (valueClass === 'progress') {
      const key = this.keyOf === undefined ? ONE_KEY : this.keyOf(value);
      const pending = this.byKey.get(key);
      if (pending === undefined) {
        if (this.leading) {
          // The value leaves at once; an empty summary holds the key's window open.
          this.open(key, value, true);
          this.enqueue(value);
        } else {
          this.open(key, value, false);
        }
        return;
      }
      if (pending.empty) {
        pending.value = value;
        pending.empty = false;
        pending.count = 1;
        if (this.maxMerged <= 1) this.release(pending);
        return;
      }
      pending.value = this.merge(pending.value, value);
      pending.count++;
      if (pending.count >= this.maxMerged) this.release(pending);
      return;
    }
    this.passThrough(value, valueClass);
  }

  /** Moves every pending summary due at `now` to the ready FIFO, oldest first. */
  closeDue(now: number): void {
    while (this.oldest !== undefined && this.oldest.deadline <= now) this.release(this.oldest);
  }

  /** Moves every pending summary to the ready FIFO, in the order of their first values. */
  flushAll(): void {
    while (this.oldest !== undefined) this.release(this.oldest);
  }

  /** A non-progress value: the pending summaries of its scope are released first, then itself. */
  private passThrough(value: T, valueClass: unknown): void {
    if (valueClass !== 'normal' && valueClass !== 'terminal') {
      throw new TypeError(
        `${this.owner}: classify must return 'terminal', 'progress' or 'normal', got ${describe(valueClass)}`,
      );
    }
    if (this.scopes === undefined) {
      // The key is read for every value, so that a key function fails on the value it fails on.
      const key = this.keyOf === undefined ? ONE_KEY : this.keyOf(value);
      const summary = this.oldest === undefined ? undefined : this.byKey.get(key);
      if (summary !== undefined) this.release(summary);
    } else if (this.oldest !== undefined) {
      const list = this.scopes.get((this.scopeOf as (value: T) => unknown)(value));
      while (list?.oldest !== undefined) this.release(list.oldest);
    }
    this.enqueue(value);
  }

  /**
   * The first progress value of a key opens its pending summary; `empty` when the value left at
   * once (`leading`) and the summary only holds the window open.
   */
  private open(key: unknown, value: T, empty: boolean): void {
    let list: ScopeList<T> | undefined;
    if (this.scopes !== undefined) {
      const scope = (this.scopeOf as (value: T) => unknown)(value);
      list = this.scopes.get(scope);
      if (list === undefined) {
        list = { scope, oldest: undefined, newest: undefined };
        this.scopes.set(scope, list);
      }
    }
    const window = this.window;
    const summary: Summary<T> = {
      key,
      value: empty ? (undefined as T) : value,
      count: empty ? 0 : 1,
      empty,
      deadline: window === Number.POSITIVE_INFINITY ? window : this.clock.now() + window,
      older: this.newest,
      newer: undefined,
      scope: list,
      olderInScope: list?.newest,
      newerInScope: undefined,
    };
    if (this.newest === undefined) this.oldest = summary;
    else this.newest.newer = summary;
    this.newest = summary;
    if (list !== undefined) {
      if (list.newest === undefined) list.oldest = summary;
      else list.newest.newerInScope = summary;
      list.newest = summary;
    }
    this.byKey.set(key, summary);
    if (!empty && this.maxMerged <= 1) this.release(summary);
  }

  /** Unlinks a pending summary and appends its value to the ready FIFO (an empty one: nothing). */
  private release(summary: Summary<T>): void {
    this.byKey.delete(summary.key);
    if (summary.older === undefined) this.oldest = summary.newer;
    else summary.older.newer = summary.newer;
    if (summary.newer === undefined) this.newest = summary.older;
    else summary.newer.older = summary.older;
    const list = summary.scope;
    if (list !== undefined) {
      if (summary.olderInScope === undefined) list.oldest = summary.newerInScope;
      else summary.olderInScope.newerInScope = summary.newerInScope;
      if (summary.newerInScope === undefined) list.newest = summary.olderInScope;
      else summary.newerInScope.olderInScope = summary.olderInScope;
      if (list.oldest === undefined) (this.scopes as Map<unknown, ScopeList<T>>).delete(list.scope);
    }
    if (!summary.empty) this.enqueue(summary.value);
  }

  private enqueue(item: T): void {
    let ready = this.ready;
    if (this.readyCount === ready.length) ready = this.grow();
    ready[(this.readyHead + this.readyCount) & (ready.length - 1)] = item;
    this.readyCount++;
  }

  /** Doubles the ring, unrolling it so that the oldest item is at index 0. */
  private grow(): Array<T | undefined> {
    const old = this.ready;
    const grown: Array<T | undefined> = new Array(old.length * 2);
    for (let index = 0; index < this.readyCount; index++) {
      grown[index] = old[(this.readyHead + index) & (old.length - 1)];
    }
    this.ready = grown;
    this.readyHead = 0;
    return grown;
  }
}
