/**
 * projection and MemorySnapshotStore: options, resuming, stale snapshots and rebuilds, gaps,
 * asynchronous stores, re-entrance, synchronous stops and schedulers. The emit modes in time are
 * in projection.marbles.spec.ts, the property against a plain fold in projection.property.spec.ts.
 */
import {
  asapScheduler,
  asyncScheduler,
  EMPTY,
  lastValueFrom,
  NEVER,
  Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  take,
  takeUntil,
  throwError,
  toArray,
} from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EpochChangedError,
  EventBus,
  type EventFrame,
  MemoryArchive,
  MemorySnapshotStore,
  type ProjectableBus,
  type ProjectionConfig,
  ProjectionGapError,
  type ProjectionSnapshot,
  type ProjectionState,
  projection,
  projectionFilterHash,
  QueueOverflowError,
  StaleSnapshotError,
} from '../../src/index.js';

const kinds = (state: string, frame: EventFrame) => state + frame.kind;

function letters(config: Partial<ProjectionConfig<string>> = {}): ProjectionConfig<string> {
  return { name: 'letters', initial: '', reduce: kinds, ...config };
}

function publishAll(bus: EventBus, text: string): void {
  for (const kind of text) bus.publish({ kind });
}

/** Subscribes and records everything. */
function record<T>(source: Observable<T>) {
  const values: T[] = [];
  const result: { error?: unknown; complete: boolean } = { complete: false };
  const subscription = source.subscribe({
    next: (value) => values.push(value),
    error: (error) => {
      result.error = error;
    },
    complete: () => {
      result.complete = true;
    },
  });
  return { values, result, subscription, last: () => values[values.length - 1] };
}

const microtasks = async (count = 10) => {
  for (let index = 0; index < count; index++) await Promise.resolve();
};

describe('projection: options', () => {
  const bus = new EventBus();
  it.each<[string, unknown, RegExp]>([
    ['a missing config', undefined, /^projection: options must be an object, got undefined$/],
    [
      'an empty name',
      { ...letters(), name: '' },
      /^projection: name must be a non-empty string, got ""$/,
    ],
    ['no reduce', { ...letters(), reduce: 1 }, /^projection: reduce must be a function, got 1$/],
    [
      'a version of 0',
      letters({ version: 0 }),
      /^projection: version must be a positive integer, got 0$/,
    ],
    [
      'emit of 0 ms',
      letters({ emit: 0 }),
      /^projection: emit must be a finite positive number \(ms\), got 0$/,
    ],
    [
      'an unknown emit',
      { ...letters(), emit: 'sometimes' },
      /^projection: emit must be 'caught-up' or 'every', got "sometimes"$/,
    ],
    [
      'an unknown onStale',
      { ...letters(), onStale: 'ignore' },
      /^projection: onStale must be 'error' or 'rebuild', got "ignore"$/,
    ],
    [
      'a bad scheduler',
      { ...letters(), scheduler: {} },
      /^projection: scheduler must be a SchedulerLike/,
    ],
    ['a bad filter field', { ...letters(), filter: { runID: 'r' } }, /^projection: .*runID/],
    [
      'a store without save',
      letters({ snapshots: { store: { load: () => undefined } as never } }),
      /^projection: snapshots.store must be a SnapshotStore \(with load and save\), got \{\}$/,
    ],
    [
      'snapshots.every of 0',
      letters({ snapshots: { store: new MemorySnapshotStore(), every: 0 } }),
      /^projection: snapshots.every must be a positive integer or Infinity, got 0$/,
    ],
    [
      'snapshots.everyMs of -1',
      letters({ snapshots: { store: new MemorySnapshotStore(), everyMs: -1 } }),
      /^projection: snapshots.everyMs must be a finite positive number \(ms\), got -1$/,
    ],
  ])('refuses %s at creation', (_, config, message) => {
    expect(() => projection(bus, config as ProjectionConfig<string>)).toThrow(message);
  });

  it('refuses something that is not a bus, naming what it needs', () => {
    expect(() => projection({} as ProjectableBus, letters())).toThrow(
      /^projection: bus must be an EventBus or a RedisEventBus \(with epoch, lastSeq, replay and select\), got \{\}$/,
    );
  });

  it('does nothing until subscribed (a store is not even read)', () => {
    let loads = 0;
    const store = { load: () => void loads++, save: () => undefined };
    projection(bus, letters({ snapshots: { store } }));
    expect(loads).toBe(0);
  });

  it('types: the state from initial and reduce, the frames of the bus', () => {
    const typed = new EventBus<{ n: number }>();
    const sums = projection(typed, {
      name: 's',
      initial: 0,
      reduce: (sum, f) => sum + (f.payload?.n ?? 0),
    });
    expectTypeOf(sums).toEqualTypeOf<Observable<ProjectionState<number>>>();
  });
});

