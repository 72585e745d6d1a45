/**
 * The state of `paceText`, with no RxJS: each lane's backlog of text not shown yet, the deadlines
 * that bound its lag, and the FIFO of items ready to be emitted. The drain engine takes the ready
 * items through the same steps as any queue (`isEmpty`, `size`, `shift`, `takeNotice`, `clear`);
 * the operator around it only decides when the cadence ticks.
 *
 * @packageDocumentation
 */
import { describe } from './checks.js';
import { Fifo } from './Fifo.js';
import { isOneGraphemePerChar, type TextUnit, unitEnds } from './textUnits.js';
import type { Classifier } from './types.js';

/** What the board reads the time from (a scheduler has this shape). */
export interface PaceClock {
  now(): number;
}

/** An item ready to be emitted: a chunk of a value's text, or a value as it came. */
export interface PaceItem<T> {
  /** The value: the newest one the chunk's text comes from, or a value passed as is. */
  readonly value: T;
  /** The chunk of text to show, or `undefined` when `value` passes as is. */
  readonly chunk: string | undefined;
}

/** How a {@link PaceBoard} reads, keys and paces values. */
export interface PaceBoardConfig<T> {
  /** A value's text delta; `undefined` (or `''`) for a value that passes as is, in order. */
  text: (value: T) => string | undefined;
  /** Lanes: values with equal keys (SameValueZero) are paced together. Default: one lane. */
  key?: ((value: T) => unknown) | undefined;
  /** A `'terminal'` value flushes its lane at once, then passes as is. Default: none is. */
  classify?: Classifier<T> | undefined;
  /** What a chunk is counted in. */
  unit: TextUnit;
  /** No text waits longer than this many ms after it arrived (while ticks come on time). */
  maxLag: number;
  /** The ms between ticks, until ticks tell otherwise (unless `fixedInterval`). */
  interval: number;
  /** Whether `interval` is the cadence for good (a timer) rather than an estimate (frames). */
  fixedInterval: boolean;
  clock: PaceClock;
  /** The operator named in the errors of callbacks answering something of the wrong type. */
  owner: string;
}

/** Text of one value not shown yet, or (`text` undefined) a value waiting to pass as is. */
interface Piece<T> {
  readonly value: T;
  readonly text: string | undefined;
  /** Where each unit of `text` ends; `undefined` when each code unit is a unit. */
  readonly ends: number[] | undefined;
  /** How many units `text` has. */
  readonly units: number;
  /** The index of the next unit to show, and where it starts in `text`. */
  next: number;
  offset: number;
}

/** The text that arrived between two ticks: shown entirely by `deadline`. */
interface Burst {
  /** The lane's count of units appended once this burst is in. */
  through: number;
  readonly deadline: number;
}

interface Lane<T> {
  readonly key: unknown;
  readonly pieces: Fifo<Piece<T>>;
  readonly bursts: Fifo<Burst>;
  /** Units ever appended, and ever shown. */
  appended: number;
  shown: number;
  /** When the lane's last burst began, and whether text arrived since the last tick. */
  lastBurst: number;
  burstOpen: boolean;
  /** When the lane last showed a chunk, and when its backlog emptied. */
  lastShown: number;
  idleSince: number;
}

const ONE_LANE: unique symbol = Symbol('PaceBoard.oneLane');

/**
 * Each lane's backlog of text plus a FIFO of items ready to be emitted, in the order they must be
 * emitted.
 *
 * Text arriving between two ticks is a burst; a burst must be shown within the time since the
 * lane's previous burst began, and never later than `maxLag` after it arrived. At each
 * {@link tick}, every lane with a backlog shows one chunk: at least one unit, and more when its
 * bursts would otherwise miss their deadlines at the current cadence (the chunk grows so the lag
 * stays bounded). So a steady stream is shown as it comes, within about one tick, and a burst
 * after a pause is spread evenly over up to `maxLag`. The first text of a lane that showed
 * nothing for a tick is shown at once, without waiting for the next tick.
 *
 * A value without text waits behind its lane's backlog and passes right after the text before it
 * (it never holds the text back); a terminal value (by `classify`) shows its lane's whole backlog
 * at once, then passes. Lanes with a backlog are visited in the order they became busy.
 *
 * Per value the work is O(length of its text): one split into units; a tick is O(chunk) per lane
 * plus the lane's open bursts (at most `maxLag` / interval). A callback that throws (`text`,
 * `key`, `classify`) throws to the caller and leaves the board as it was before the value.
 */
