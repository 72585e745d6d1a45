/**
 * The storage under every queue: values in slots (an index into a few arrays) threaded on doubly
 * linked FIFOs, a free list, growth and release of the arrays. It knows classes and levels only
 * as tags to file a value under; what is admitted, and which value a policy sacrifices, is
 * decided above it (`QueueCore` and the queues).
 *
 * @packageDocumentation
 */
import { type ClassCode, PROGRESS, TERMINAL } from './classCodes.js';

/**
 * A queued value's place: an index into the slot arrays of its queue. Values live in slots, not
 * in an object each, so a deep queue costs the collector one array and a few typed arrays however
 * many values it holds, and pushing allocates nothing once the arrays have grown.
 */
export type Slot = number;

/**
 * Where a slot's links sit in `links` (`Link.Stride` entries per slot), and the end of a list.
 * Each value is threaded on up to three FIFOs of its {@link NodeLists} at once (all values,
 * non-terminal values, progress values), plus the chain of its key for `coalesce` (in
 * `keyLinks`). Keeping every list doubly linked is what makes each policy O(1): no operation ever
 * scans for "the oldest progress value" or "the newest value of a key", and any of them may leave
 * from either end. An enum, used in this file only, because esbuild (tsup, tsx) inlines the
 * members of an enum used in its own file, where it turns module-level constants into variables
 * when bundling: reading those cost the per-value paths a measurable share.
 */
enum Link {
  None = -1,
  Prev = 0,
  Next = 1,
  PrevNonTerminal = 2,
  NextNonTerminal = 3,
  PrevProgress = 4,
  NextProgress = 5,
  Stride = 6,
}

/** No slot: the end of a list, or an empty list. */
export const NIL: Slot = Link.None;

/** Where a slot's links to the older and newer values of its key sit in `keyLinks`. */
enum KeyLink {
  Prev = 0,
  Next = 1,
  Stride = 2,
}

/**
 * A slot's tag: the class code in the low bits, and above them the priority level whose lists
 * hold the value (0 in a queue without priorities). An enum for the reason given at `Link`.
 */
enum Tag {
  ClassBits = 2,
  ClassMask = (1 << ClassBits) - 1,
}

/** The first size of the slot arrays: a queue that never holds a value allocates none. */
const FIRST_SLOTS = 8;
/**
 * Slot arrays larger than this are given back when the queue empties, so a burst does not pin
 * memory once it is delivered.
 */
const RETAINED_SLOTS = 1024;

const NO_LINKS = new Int32Array(0);
const NO_TAGS = new Uint8Array(0);

/** The FIFOs of one queue, or of one priority level of a priority queue. */
export interface NodeLists {
  head: Slot;
  tail: Slot;
  nonTerminalHead: Slot;
  nonTerminalTail: Slot;
  progressHead: Slot;
  progressTail: Slot;
  /** The newest slot of each key; only for `coalesce` with a key function. */
  newestOfKey: Map<unknown, Slot> | undefined;
}

/** Empty lists; `keyed` when values are chained by key (`coalesce` with a key function). */
export function createNodeLists(keyed: boolean): NodeLists {
  return {
    head: NIL,
    tail: NIL,
    nonTerminalHead: NIL,
    nonTerminalTail: NIL,
    progressHead: NIL,
    progressTail: NIL,
    newestOfKey: keyed ? new Map() : undefined,
  };
}

/**
 * Values in slots, each on the lists of a {@link NodeLists} its class belongs to, and the depths
 * those lists add up to. Every operation is O(1) (amortized for growth) and allocates nothing
 * once the arrays have grown to the queue's depth.
 */