describe('projection: resuming from a snapshot', () => {
  it('folds only the frames after the snapshot, and saves again when caught up', () => {
    const bus = new EventBus();
    const store = new MemorySnapshotStore();
    publishAll(bus, 'abc');
    const first = record(projection(bus, letters({ snapshots: { store, every: 100 } })));
    expect(first.last()).toMatchObject({ state: 'abc', seq: 3, caughtUp: true });
    first.subscription.unsubscribe();
    publishAll(bus, 'de');
    const folded: number[] = [];
    const second = record(
      projection(
        bus,
        letters({
          reduce: (s, f) => {
            folded.push(f.seq);
            return s + f.kind;
          },
          snapshots: { store },
        }),
      ),
    );
    expect(folded).toEqual([4, 5]);
    expect(second.values).toEqual([{ state: 'abcde', seq: 5, epoch: bus.epoch, caughtUp: true }]);
    expect(store.load('letters')).toMatchObject({ seq: 5, state: 'abcde', version: 1 });
  });

  it('the snapshot records the name, version, filter hash, epoch, seq and state', () => {
    const bus = new EventBus();
    const store = new MemorySnapshotStore();
    publishAll(bus, 'ab');
    const filter = { kinds: ['a'] };
    record(projection(bus, letters({ filter, version: 3, snapshots: { store } })));
    expect(store.load('letters')).toEqual({
      name: 'letters',
      version: 3,
      filterHash: projectionFilterHash(filter),
      epoch: bus.epoch,
      seq: 2,
      state: 'a',
    });
  });

  it('the memory store keeps a copy: what the reducer does later does not reach it', () => {
    const store = new MemorySnapshotStore();
    const state = { list: [1] };
    store.save({ name: 'n', version: 1, filterHash: 'h', epoch: 'e', seq: 1, state });
    state.list.push(2);
    expect(store.load('n')?.state).toEqual({ list: [1] });
    expect(store.size).toBe(1);
    expect(store.delete('n')).toBe(true);
    expect(store.load('n')).toBeUndefined();
  });
});

