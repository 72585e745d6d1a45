/**
 * What the property specs share: a fold that records which seqs it folded (so a frame folded
 * twice or skipped shows), a store that a crash cuts off like a SIGKILL would (the saves asked
 * for after the crash never land), and the generated scenarios.
 */
import fc from 'fast-check';
import type {
  AgentEvent,
  EventFilter,
  EventFrame,
  ProjectionSnapshot,
  SnapshotStore,
} from '../../src/index.js';
import { filterPredicate } from '../../src/index.js';

/** The state of the model projection: the seqs it folded, in order. */
export type Folded = readonly number[];

/** The plain fold the projections are compared with. */
export function plainFold(frames: readonly EventFrame[], filter: EventFilter): Folded {
  const matches = filterPredicate(filter);
  return frames.filter(matches).map((frame) => frame.seq);
}

/**
 * Forwards saves to a store until `crash()`; from then on, saves are lost as a killed process
 * loses them. `settled()` waits for the saves that were under way at the crash (they either
 * landed before the kill or never left: either way, nothing lands after the next life starts).
 */
export class CrashableStore implements SnapshotStore {
  crashed = false;
  saves = 0;
  private pending: Promise<unknown>[] = [];

  constructor(private readonly store: SnapshotStore) {}

  load(name: string) {
    return this.store.load(name);
  }

  save(snapshot: ProjectionSnapshot): void | PromiseLike<void> {
    if (this.crashed) return undefined;
    this.saves++;
    const result = this.store.save(snapshot);
    if (result !== undefined) this.pending.push(Promise.resolve(result).catch(() => undefined));
    return result;
  }

  crash(): void {
    this.crashed = true;
  }

  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** One life of a projection process: the events published while it runs, and how it ends. */
export interface Life {
  /** Events published (live) during this life. */
  events: AgentEvent[];
  /** Killed after this many reducer calls (counting catch-up and live), if it gets there. */
  crashAfter: number;
  /** At the end of the life, if not crashed: killed (true) or unsubscribed cleanly (false). */
  killedAtEnd: boolean;
}

export interface Scenario {
  /** Events in the log before the first life. */
  before: AgentEvent[];
  lives: Life[];
  /** Events published during the last life, which never crashes. */
  after: AgentEvent[];
  every: number;
  filter: EventFilter;
}

const event = fc.record({
  kind: fc.constantFrom('a', 'b', 'c'),
  runId: fc.constantFrom('r1', 'r2'),
});

export function scenario(maxEvents: number, maxLives: number): fc.Arbitrary<Scenario> {
  return fc.record({
    before: fc.array(event, { maxLength: maxEvents }),
    lives: fc.array(
      fc.record({
        events: fc.array(event, { maxLength: maxEvents }),
        crashAfter: fc.integer({ min: 1, max: maxEvents * 2 }),
        killedAtEnd: fc.boolean(),
      }),
      { maxLength: maxLives },
    ),
    after: fc.array(event, { maxLength: maxEvents }),
    every: fc.integer({ min: 1, max: 8 }),
    filter: fc.constantFrom<EventFilter>(
      {},
      { kinds: ['a', 'b'] },
      { runId: 'r1' },
      { kinds: ['c'], runId: 'r2' },
    ),
  });
}
