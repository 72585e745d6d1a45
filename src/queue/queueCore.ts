import { type ClassCode, classCodeOf, NORMAL, PROGRESS, TERMINAL } from './classCodes.js';
import type { OverflowQueueOptions, PushOutcome, QueueStats } from './OverflowQueue.js';
import {
  type Classifier,
  type CoalescePolicy,
  describe,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  QueueOverflowError,
} from './types.js';

/** Nodes of freed values are kept for reuse up to this many, so a burst does not pin memory. */
const POOL_LIMIT = 1024;

/**
 * One queued value, threaded on up to three FIFOs of its {@link NodeLists} at once (all values,
 * non-terminal values, progress values), plus the chain of its key for `coalesce`. Keeping every
 * list doubly linked is what makes each policy O(1): no operation ever scans for "the oldest
 * progress value" or "the newest value of a key", and any of them may leave from either end.
 */
export interface QueueNode<T> {
  value: T;
  /**
   * The class code in the low two bits, and above them the priority level whose lists hold the
   * node (0 in a queue without priorities). One field, not two: every field costs memory and
   * collection time in a queue holding many values.
   */
  tag: number;
  key: unknown;
  prev: QueueNode<T> | null;
  next: QueueNode<T> | null;
  prevNonTerminal: QueueNode<T> | null;
  nextNonTerminal: QueueNode<T> | null;
  prevProgress: QueueNode<T> | null;
  nextProgress: QueueNode<T> | null;
  prevSameKey: QueueNode<T> | null;
  nextSameKey: QueueNode<T> | null;
}

/** How many low bits of {@link QueueNode.tag} hold the class code. */
const CLASS_BITS = 2;
const CLASS_MASK = (1 << CLASS_BITS) - 1;

/** The class code of a queued node. */
export function classOfNode<T>(node: QueueNode<T>): ClassCode {
  return (node.tag & CLASS_MASK) as ClassCode;
}

/** The priority level whose lists hold a queued node. */
export function levelOfNode<T>(node: QueueNode<T>): number {
  return node.tag >>> CLASS_BITS;
}

/** The FIFOs of one queue, or of one priority level of a priority queue. */
export interface NodeLists<T> {
  head: QueueNode<T> | null;
  tail: QueueNode<T> | null;
  nonTerminalHead: QueueNode<T> | null;
  nonTerminalTail: QueueNode<T> | null;
  progressHead: QueueNode<T> | null;
  progressTail: QueueNode<T> | null;
  /** The newest node of each key; only for `coalesce` with a key function. */
  newestOfKey: Map<unknown, QueueNode<T>> | undefined;
}

/** Empty lists; `keyed` when values are chained by key (`coalesce` with a key function). */
export function createNodeLists<T>(keyed: boolean): NodeLists<T> {
  return {
    head: null,
    tail: null,
    nonTerminalHead: null,
    nonTerminalTail: null,
    progressHead: null,
    progressTail: null,
    newestOfKey: keyed ? new Map() : undefined,
  };
}

const VALID_POLICIES: readonly string[] = [
  'drop-oldest',
  'drop-incoming',
  'drop-progress',
  'error',
];

/**
 * Checks the options shared by every queue and returns the effective terminal reserve. Throws a
 * `RangeError` or `TypeError` whose message names `owner`, the option and the value.
 */
export function validateQueueConfig<T>(
  config: OverflowQueueOptions<T> & { onOverflow?: unknown },
  owner: string,
): number {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`${owner}: options must be an object, got ${describe(config)}`);
  }
  const { capacity, overflow, classify, terminalReserve, onOverflow } = config;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(
      `${owner}: capacity must be a positive integer, got ${describe(capacity)}`,
    );
  }
  policyNameOf(overflow, owner);
  if (classify !== undefined && typeof classify !== 'function') {
    throw new TypeError(`${owner}: classify must be a function, got ${describe(classify)}`);
  }
  if (onOverflow !== undefined && typeof onOverflow !== 'function') {
    throw new TypeError(`${owner}: onOverflow must be a function, got ${describe(onOverflow)}`);
  }
  if (terminalReserve === undefined) return classify !== undefined && capacity > 1 ? 1 : 0;
  if (
    typeof terminalReserve !== 'number' ||
    !Number.isInteger(terminalReserve) ||
    terminalReserve < 0 ||
    terminalReserve >= capacity
  ) {
    throw new RangeError(
      `${owner}: terminalReserve must be an integer with 0 <= terminalReserve < capacity (${capacity}), got ${describe(terminalReserve)}`,
    );
  }
  return terminalReserve;
}

/** The name of a policy, validating it. */
export function policyNameOf<T>(overflow: OverflowPolicy<T>, owner: string): OverflowPolicyName {
  if (typeof overflow === 'string') {
    if (VALID_POLICIES.includes(overflow)) return overflow;
    throw new TypeError(
      `${owner}: overflow must be 'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?), got ${describe(overflow)}`,
    );
  }
  if (
    overflow !== null &&
    typeof overflow === 'object' &&
    (overflow as CoalescePolicy<T>).kind === 'coalesce' &&
    typeof (overflow as CoalescePolicy<T>).merge === 'function'
  ) {
    return 'coalesce';
  }
  throw new TypeError(
    `${owner}: overflow must be 'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?), got ${describe(overflow)}`,
  );
}