describe('projection: stale snapshots', () => {
  function staleCase(change: Partial<ProjectionSnapshot>) {
    const bus = new EventBus();
    const store = new MemorySnapshotStore();
    publishAll(bus, 'abc');
    const snapshot: ProjectionSnapshot = {
      name: 'letters',
      version: 1,
      filterHash: projectionFilterHash({}),
      epoch: bus.epoch,
      seq: 2,
      state: 'XY',
      ...change,
    };
    store.save(snapshot);
    // A store keyed by something else than the name may hand back another projection's snapshot.
    const keyed = { load: () => store.load(change.name ?? 'letters'), save: () => undefined };
    return { bus, store: keyed };
  }

  it.each<[string, Partial<ProjectionSnapshot>, RegExp]>([
    ['name', { name: 'other' }, /belongs to the projection "other"/],
    ['version', { version: 2 }, /folded by version 2 of the reducer/],
    ['filter', { filterHash: 'f00' }, /folded over another filter \(hash f00\)/],
    ['epoch', { epoch: 'old' }, /counts seqs in epoch "old", another log/],
  ])(
    'another %s: StaleSnapshotError naming it, or a rebuild from the oldest frame',
    (reason, change, message) => {
      const { bus, store } = staleCase(change);
      const failed = record(projection(bus, letters({ snapshots: { store } })));
      expect(failed.result.error).toBeInstanceOf(StaleSnapshotError);
      expect(failed.result.error).toMatchObject({ reason, projection: 'letters' });
      expect((failed.result.error as Error).message).toMatch(
        /^projection "letters": cannot resume from its snapshot at seq 2: /,
      );
      expect((failed.result.error as Error).message).toMatch(message);
      const rebuilt = record(
        projection(bus, letters({ snapshots: { store }, onStale: 'rebuild' })),
      );
      expect(rebuilt.values).toEqual([
        {
          state: 'abc',
          seq: 3,
          epoch: bus.epoch,
          caughtUp: true,
          rebuilt: { reason, snapshotSeq: 2 },
        },
      ]);
    },
  );

  it('a log that no longer holds the frames after the snapshot: trimmed, with the missing seqs', () => {
    const bus = new EventBus({ history: 3 });
    const store = new MemorySnapshotStore();
    publishAll(bus, 'ab');
    record(projection(bus, letters({ snapshots: { store } }))).subscription.unsubscribe();
    publishAll(bus, 'cdefg');
    const failed = record(projection(bus, letters({ snapshots: { store } })));
    expect(failed.result.error).toBeInstanceOf(StaleSnapshotError);
    expect(failed.result.error).toMatchObject({
      reason: 'trimmed',
      missing: { fromSeq: 3, toSeq: 4 },
    });
    expect((failed.result.error as Error).message).toMatch(
      /snapshot at seq 2: the log no longer holds the frames right after it \(seqs 3\.\.4 are gone\); pass onStale: 'rebuild'/,
    );
    const rebuilt = record(projection(bus, letters({ snapshots: { store }, onStale: 'rebuild' })));
    expect(rebuilt.values).toEqual([
      {
        state: 'efg',
        seq: 7,
        epoch: bus.epoch,
        caughtUp: true,
        rebuilt: { reason: 'trimmed', snapshotSeq: 2, missing: { fromSeq: 1, toSeq: 4 } },
      },
    ]);
    expect(store.load('letters')).toMatchObject({ seq: 7, state: 'efg' });
  });

  it('without a snapshot, a log that lost its first frames errors, or rebuilds from the oldest held', () => {
    const bus = new EventBus({ history: 2 });
    publishAll(bus, 'abcd');
    const failed = record(projection(bus, letters()));
    expect(failed.result.error).toMatchObject({ reason: 'trimmed', snapshot: undefined });
    expect((failed.result.error as Error).message).toMatch(
      /^projection "letters": cannot fold from seq 0: /,
    );
    const rebuilt = record(projection(bus, letters({ onStale: 'rebuild' })));
    expect(rebuilt.values).toEqual([
      {
        state: 'cd',
        seq: 4,
        epoch: bus.epoch,
        caughtUp: true,
        rebuilt: { reason: 'trimmed', missing: { fromSeq: 1, toSeq: 2 } },
      },
    ]);
  });

  it('reads through the archive page by page where history ends, with no notice', () => {
    const bus = new EventBus({ history: 2, archive: new MemoryArchive() });
    const text = 'ab'.repeat(1500);
    publishAll(bus, text);
    const folded = record(projection(bus, { name: 'n', initial: 0, reduce: (n) => n + 1 }));
    expect(folded.values).toEqual([{ state: 3000, seq: 3000, epoch: bus.epoch, caughtUp: true }]);
  });

  it('a store answering something that is not a snapshot errors, naming it', () => {
    const bus = new EventBus();
    const store = { load: () => ({ seq: -1 }) as never, save: () => undefined };
    const failed = record(projection(bus, letters({ snapshots: { store } })));
    expect((failed.result.error as Error).message).toBe(
      'projection "letters": the store\'s load returned {"seq":-1}, which is not a snapshot',
    );
  });
});

/** A bus of our own making, to hand the projection what a real bus rarely does. */
function scriptedBus(replay: Observable<EventFrame>, select: Observable<EventFrame>, lastSeq = 0) {
  const bus: ProjectableBus & { epoch: string } = {
    epoch: 'e1',
    lastSeq,
    replay: () => replay,
    select: () => select,
  };
  return bus;
}
const frame = (seq: number, extra: Partial<EventFrame> = {}): EventFrame => ({
  kind: 'k',
  seq,
  laneSeq: seq,
  ts: 0,
  ...extra,
});
const notice = (fromSeq: number, toSeq: number) => ({
  policy: 'drop-oldest' as const,
  dropped: toSeq - fromSeq + 1,
  merged: 0,
  fromSeq,
  toSeq,
  terminalPreserved: true,
});