export abstract class SlotStore<T> {
  /** The value in each slot (`undefined` in a free one). */
  // Stryker disable next-line ArrayDeclaration: slots at or past slotCount are never read
  private values: T[] = [];
  /** Each slot's key under `coalesce` with a key function. */
  private keys: unknown[] | undefined;
  /** Each slot's class code and level (see `Tag`). */
  private tags: Uint8Array = NO_TAGS;
  /** Each slot's list links, `Link.Stride` per slot; a free slot's `Link.Next` is the next free one. */
  private links: Int32Array = NO_LINKS;
  /** Each slot's links to the older and newer values of its key, `KeyLink.Stride` per slot. */
  private keyLinks: Int32Array | undefined;
  /** Slots the arrays have room for. */
  private slotCount = 0;
  /** Slots handed out at least once since the arrays were made; the rest were never used. */
  private slotsUsed = 0;
  private freeSlot: Slot = Link.None;
  /** Values held now. @internal */
  protected depth = 0;
  /** Non-terminal values held now. @internal */
  protected nonTerminalDepth = 0;
  /** The largest depth ever reached. @internal */
  protected highWater = 0;

  /** `keyed` when values are chained by key (`coalesce` with a key function). @internal */
  protected constructor(
    /** Slots the arrays grow to before growing past: the queue's capacity. @internal */
    private readonly growthLimit: number,
    keyed: boolean,
  ) {
    if (keyed) {
      // Stryker disable next-line ArrayDeclaration: slots at or past slotCount are never read
      this.keys = [];
      this.keyLinks = NO_LINKS;
    }
  }

  /** The value in a queued slot. @internal */
  protected valueAt(slot: Slot): T {
    return this.values[slot] as T;
  }

  /** Replaces the value in a queued slot (a merge). @internal */
  protected setValueAt(slot: Slot, value: T): void {
    this.values[slot] = value;
  }

  /** The class code of a queued slot. @internal */
  protected classAt(slot: Slot): ClassCode {
    return ((this.tags[slot] as number) & Tag.ClassMask) as ClassCode;
  }

  /** The priority level whose lists hold a queued slot. @internal */
  protected levelAt(slot: Slot): number {
    return (this.tags[slot] as number) >>> Tag.ClassBits;
  }

  /** The slot after `slot` in its lists' FIFO of all values, or {@link NIL}. @internal */
  protected nextAt(slot: Slot): Slot {
    return this.links[slot * Link.Stride + Link.Next] as Slot;
  }

  /**
   * Puts a value at the tail of every list of `lists` its class and key belong to, in a free
   * slot (growing the arrays when there is none).
   * @internal
   */
  protected place(lists: NodeLists, value: T, cls: ClassCode, level: number, key: unknown): void {
    let slot = this.freeSlot;
    if (slot === Link.None) {
      if (this.slotsUsed === this.slotCount) this.grow();
      slot = this.slotsUsed++;
    } else {
      this.freeSlot = this.links[slot * Link.Stride + Link.Next] as Slot;
    }
    this.values[slot] = value;
    this.tags[slot] = (level << Tag.ClassBits) | cls;
    const links = this.links;
    const at = slot * Link.Stride;
    const tail = lists.tail;
    // Stryker disable next-line ArithmeticOperator: Link.Prev and KeyLink.Prev are 0, so adding or subtracting them is the same
    links[at + Link.Prev] = tail;
    links[at + Link.Next] = Link.None;
    if (tail === Link.None) lists.head = slot;
    else links[tail * Link.Stride + Link.Next] = slot;
    lists.tail = slot;
    if (cls !== TERMINAL) {
      const nonTerminalTail = lists.nonTerminalTail;
      links[at + Link.PrevNonTerminal] = nonTerminalTail;
      links[at + Link.NextNonTerminal] = Link.None;
      if (nonTerminalTail === Link.None) lists.nonTerminalHead = slot;
      else links[nonTerminalTail * Link.Stride + Link.NextNonTerminal] = slot;
      lists.nonTerminalTail = slot;
      this.nonTerminalDepth++;
      if (cls === PROGRESS) {
        const progressTail = lists.progressTail;
        links[at + Link.PrevProgress] = progressTail;
        links[at + Link.NextProgress] = Link.None;
        if (progressTail === Link.None) lists.progressHead = slot;
        else links[progressTail * Link.Stride + Link.NextProgress] = slot;
        lists.progressTail = slot;
      }
    }
    // Keyed coalescing is out of line: it keeps place() small enough to be inlined into push.
    if (lists.newestOfKey !== undefined) this.linkKey(lists.newestOfKey, slot, key);
    // Stryker disable next-line EqualityOperator: at equality the high water is set to what it is
    if (++this.depth > this.highWater) this.highWater = this.depth;
  }