/**
 * What `OverflowQueue` and `PriorityOverflowQueue` share: the options, the admission rule, the
 * counters, the notice of the current gap and the node pool. A subclass decides which lists a
 * value goes on and which value a policy sacrifices; it calls {@link QueueCore.place} and
 * {@link QueueCore.take} so that depth, stats and the pool stay right whatever it decides.
 */
export abstract class QueueCore<T> {
  /** Total slots. */
  readonly capacity: number;
  /** Slots only terminal values may use. */
  readonly terminalReserve: number;
  /** The policy's name, as notices report it. */
  readonly policy: OverflowPolicyName;

  /** The classifier, when given. @internal */
  protected readonly classify: Classifier<T> | undefined;
  /** `coalesce`'s merge function. @internal */
  protected readonly merge: ((acc: T, next: T) => T) | undefined;
  /** `coalesce`'s key function, when it has one. @internal */
  protected readonly keyOf: ((value: T) => unknown) | undefined;
  private readonly nonTerminalCapacity: number;

  private pool: QueueNode<T> | null = null;
  private poolSize = 0;
  private depth = 0;
  private nonTerminalDepth = 0;
  private highWater = 0;
  /**
   * Counted by the subclass once a push has an outcome (a push whose callback threw has none).
   * @internal
   */
  protected pushed = 0;
  /** Counted by the subclass's `shift`. @internal */
  protected delivered = 0;
  private dropped = 0;
  private merged = 0;
  private cleared = 0;
  private terminalOvercommits = 0;
  private notice: OverflowNotice<T> | undefined = undefined;

  /** Validates the options (naming `owner` in errors) and keeps what every queue uses. @internal */
  protected constructor(options: OverflowQueueOptions<T>, owner: string) {
    this.terminalReserve = validateQueueConfig(options, owner);
    this.capacity = options.capacity;
    this.policy = policyNameOf(options.overflow, owner);
    this.nonTerminalCapacity = this.capacity - this.terminalReserve;
    this.classify = options.classify;
    if (typeof options.overflow === 'object') {
      this.merge = options.overflow.merge;
      this.keyOf = options.overflow.key;
    }
  }

  /** Values queued now. */
  get size(): number {
    return this.depth;
  }

  /** Whether nothing is queued. */
  get isEmpty(): boolean {
    return this.depth === 0;
  }

  /** Whether drops or merges happened since the last `takeNotice()`. */
  get hasNotice(): boolean {
    return this.notice !== undefined;
  }

  /**
   * Returns the notice of the gap accumulated since the last call, and starts a new one; or
   * `undefined` when nothing was dropped or merged. Call it just before delivering a value.
   */
  takeNotice(): OverflowNotice<T> | undefined {
    const notice = this.notice;
    this.notice = undefined;
    return notice;
  }

  /** The error that ends a stream under the `'error'` policy: `value` is the one that did not fit. */
  overflowError(value: T): QueueOverflowError {
    return new QueueOverflowError(
      {
        policy: 'error',
        dropped: 1,
        merged: 0,
        first: value,
        last: value,
        terminalPreserved: true,
      },
      this.capacity,
    );
  }

  /** A snapshot of the counters. */
  stats(): QueueStats {
    return {
      capacity: this.capacity,
      terminalReserve: this.terminalReserve,
      depth: this.depth,
      nonTerminalDepth: this.nonTerminalDepth,
      highWater: this.highWater,
      pushed: this.pushed,
      delivered: this.delivered,
      dropped: this.dropped,
      merged: this.merged,
      cleared: this.cleared,
      terminalOvercommits: this.terminalOvercommits,
    };
  }

  /** The class code of a value; whatever the classifier throws propagates. @internal */
  protected classOf(value: T): ClassCode {
    return this.classify === undefined ? NORMAL : classCodeOf(this.classify(value));
  }

  /**
   * Whether a newcomer of class `cls` is admitted without the policy: a terminal always is (and
   * is counted as an overcommit when the queue is already full).
   * @internal
   */
  protected hasRoomFor(cls: ClassCode): boolean {
    if (cls === TERMINAL) {
      if (this.depth >= this.capacity) this.terminalOvercommits++;
      return true;
    }
    return this.depth < this.capacity && this.nonTerminalDepth < this.nonTerminalCapacity;
  }