describe('projection: gaps and errors of the bus', () => {
  it('a gap after frames were folded errors with ProjectionGapError (the state would miss them)', () => {
    const bus = scriptedBus(of(frame(1), frame(4, { overflow: notice(2, 3) })), NEVER, 4);
    const failed = record(projection(bus, letters({ onStale: 'rebuild' })));
    expect(failed.result.error).toBeInstanceOf(ProjectionGapError);
    expect(failed.result.error).toMatchObject({ fromSeq: 2, toSeq: 3 });
    expect((failed.result.error as Error).message).toBe(
      'projection "letters": seqs 2..3 never reached it; its state would miss them',
    );
  });

  it('a live gap (a select that ends on a gap nothing followed) errors the same way', () => {
    const bus = scriptedBus(
      EMPTY,
      throwError(() => new QueueOverflowError(notice(5, 6))),
      4,
    );
    const failed = record(projection(bus, letters()));
    expect(failed.values).toHaveLength(1);
    expect(failed.result.error).toMatchObject({ name: 'ProjectionGapError', fromSeq: 5, toSeq: 6 });
  });

  it('an epoch that changed during the catch-up errors with EpochChangedError', () => {
    const bus = scriptedBus(
      new Observable<EventFrame>((out) => {
        bus.epoch = 'e2';
        out.complete();
      }),
      NEVER,
    );
    const failed = record(projection(bus, letters()));
    expect(failed.result.error).toBeInstanceOf(EpochChangedError);
    expect(failed.result.error).toMatchObject({ expected: 'e1', actual: 'e2' });
  });

  it("the bus's errors pass through: a select from another epoch, a cursor beyond the head", () => {
    const error = new RangeError('beyond the head');
    const failed = record(
      projection(
        scriptedBus(
          throwError(() => error),
          NEVER,
        ),
        letters(),
      ),
    );
    expect(failed.result.error).toBe(error);
  });

  it('a bus that closes completes the projection after its last snapshot', () => {
    const bus = new EventBus();
    const store = new MemorySnapshotStore();
    const run = record(projection(bus, letters({ snapshots: { store, every: 10 } })));
    publishAll(bus, 'ab');
    bus.close();
    expect(run.result.complete).toBe(true);
    expect(store.load('letters')).toMatchObject({ seq: 2, state: 'ab' });
  });
});

describe('projection: asynchronous stores', () => {
  class SlowStore extends MemorySnapshotStore {
    saved: number[] = [];
    failSave: unknown;
    override load(name: string) {
      return Promise.resolve(super.load(name)) as never;
    }
    override save(snapshot: ProjectionSnapshot) {
      const failure = this.failSave;
      super.save(snapshot);
      return Promise.resolve().then(() => {
        if (failure !== undefined) throw failure;
        this.saved.push(snapshot.seq);
      }) as never;
    }
  }

  it('waits for the load, then folds; completes only once the last save resolved', async () => {
    const bus = new EventBus();
    const store = new SlowStore();
    publishAll(bus, 'ab');
    const run = record(projection(bus, letters({ snapshots: { store, every: 1 } })));
    expect(run.values).toEqual([]);
    await microtasks();
    expect(run.last()).toMatchObject({ state: 'ab', caughtUp: true });
    bus.publish({ kind: 'c' });
    bus.close();
    expect(run.result.complete).toBe(false);
    await microtasks();
    expect(run.result.complete).toBe(true);
    expect(store.saved).toEqual([1, 2, 3]);
  });

  it('a save that rejects errors the projection; a load that rejects too', async () => {
    const bus = new EventBus();
    const store = new SlowStore();
    const run = record(projection(bus, letters({ snapshots: { store, every: 1 } })));
    await microtasks();
    store.failSave = new Error('disk full');
    bus.publish({ kind: 'a' });
    await microtasks();
    expect(run.result.error).toBe(store.failSave);
    const failing = { load: () => Promise.reject(new Error('no redis')), save: () => undefined };
    const failed = record(projection(bus, letters({ snapshots: { store: failing } })));
    await microtasks();
    expect((failed.result.error as Error).message).toBe('no redis');
  });

  it('a store that throws: from load or save, the projection errors with what it threw', () => {
    const bus = new EventBus();
    const thrown = new Error('thrown');
    const loadThrows = {
      load: () => {
        throw thrown;
      },
      save: () => undefined,
    };
    expect(
      record(projection(bus, letters({ snapshots: { store: loadThrows } }))).result.error,
    ).toBe(thrown);
    const saveThrows = {
      load: () => undefined,
      save: () => {
        throw thrown;
      },
    };
    bus.publish({ kind: 'a' });
    expect(
      record(projection(bus, letters({ snapshots: { store: saveThrows } }))).result.error,
    ).toBe(thrown);
  });

  it('an unsubscribe before the load answers folds nothing and saves nothing', async () => {
    const bus = new EventBus();
    const store = new SlowStore();
    publishAll(bus, 'ab');
    record(projection(bus, letters({ snapshots: { store } }))).subscription.unsubscribe();
    await microtasks();
    expect(store.saved).toEqual([]);
  });
});

