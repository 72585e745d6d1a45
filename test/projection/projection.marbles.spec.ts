/**
 * projection under RxJS's TestScheduler: each `emit` mode, snapshots in time, the end of the bus,
 * errors and unsubscription, drawn as marbles. Frames are published with `publishMarble` on a
 * bus stamped by the test scheduler; a projection's emissions are drawn as `state@seq` (with `~`
 * while it is catching up).
 */
import { map, mergeMap, Observable, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { EventFrame } from '../../src/bus/types.js';
import {
  MemorySnapshotStore,
  type ProjectionConfig,
  ProjectionReduceError,
  type ProjectionSnapshot,
  type ProjectionState,
  projection,
} from '../../src/index.js';
import { createTestBus, publishMarble } from '../../src/testing/index.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

/** A letter per kind: `{ kind: 'a' }` for `a`. */
const events = Object.fromEntries([...'abcdefgh'].map((letter) => [letter, { kind: letter }]));

const concat = (state: string, frame: EventFrame): string => state + frame.kind;

/** `state@seq`, with `~` while catching up. */
const drawn = map((value: ProjectionState<string>) => {
  return `${value.state}@${value.seq}${value.caughtUp ? '' : '~'}`;
});

function letters(config: Partial<ProjectionConfig<string>> = {}): ProjectionConfig<string> {
  return { name: 'letters', initial: '', reduce: concat, ...config };
}

/** A store that records when (in virtual frames) each snapshot was saved, and at which seq. */
class RecordingStore extends MemorySnapshotStore {
  readonly saves: string[] = [];
  constructor(private readonly scheduler: TestScheduler) {
    super();
  }
  override save(snapshot: ProjectionSnapshot): void {
    this.saves.push(`${this.scheduler.now()}:${snapshot.seq}`);
    super.save(snapshot);
  }
}

describe("projection: emit 'caught-up' (the default)", () => {
  it('emits once when caught up with the log held at the start, then on every live frame, and completes when the bus closes', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      bus.publish({ kind: 'a' });
      bus.publish({ kind: 'b' });
      const live = createTestBusLike(bus);
      live('--c---d|');
      expectObservable(projection(bus, letters()).pipe(drawn)).toBe('x-y---z|', {
        x: 'ab@2',
        y: 'abc@3',
        z: 'abcd@4',
      });
    });
  });

  it('with a filter: the caught-up seq is the head, also when the last frames do not match', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      for (const kind of ['a', 'b', 'a', 'b', 'b']) bus.publish({ kind });
      createTestBusLike(bus)('-a-b-a|');
      const only = projection(bus, letters({ filter: { kinds: ['a'] } }));
      expectObservable(only.pipe(drawn)).toBe('xy---z|', {
        x: 'aa@5',
        y: 'aaa@6',
        z: 'aaaa@8',
      });
    });
  });
});

describe("projection: emit 'every'", () => {
  it('emits each state of the catch-up (caughtUp false), the caught-up state, then every live frame', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      bus.publish({ kind: 'a' });
      bus.publish({ kind: 'b' });
      createTestBusLike(bus)('------c|');
      expectObservable(projection(bus, letters({ emit: 'every' })).pipe(drawn)).toBe('(ABX)-c|', {
        A: 'a@1~',
        B: 'ab@2~',
        X: 'ab@2',
        c: 'abc@3',
      });
    });
  });
});

describe('projection: emit in ms', () => {
  it('emits when caught up, then at most every n ms: a change after a quiet window at once, those within it as the newest at its end', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      bus.publish({ kind: 'a' });
      createTestBusLike(bus)('-bc-d-----e|');
      expectObservable(projection(bus, letters({ emit: 3 })).pipe(drawn)).toBe('x--y--z---w|', {
        x: 'a@1',
        y: 'abc@3',
        z: 'abcd@4',
        w: 'abcde@5',
      });
    });
  });

  it('the caught-up emission opens a window; a change still held when the bus closes is emitted before the completion', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      createTestBusLike(bus)('-ab|');
      expectObservable(projection(bus, letters({ emit: 5 })).pipe(drawn)).toBe('x--(y|)', {
        x: '@0',
        y: 'ab@2',
      });
    });
  });

  it('an unsubscribe while a change is held drops it and cancels the window', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      createTestBusLike(bus)('-ab----c');
      expectObservable(projection(bus, letters({ emit: 5 })).pipe(drawn), '^--!').toBe('x--', {
        x: '@0',
      });
    });
  });
});