export class PaceBoard<T> {
  private readonly textOf: (value: T) => string | undefined;
  private readonly keyOf: ((value: T) => unknown) | undefined;
  private readonly classify: Classifier<T> | undefined;
  private readonly unit: TextUnit;
  private readonly maxLag: number;
  private readonly fixedInterval: boolean;
  private readonly clock: PaceClock;
  private readonly owner: string;
  private interval: number;
  /** When the last tick came, while ticks keep coming (`undefined` once every lane is idle). */
  private lastTick: number | undefined = undefined;
  /** Lanes with a backlog, in the order they became busy. */
  private readonly busy = new Map<unknown, Lane<T>>();
  /** Lanes without a backlog that still shape the next burst's deadline, oldest idle first. */
  private readonly idle = new Map<unknown, Lane<T>>();
  private readonly ready = new Fifo<PaceItem<T>>();

  constructor(config: PaceBoardConfig<T>) {
    this.textOf = config.text;
    this.keyOf = config.key;
    this.classify = config.classify;
    this.unit = config.unit;
    this.maxLag = config.maxLag;
    this.interval = config.interval;
    this.fixedInterval = config.fixedInterval;
    this.clock = config.clock;
    this.owner = config.owner;
  }

  /** Whether any lane has text (or values behind text) not shown yet: the cadence must tick. */
  get hasBacklog(): boolean {
    return this.busy.size > 0;
  }

  /** The ms between ticks the board counts with now. */
  get cadence(): number {
    return this.interval;
  }

  /** Whether the ready FIFO is empty. */
  get isEmpty(): boolean {
    return this.ready.isEmpty;
  }

  /** How many items are ready. */
  get size(): number {
    return this.ready.size;
  }

  /** Takes the oldest ready item; only called when {@link isEmpty} is false. */
  shift(): PaceItem<T> {
    return this.ready.shift();
  }

  /** Pacing loses nothing: there is never a gap to report. */
  // Stryker disable next-line BlockStatement: an empty body returns undefined as well
  takeNotice(): undefined {
    return undefined;
  }

  /** Forgets every lane and every ready item. */
  clear(): void {
    this.busy.clear();
    this.idle.clear();
    this.ready.clear();
    this.lastTick = undefined;
  }

  /**
   * Takes one value from the source. Throws what a callback throws, and a `TypeError` for a class
   * that is not one or a text that is not a string; the board is then as it was before the value.
   */
  push(value: T): void {
    const valueClass = this.classify === undefined ? 'normal' : this.classify(value);
    if (valueClass !== 'normal' && valueClass !== 'progress' && valueClass !== 'terminal') {
      throw new TypeError(
        `${this.owner}: classify must return 'terminal', 'progress' or 'normal', got ${describe(valueClass)}`,
      );
    }
    const key = this.keyOf === undefined ? ONE_LANE : this.keyOf(value);
    const text = valueClass === 'terminal' ? undefined : this.textOf(value);
    if (text !== undefined && typeof text !== 'string') {
      throw new TypeError(
        `${this.owner}: text must return a string or undefined, got ${describe(text)}`,
      );
    }
    const now = this.clock.now();
    this.forgetIdle(now);
    const busy = this.busy.get(key);
    if (text === undefined || text === '') {
      if (busy === undefined) {
        this.ready.push({ value, chunk: undefined });
        return;
      }
      if (valueClass === 'terminal') {
        this.show(busy, Number.POSITIVE_INFINITY, now);
        this.ready.push({ value, chunk: undefined });
        return;
      }
      busy.pieces.push({ value, text: undefined, ends: undefined, units: 0, next: 0, offset: 0 });
      return;
    }
    const lane = busy ?? this.wake(key);
    // Most text has one grapheme per character: then there is nothing to split.
    const ends =
      // Stryker disable next-line all: a fast path; splitting such text gives the same units
      this.unit === 'grapheme' && isOneGraphemePerChar(text)
        ? undefined
        : unitEnds(text, this.unit);
    const units = ends === undefined ? text.length : ends.length;
    if (lane.burstOpen) {
      lane.bursts.newest().through += units;
    } else {
      const spread = Math.min(this.maxLag, now - lane.lastBurst);
      lane.bursts.push({ through: lane.appended + units, deadline: now + spread });
      lane.lastBurst = now;
      lane.burstOpen = true;
    }
    lane.appended += units;
    lane.pieces.push({ value, text, ends, units, next: 0, offset: 0 });
    if (busy === undefined && now - lane.lastShown >= this.interval) {
      this.show(lane, this.chunkSize(lane, now), now);
    }
  }