  /** Appends `slot` to the chain of its key. */
  private linkKey(newestOfKey: Map<unknown, Slot>, slot: Slot, key: unknown): void {
    const keyLinks = this.keyLinks as Int32Array;
    const newest = newestOfKey.get(key) ?? Link.None;
    if (newest !== Link.None) keyLinks[newest * KeyLink.Stride + KeyLink.Next] = slot;
    // Stryker disable next-line ArithmeticOperator: Link.Prev and KeyLink.Prev are 0, so adding or subtracting them is the same
    keyLinks[slot * KeyLink.Stride + KeyLink.Prev] = newest;
    keyLinks[slot * KeyLink.Stride + KeyLink.Next] = Link.None;
    (this.keys as unknown[])[slot] = key;
    newestOfKey.set(key, slot);
  }

  /**
   * Takes `slot` off every list of `lists` (the lists holding it), wherever it stands in them,
   * and returns its value, freeing the slot without its references.
   * @internal
   */
  protected take(lists: NodeLists, slot: Slot): T {
    const links = this.links;
    const at = slot * Link.Stride;
    const prev = links[at + Link.Prev] as Slot;
    const next = links[at + Link.Next] as Slot;
    if (prev === Link.None) lists.head = next;
    else links[prev * Link.Stride + Link.Next] = next;
    if (next === Link.None) lists.tail = prev;
    // Stryker disable next-line ArithmeticOperator: Link.Prev and KeyLink.Prev are 0, so adding or subtracting them is the same
    else links[next * Link.Stride + Link.Prev] = prev;
    const cls = this.classAt(slot);
    if (cls !== TERMINAL) {
      const before = links[at + Link.PrevNonTerminal] as Slot;
      const after = links[at + Link.NextNonTerminal] as Slot;
      if (before === Link.None) lists.nonTerminalHead = after;
      else links[before * Link.Stride + Link.NextNonTerminal] = after;
      if (after === Link.None) lists.nonTerminalTail = before;
      else links[after * Link.Stride + Link.PrevNonTerminal] = before;
      this.nonTerminalDepth--;
      if (cls === PROGRESS) {
        const earlier = links[at + Link.PrevProgress] as Slot;
        const later = links[at + Link.NextProgress] as Slot;
        if (earlier === Link.None) lists.progressHead = later;
        else links[earlier * Link.Stride + Link.NextProgress] = later;
        if (later === Link.None) lists.progressTail = earlier;
        else links[later * Link.Stride + Link.PrevProgress] = earlier;
      }
    }
    return this.release(lists, slot);
  }

  /**
   * {@link take} for the head of `lists` (which must not be empty): the oldest value. Shorter,
   * because the head of the list of all values is also the head of the non-terminal list when it
   * is non-terminal, and of the progress list when it is progress, so no predecessor is looked
   * up: it is what a FIFO does on every delivery.
   * @internal
   */
  protected takeHead(lists: NodeLists): T {
    const links = this.links;
    const slot = lists.head;
    const at = slot * Link.Stride;
    const next = links[at + Link.Next] as Slot;
    lists.head = next;
    if (next === Link.None) lists.tail = Link.None;
    // Stryker disable next-line ArithmeticOperator: Link.Prev and KeyLink.Prev are 0, so adding or subtracting them is the same
    else links[next * Link.Stride + Link.Prev] = Link.None;
    const cls = this.classAt(slot);
    if (cls !== TERMINAL) {
      const after = links[at + Link.NextNonTerminal] as Slot;
      lists.nonTerminalHead = after;
      if (after === Link.None) lists.nonTerminalTail = Link.None;
      else links[after * Link.Stride + Link.PrevNonTerminal] = Link.None;
      this.nonTerminalDepth--;
      if (cls === PROGRESS) {
        const later = links[at + Link.NextProgress] as Slot;
        lists.progressHead = later;
        if (later === Link.None) lists.progressTail = Link.None;
        else links[later * Link.Stride + Link.PrevProgress] = Link.None;
      }
    }
    return this.release(lists, slot);
  }