  /**
   * Puts a value at the tail of every list of `lists` its class and key belong to, in a node
   * from the pool when there is one.
   * @internal
   */
  protected place(
    lists: NodeLists<T>,
    value: T,
    cls: ClassCode,
    level: number,
    key: unknown,
  ): void {
    const tag = (level << CLASS_BITS) | cls;
    let node = this.pool;
    if (node === null) {
      node = {
        value,
        tag,
        key,
        prev: null,
        next: null,
        prevNonTerminal: null,
        nextNonTerminal: null,
        prevProgress: null,
        nextProgress: null,
        prevSameKey: null,
        nextSameKey: null,
      };
    } else {
      this.pool = node.next;
      this.poolSize--;
      node.value = value;
      node.tag = tag;
      node.key = key;
      node.next = null;
    }
    const tail = lists.tail;
    node.prev = tail;
    if (tail === null) lists.head = node;
    else tail.next = node;
    lists.tail = node;
    if (cls !== TERMINAL) {
      const nonTerminalTail = lists.nonTerminalTail;
      node.prevNonTerminal = nonTerminalTail;
      if (nonTerminalTail === null) lists.nonTerminalHead = node;
      else nonTerminalTail.nextNonTerminal = node;
      lists.nonTerminalTail = node;
      this.nonTerminalDepth++;
      if (cls === PROGRESS) {
        const progressTail = lists.progressTail;
        node.prevProgress = progressTail;
        if (progressTail === null) lists.progressHead = node;
        else progressTail.nextProgress = node;
        lists.progressTail = node;
      }
    }
    const newestOfKey = lists.newestOfKey;
    if (newestOfKey !== undefined) {
      const newest = newestOfKey.get(key);
      if (newest !== undefined) {
        newest.nextSameKey = node;
        node.prevSameKey = newest;
      }
      newestOfKey.set(key, node);
    }
    if (++this.depth > this.highWater) this.highWater = this.depth;
  }

  /**
   * Takes `node` off every list of `lists` (the lists holding it), wherever it stands in them,
   * and returns its value, recycling the node without its references.
   * @internal
   */
  protected take(lists: NodeLists<T>, node: QueueNode<T>): T {
    const { prev, next } = node;
    if (prev === null) lists.head = next;
    else prev.next = next;
    if (next === null) lists.tail = prev;
    else next.prev = prev;
    const cls = classOfNode(node);
    if (cls !== TERMINAL) {
      const before = node.prevNonTerminal;
      const after = node.nextNonTerminal;
      if (before === null) lists.nonTerminalHead = after;
      else before.nextNonTerminal = after;
      if (after === null) lists.nonTerminalTail = before;
      else after.prevNonTerminal = before;
      this.nonTerminalDepth--;
      if (cls === PROGRESS) {
        const earlier = node.prevProgress;
        const later = node.nextProgress;
        if (earlier === null) lists.progressHead = later;
        else earlier.nextProgress = later;
        if (later === null) lists.progressTail = earlier;
        else later.prevProgress = earlier;
      }
    }
    const newestOfKey = lists.newestOfKey;
    if (newestOfKey !== undefined) {
      const before = node.prevSameKey;
      const after = node.nextSameKey;
      if (before !== null) before.nextSameKey = after;
      if (after !== null) after.prevSameKey = before;
      else if (before !== null) newestOfKey.set(node.key, before);
      else newestOfKey.delete(node.key);
    }
    this.depth--;
    const value = node.value;
    node.value = undefined as T;
    node.key = undefined;
    node.prev = node.prevNonTerminal = node.nextNonTerminal = null;
    node.prevProgress = node.nextProgress = node.prevSameKey = node.nextSameKey = null;
    if (this.poolSize < POOL_LIMIT) {
      node.next = this.pool;
      this.pool = node;
      this.poolSize++;
    } else {
      node.next = null;
    }
    return value;
  }

  /**
   * Under `coalesce`, folds a progress newcomer into `target` when that is a progress value.
   * `merge` may throw: nothing is changed before it returns.
   * @internal
   */
  protected mergedInto(target: QueueNode<T> | null, value: T): boolean {
    if (target === null || classOfNode(target) !== PROGRESS) return false;
    target.value = (this.merge as (acc: T, next: T) => T)(target.value, value);
    this.merged++;
    this.gap().merged++;
    return true;
  }

  /** Counts a value lost to the policy in the current gap. @internal */
  protected recordDrop(value: T): void {
    this.dropped++;
    const notice = this.gap();
    if (notice.dropped === 0) notice.first = value;
    notice.last = value;
    notice.dropped++;
  }

  /** The `'error'` policy's overflow: the newcomer is lost, and the stream must end. @internal */
  protected overflowed(): PushOutcome {
    this.dropped++;
    return 'overflow';
  }

  /** Rejects the newcomer. @internal */
  protected reject(value: T): PushOutcome {
    this.recordDrop(value);
    return 'rejected';
  }

  /** Forgets every value, the notice and the pool; the subclass empties its lists. @internal */
  protected forgetAll(): void {
    this.cleared += this.depth;
    this.depth = this.nonTerminalDepth = 0;
    this.notice = undefined;
    this.pool = null;
    this.poolSize = 0;
  }

  private gap(): OverflowNotice<T> {
    if (this.notice === undefined) {
      this.notice = { policy: this.policy, dropped: 0, merged: 0, terminalPreserved: true };
    }
    return this.notice;
  }
}