  /** A tick of the cadence: every lane with a backlog shows one chunk. */
  tick(): void {
    const now = this.clock.now();
    // The first tick after an idle spell (no lastTick) measures nothing.
    const last = this.lastTick ?? now;
    if (!this.fixedInterval && now > last) this.interval = now - last;
    this.lastTick = now;
    for (const lane of this.busy.values()) {
      lane.burstOpen = false;
      this.show(lane, this.chunkSize(lane, now), now);
    }
    if (this.busy.size === 0) this.lastTick = undefined;
  }

  /** Shows every lane's whole backlog at once (the stream errs). */
  flushAll(): void {
    const now = this.clock.now();
    for (const lane of this.busy.values()) this.show(lane, Number.POSITIVE_INFINITY, now);
  }

  /** A lane becomes busy: the one it was, if it is still remembered, or a new one. */
  private wake(key: unknown): Lane<T> {
    let lane = this.idle.get(key);
    if (lane === undefined) {
      lane = {
        key,
        pieces: new Fifo(),
        bursts: new Fifo(),
        appended: 0,
        shown: 0,
        lastBurst: Number.NEGATIVE_INFINITY,
        burstOpen: false,
        lastShown: Number.NEGATIVE_INFINITY,
        idleSince: 0,
      };
    }
    this.idle.delete(key);
    this.busy.set(key, lane);
    return lane;
  }

  /**
   * Forgets idle lanes that no longer shape anything: idle for `maxLag` and a tick, a new burst
   * of theirs is paced as a new lane's would be.
   */
  private forgetIdle(now: number): void {
    const horizon = Math.max(this.maxLag, this.interval);
    for (const lane of this.idle.values()) {
      // Stryker disable next-line all: memory only; past the horizon a lane paces alike, remembered or not
      if (now - lane.idleSince < horizon) return;
      this.idle.delete(lane.key);
    }
  }

  /**
   * The units to show now: one, or more where a burst would otherwise miss its deadline with one
   * chunk per tick from now on.
   */
  private chunkSize(lane: Lane<T>, now: number): number {
    const { bursts } = lane;
    // Stryker disable next-line all: a finished burst asks for nothing (through - shown <= 0)
    while (!bursts.isEmpty && bursts.peek().through <= lane.shown) bursts.shift();
    let size = 1;
    for (let index = 0; index < bursts.size; index++) {
      const burst = bursts.at(index);
      const ticksLeft =
        // Stryker disable next-line EqualityOperator: at the deadline both count one tick
        burst.deadline > now ? Math.floor((burst.deadline - now) / this.interval) + 1 : 1;
      size = Math.max(size, Math.ceil((burst.through - lane.shown) / ticksLeft));
    }
    return size;
  }

  /**
   * Shows `units` units of the lane's backlog as one chunk, with every value without text met on
   * the way (and right after it) passed as is, in order.
   */
  private show(lane: Lane<T>, units: number, now: number): void {
    const { pieces } = lane;
    let left = units;
    let chunk = '';
    let chunkValue: T | undefined;
    while (!pieces.isEmpty) {
      const piece = pieces.peek();
      if (piece.text === undefined) {
        if (chunk !== '') {
          this.ready.push({ value: chunkValue as T, chunk });
          chunk = '';
          chunkValue = undefined;
        }
        this.ready.push({ value: piece.value, chunk: undefined });
        pieces.shift();
        continue;
      }
      if (left === 0) break;
      const { ends, next, offset } = piece;
      const count = Math.min(left, piece.units - next);
      const end = ends === undefined ? offset + count : (ends[next + count - 1] as number);
      chunk += piece.text.slice(offset, end);
      chunkValue = piece.value;
      piece.next = next + count;
      piece.offset = end;
      left -= count;
      lane.shown += count;
      if (piece.next === piece.units) pieces.shift();
    }
    if (chunk !== '') this.ready.push({ value: chunkValue as T, chunk });
    // A busy lane starts with text: every show shows some.
    lane.lastShown = now;
    if (pieces.isEmpty) {
      this.busy.delete(lane.key);
      lane.burstOpen = false;
      lane.bursts.clear();
      lane.idleSince = now;
      this.idle.set(lane.key, lane);
    }
  }
}