  /**
   * The last step of {@link take} and {@link takeHead}, once `slot` is off the class lists: off
   * its key's chain too, then onto the free list without its value.
   */
  private release(lists: NodeLists, slot: Slot): T {
    if (lists.newestOfKey !== undefined) this.unlinkKey(lists.newestOfKey, slot);
    const value = this.values[slot] as T;
    this.values[slot] = undefined as T;
    this.links[slot * Link.Stride + Link.Next] = this.freeSlot;
    this.freeSlot = slot;
    if (--this.depth === 0 && this.slotCount > RETAINED_SLOTS) this.resetSlots(RETAINED_SLOTS);
    return value;
  }

  /** Takes `slot` off the chain of its key. */
  private unlinkKey(newestOfKey: Map<unknown, Slot>, slot: Slot): void {
    const keyLinks = this.keyLinks as Int32Array;
    const keys = this.keys as unknown[];
    const before = keyLinks[slot * KeyLink.Stride + KeyLink.Prev] as Slot;
    const after = keyLinks[slot * KeyLink.Stride + KeyLink.Next] as Slot;
    if (before !== Link.None) keyLinks[before * KeyLink.Stride + KeyLink.Next] = after;
    if (after !== Link.None) keyLinks[after * KeyLink.Stride + KeyLink.Prev] = before;
    else if (before !== Link.None) newestOfKey.set(keys[slot], before);
    else newestOfKey.delete(keys[slot]);
    keys[slot] = undefined;
  }

  /**
   * Forgets every value and gives the slot arrays back; the caller empties its lists.
   * Returns how many values were held.
   * @internal
   */
  protected releaseAll(): number {
    const held = this.depth;
    this.depth = this.nonTerminalDepth = 0;
    this.resetSlots(0);
    return held;
  }

  /**
   * Doubles the slot arrays, up to the growth limit while below it (a full queue then fits
   * exactly); only terminal overcommits take them beyond it.
   */
  private grow(): void {
    const count = this.slotCount;
    let next = Math.max(FIRST_SLOTS, count * 2);
    if (count < this.growthLimit) next = Math.min(next, this.growthLimit);
    // Set ahead, not appended to: appending to a large array copies it far more often.
    this.values.length = next;
    if (this.keys !== undefined) this.keys.length = next;
    const links = new Int32Array(next * Link.Stride);
    links.set(this.links);
    this.links = links;
    const tags = new Uint8Array(next);
    tags.set(this.tags);
    this.tags = tags;
    if (this.keyLinks !== undefined) {
      const keyLinks = new Int32Array(next * KeyLink.Stride);
      keyLinks.set(this.keyLinks);
      this.keyLinks = keyLinks;
    }
    this.slotCount = next;
  }

  /** New, empty slot arrays with room for `count` slots: only while nothing is queued. */
  private resetSlots(count: number): void {
    this.values = [];
    if (this.keys !== undefined) this.keys = [];
    this.slotCount = count;
    this.slotsUsed = 0;
    this.freeSlot = Link.None;
    this.links = count === 0 ? NO_LINKS : new Int32Array(count * Link.Stride);
    this.tags = count === 0 ? NO_TAGS : new Uint8Array(count);
    if (this.keyLinks !== undefined) {
      this.keyLinks = count === 0 ? NO_LINKS : new Int32Array(count * KeyLink.Stride);
    }
  }
}
