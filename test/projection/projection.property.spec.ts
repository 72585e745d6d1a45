/**
 * The resume property on the in-memory bus: random events, random snapshot intervals, random
 * filters and random crash points (a projection killed in the middle of its catch-up or of its
 * live frames, its later saves lost) give, once a last life has caught up, the state of a plain
 * fold over the log: every matching frame folded once, in order, none skipped. The same
 * property against a real redis-server is in redis.spec.ts.
 */
import fc from 'fast-check';
import { Subject, takeUntil } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  EventBus,
  type EventFrame,
  MemoryArchive,
  MemorySnapshotStore,
  type ProjectionState,
  projection,
} from '../../src/index.js';
import { CrashableStore, type Folded, plainFold, scenario } from './crashModel.js';

const append = (state: Folded, frame: EventFrame): Folded => [...state, frame.seq];

describe('projection: resume after crashes equals a plain fold (in memory)', () => {
  it('killed at random points, restarted from its snapshots, it folds every frame once', () => {
    fc.assert(
      fc.property(scenario(20, 4), fc.integer({ min: 1, max: 30 }), (plan, history) => {
        // A small history with an archive: catch-ups read the archive page by page too.
        const bus = new EventBus({ history, archive: new MemoryArchive() });
        const durable = new MemorySnapshotStore();
        const config = { name: 'model', initial: [] as Folded, filter: plan.filter };
        for (const event of plan.before) bus.publish(event);
        for (const life of plan.lives) {
          const store = new CrashableStore(durable);
          const kill = new Subject<void>();
          let reduced = 0;
          const reduce = (state: Folded, frame: EventFrame) => {
            if (++reduced === life.crashAfter) {
              store.crash();
              kill.next();
            }
            return append(state, frame);
          };
          const subscription = projection(bus, {
            ...config,
            reduce,
            snapshots: { store, every: plan.every },
          })
            .pipe(takeUntil(kill))
            .subscribe();
          for (const event of life.events) bus.publish(event);
          if (life.killedAtEnd) store.crash();
          subscription.unsubscribe();
        }
        const states: ProjectionState<Folded>[] = [];
        const last = projection(bus, {
          ...config,
          reduce: append,
          emit: 'every',
          snapshots: { store: durable, every: plan.every },
        }).subscribe((state) => states.push(state));
        for (const event of plan.after) bus.publish(event);
        last.unsubscribe();
        const log = bus.replay({ visibility: 'private' });
        const frames: EventFrame[] = [];
        log.subscribe((frame) => frames.push(frame));
        // Every emission is the plain fold of the log up to its seq; the last is the whole log's.
        for (const state of states) {
          expect(state.state).toEqual(plainFold(frames.slice(0, state.seq), plan.filter));
        }
        expect(states[states.length - 1]?.state).toEqual(plainFold(frames, plan.filter));
        // The last snapshot (saved when the last life left) is the fold up to its seq.
        const saved = durable.load('model');
        if (saved !== undefined) {
          expect(saved.state).toEqual(plainFold(frames.slice(0, saved.seq), plan.filter));
        }
      }),
      { numRuns: 300 },
    );
  });
});