describe('projection: snapshots in time', () => {
  it('every N frames, everyMs after the first unsaved frame, when caught up, and when the bus closes', () => {
    const scheduler = newScheduler();
    const store = new RecordingStore(scheduler);
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      bus.publish({ kind: 'a' });
      createTestBusLike(bus)('-bcd------e--|');
      const folded = projection(bus, letters({ snapshots: { store, every: 3, everyMs: 4 } }));
      expectObservable(folded.pipe(drawn)).toBe('xbcd------e--|', {
        x: 'a@1',
        b: 'ab@2',
        c: 'abc@3',
        d: 'abcd@4',
        e: 'abcde@5',
      });
    });
    // Caught up at 0 (seq 1); b, c, d folded: the third saves at 3; e at 10 starts the 4 ms timer,
    // which saves at 14, after the bus closed at 13 and saved it already.
    expect(store.saves).toEqual(['0:1', '3:4', '13:5']);
    expect(store.load('letters')).toMatchObject({ seq: 5, state: 'abcde' });
  });

  it('the subscriber leaving saves what was folded since the last snapshot', () => {
    const scheduler = newScheduler();
    const store = new RecordingStore(scheduler);
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      createTestBusLike(bus)('-ab--c');
      const folded = projection(bus, letters({ snapshots: { store, every: 10 } }));
      expectObservable(folded.pipe(drawn), '^---!').toBe('xab-', {
        x: '@0',
        a: 'a@1',
        b: 'ab@2',
      });
    });
    expect(store.saves).toEqual(['4:2']);
  });
});

describe('projection: errors and unsubscription', () => {
  it('a throwing reducer errors with the seq of the frame; no snapshot is saved after it', () => {
    const scheduler = newScheduler();
    const store = new RecordingStore(scheduler);
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      createTestBusLike(bus)('-ab-c');
      const reduce = (state: string, frame: EventFrame) => {
        if (frame.kind === 'b') throw new Error('no b');
        return state + frame.kind;
      };
      const folded = projection(bus, letters({ reduce, snapshots: { store, every: 1 } }));
      expectObservable(folded.pipe(drawn)).toBe(
        'xa#',
        { x: '@0', a: 'a@1' },
        new ProjectionReduceError('letters', 2, 'b', new Error('no b')),
      );
    });
    expect(store.saves).toEqual(['1:1']);
  });

  it('unsubscription chains are not broken by a mergeMap before and after', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const bus = createTestBus(scheduler);
      createTestBusLike(bus)('--a-b-c-d');
      const trigger = cold('-t|');
      const chained = trigger.pipe(
        mergeMap(() => projection(bus, letters())),
        mergeMap((value) => of(value)),
        drawn,
      );
      expectObservable(chained, '^----!').toBe('-xa-b-', { x: '@0', a: 'a@1', b: 'ab@2' });
      expectSubscriptions(trigger.subscriptions).toBe('^-!');
    });
  });
});

/**
 * `publishMarble` on a test bus, started inside `run()`: returns a function taking the marble,
 * so that frames published before it are in the log when the projection subscribes at frame 0.
 */
function createTestBusLike(bus: ReturnType<typeof createTestBus>) {
  return (marble: string) => publishMarble(bus, marble, events);
}

// The Observable import is used by the type tests below.
describe('projection: types', () => {
  it('infers the state from initial and reduce, and the payload from the bus', () => {
    const bus = createTestBus<{ n: number }>(new TestScheduler(() => undefined));
    const sums = projection(bus, {
      name: 'sum',
      initial: 0,
      reduce: (sum, frame) => sum + (frame.payload?.n ?? 0),
    });
    const check: Observable<ProjectionState<number>> = sums;
    expect(check).toBeInstanceOf(Observable);
  });
});