describe('projection: the RxJS checklist', () => {
  it('a synchronous catch-up stops as soon as take() has enough', () => {
    const bus = new EventBus();
    publishAll(bus, 'x'.repeat(1000));
    let reduced = 0;
    const few = record(
      projection(
        bus,
        letters({
          emit: 'every',
          reduce: (s, f) => {
            reduced++;
            return s + f.kind;
          },
        }),
      ).pipe(take(2)),
    );
    expect(few.values.map((value) => value.seq)).toEqual([1, 2]);
    expect(reduced).toBe(2);
  });

  it('a reducer that publishes (re-entrance): every frame folded once, in seq order', () => {
    const bus = new EventBus();
    const seqs: number[] = [];
    const run = record(
      projection(bus, {
        name: 'echo',
        initial: 0,
        reduce: (count, f) => {
          seqs.push(f.seq);
          if (f.kind === 'ping') bus.publish({ kind: 'pong' });
          return count + 1;
        },
      }),
    );
    bus.publish({ kind: 'ping' });
    bus.publish({ kind: 'ping' });
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(run.last()).toMatchObject({ state: 4, seq: 4 });
  });

  it('a reducer that unsubscribes the projection: nothing more is folded or emitted', () => {
    const bus = new EventBus();
    const stop = new Subject<void>();
    publishAll(bus, 'abc');
    let reduced = 0;
    const reduce = (state: string, f: EventFrame) => {
      if (++reduced === 2) stop.next();
      return state + f.kind;
    };
    const store = new MemorySnapshotStore();
    const run = record(
      projection(bus, letters({ emit: 'every', reduce, snapshots: { store, every: 1 } })).pipe(
        takeUntil(stop),
      ),
    );
    expect(run.values.map((value) => value.state)).toEqual(['a']);
    // The frame being folded when the subscriber left is not saved either.
    expect(store.load('letters')).toMatchObject({ seq: 1, state: 'a' });
    expect(run.result.complete).toBe(true);
    bus.publish({ kind: 'd' });
    expect(reduced).toBe(2);
  });

  it.each<[string, SchedulerLike]>([
    ['queueScheduler', queueScheduler],
    ['asapScheduler', asapScheduler],
    ['asyncScheduler', asyncScheduler],
  ])('emit in ms and snapshots.everyMs run on %s', async (_, scheduler) => {
    const bus = new EventBus();
    const store = new MemorySnapshotStore();
    const run = record(
      projection(
        bus,
        letters({ emit: 1, scheduler, snapshots: { store, every: Infinity, everyMs: 1 } }),
      ),
    );
    publishAll(bus, 'ab');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(run.last()).toMatchObject({ state: 'ab', seq: 2 });
    expect(store.load('letters')).toMatchObject({ state: 'ab', seq: 2 });
    run.subscription.unsubscribe();
  });

  it('lastValueFrom over a closed bus: the state of the whole log', async () => {
    const bus = new EventBus();
    publishAll(bus, 'abc');
    bus.close();
    const states = await lastValueFrom(projection(bus, letters({ emit: 'every' })).pipe(toArray()));
    expect(states.map((state) => state.state)).toEqual(['a', 'ab', 'abc', 'abc']);
  });
});
