import {
  asapScheduler,
  asyncScheduler,
  config,
  Observable,
  queueScheduler,
  Subject,
  type Subscription,
} from 'rxjs';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { mergeAgentProgress } from '../../src/bus/agentEvents.js';
import { EventBus, MAX_HISTORY } from '../../src/bus/EventBus.js';
import { BackpressureError, BusClosedError, InvalidEventError } from '../../src/bus/errors.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { AgentEvent, EventFrame, SubscriberQueue } from '../../src/bus/types.js';
import { rejectHiddenReasoning } from '../../src/bus/validators.js';
import { coalesce, type OverflowNotice } from '../../src/core/types.js';

const seqs = (frames: EventFrame[]): number[] => frames.map((frame) => frame.seq);

function collect<P>(bus: EventBus<P>, ...args: Parameters<EventBus<P>['select']>) {
  const frames: EventFrame<P>[] = [];
  let completed = false;
  let error: unknown;
  const subscription = bus.select(...args).subscribe({
    next: (frame) => frames.push(frame),
    error: (e) => {
      error = e;
    },
    complete: () => {
      completed = true;
    },
  });
  return {
    frames,
    subscription,
    get completed() {
      return completed;
    },
    get error() {
      return error;
    },
  };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('EventBus: stamping', () => {
  it('stamps a dense global seq, a dense laneSeq per lane, and ts from the scheduler', () => {
    let now = 100;
    const bus = new EventBus({
      scheduler: { now: () => now++, schedule: () => ({}) as Subscription } as never,
    });
    const frames = [
      bus.publish({ kind: 'a', runId: 'r1' }),
      bus.publish({ kind: 'b', runId: 'r1', laneId: 'x' }),
      bus.publish({ kind: 'c', runId: 'r1' }),
      bus.publish({ kind: 'd', runId: 'r2' }),
      bus.publish({ kind: 'e', runId: 'r1', laneId: 'x' }),
      bus.publish({ kind: 'f' }),
    ];
    expect(frames.map((f) => [f.seq, f.laneId, f.laneSeq, f.ts])).toEqual([
      [1, 'main', 1, 100],
      [2, 'x', 1, 101],
      [3, 'main', 2, 102],
      [4, 'main', 3, 103],
      [5, 'x', 2, 104],
      [6, 'main', 4, 105],
    ]);
  });

  it('keeps a lane dense across the end of a run, and forgets a run nobody listens to', () => {
    const bus = new EventBus();
    bus.publish({ kind: 'model.delta', runId: 'r1' });
    expect(bus.publish({ kind: 'run.finished', runId: 'r1' }).laneSeq).toBe(2);
    expect(bus.publish({ kind: 'model.delta', runId: 'r1' }).laneSeq).toBe(3);
    // The indexes are private: this reads them to check that they do not grow with dead keys.
    type Indexes = Record<'byRun' | 'byAgent' | 'byLane', Map<string, unknown>>;
    const indexes = (bus as unknown as { hub: { index: Indexes } }).hub.index;
    const keys = () => ({
      runs: [...indexes.byRun.keys()],
      agents: [...indexes.byAgent.keys()],
      lanes: [...indexes.byLane.keys()],
    });
    expect(keys()).toEqual({ runs: [], agents: [], lanes: [] });
    const subs = [
      bus.select({ runId: 'r3' }).subscribe(),
      bus.select({ runId: 'r3', kinds: ['run.error'] }).subscribe(),
      bus.select({ agentId: 'a' }).subscribe(),
      bus.select({ laneId: 'l' }).subscribe(),
    ];
    expect(keys()).toEqual({ runs: ['r3'], agents: ['a'], lanes: ['l'] });
    bus.publish({ kind: 'run.error', runId: 'r3' });
    subs[0]?.unsubscribe();
    expect(keys()).toEqual({ runs: ['r3'], agents: ['a'], lanes: ['l'] });
    for (const sub of subs) sub.unsubscribe();
    expect(keys()).toEqual({ runs: [], agents: [], lanes: [] });
  });

  it('with freeze: true, returns a frozen frame that keeps only the known fields', () => {
    const bus = new EventBus({ freeze: true });
    const event = { kind: 'tool.call', runId: 'r', payload: { n: 1 }, seq: 99, overflow: 'x' };
    const frame = bus.publish(event as AgentEvent);
    expect(Object.isFrozen(frame)).toBe(true);
    expect(frame).toEqual({
      kind: 'tool.call',
      runId: 'r',
      laneId: 'main',
      payload: { n: 1 },
      seq: 1,
      laneSeq: 1,
      ts: expect.any(Number),
    });
    expect('overflow' in frame).toBe(false);
    expect(() => {
      (frame as { seq: number }).seq = 5;
    }).toThrow(TypeError);
  });

  it('by default (freeze: false), frames are plain objects the bus never changes', () => {
    const bus = new EventBus({ history: 1 });
    const frame = bus.publish({ kind: 'k' });
    expect(Object.isFrozen(frame)).toBe(false);
    bus.publish({ kind: 'k' });
    const late = collect(bus, {}, { after: 0 });
    expect(late.frames[0]?.overflow).toMatchObject({ fromSeq: 1, toSeq: 1 });
    expect(Object.isFrozen(late.frames[0])).toBe(false);
    expect(frame).toStrictEqual({
      kind: 'k',
      laneId: 'main',
      seq: 1,
      laneSeq: 1,
      ts: expect.any(Number),
    });
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(frame.constructor).toBe(Object);
    expect(() => new EventBus({ freeze: 'no' } as never)).toThrow(TypeError);
  });

  it('builds frames with the known fields only, in one order, absent fields absent', () => {
    const bus = new EventBus();
    const full = bus.publish({
      payload: 1,
      visibility: 'internal',
      laneId: 'l',
      agentId: 'a',
      runId: 'r',
      kind: 'k',
      extra: true,
    } as AgentEvent);
    expect(Object.keys(full)).toEqual([
      'kind',
      'runId',
      'agentId',
      'laneId',
      'visibility',
      'payload',
      'seq',
      'laneSeq',
      'ts',
    ]);
    const bare = bus.publish({ kind: 'k', runId: undefined });
    expect(Object.keys(bare)).toEqual(['kind', 'laneId', 'seq', 'laneSeq', 'ts']);
    // Readonly in the types: assigning is a compile error.
    // @ts-expect-error seq is readonly
    bare.seq = 9;
    expect(structuredClone(full)).toStrictEqual(full);
  });

  it('puts a notice on a copy, never on the shared frame', async () => {
    const bus = new EventBus({ history: 2 });
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'k' });
    const late = collect(bus, {}, { after: 0 });
    expect(late.frames[0]?.overflow).toMatchObject({ dropped: 3, fromSeq: 1, toSeq: 3 });
    const again = collect(bus, {}, { after: 3 });
    expect(again.frames[0]?.overflow).toBeUndefined();
    expect(again.frames[0]?.seq).toBe(4);
    expect(late.frames[0]).not.toBe(again.frames[0]);
  });
});

describe('EventBus: filters', () => {
  const publishAll = (bus: EventBus) => {
    bus.publish({ kind: 'a', runId: 'r1', agentId: 'g1', laneId: 'l1' });
    bus.publish({ kind: 'b', runId: 'r2', agentId: 'g1', visibility: 'internal' });
    bus.publish({ kind: 'c', runId: 'r1', agentId: 'g2', visibility: 'private' });
    bus.publish({ kind: 'a', runId: 'r2', agentId: 'g2', laneId: 'l1', visibility: 'public' });
    bus.publish({ kind: 'b' });
  };

  it.each([
    [{}, [1, 4, 5]],
    [{ visibility: 'internal' as const }, [1, 2, 4, 5]],
    [{ visibility: 'private' as const }, [1, 2, 3, 4, 5]],
    [{ runId: 'r1', visibility: 'private' as const }, [1, 3]],
    [{ agentId: 'g1', visibility: 'private' as const }, [1, 2]],
    [{ laneId: 'l1' }, [1, 4]],
    [{ laneId: 'main', visibility: 'private' as const }, [2, 3, 5]],
    [{ kinds: ['a', 'c'], visibility: 'private' as const }, [1, 3, 4]],
    [{ kinds: new Set(['b']) }, [5]],
    [{ runId: 'r2', kinds: ['a'] }, [4]],
    [{ where: (f: EventFrame) => f.seq % 2 === 0, visibility: 'private' as const }, [2, 4]],
    [{ runId: 'nope' }, []],
  ])('filter %o sees seqs %o', (filter, expected) => {
    const bus = new EventBus();
    const sub = collect(bus, filter);
    publishAll(bus);
    expect(seqs(sub.frames)).toEqual(expected);
    const replayed: number[] = [];
    bus.replay(filter).subscribe((f) => replayed.push(f.seq));
    expect(replayed).toEqual(expected);
  });

  it('a throwing where errors that subscriber only', () => {
    const bus = new EventBus();
    const boom = new Error('boom');
    const bad = collect(bus, {
      where: (f) => {
        if (f.seq === 2) throw boom;
        return true;
      },
    });
    const good = collect(bus, {});
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'k' });
    expect(seqs(bad.frames)).toEqual([1]);
    expect(bad.error).toBe(boom);
    expect(seqs(good.frames)).toEqual([1, 2, 3]);
    expect(bus.metrics().subscribers).toHaveLength(1);
  });
});

describe('EventBus: index', () => {
  it('a publish only tests the subscribers whose indexed ids can match', () => {
    const bus = new EventBus();
    const calls: string[] = [];
    const where = (name: string) => () => {
      calls.push(name);
      return true;
    };
    bus.select({ runId: 'r1', where: where('run r1') }).subscribe();
    bus.select({ runId: 'r2', where: where('run r2') }).subscribe();
    bus.select({ agentId: 'g1', where: where('agent g1') }).subscribe();
    bus.select({ laneId: 'l9', where: where('lane l9') }).subscribe();
    bus.select({ kinds: ['k'], where: where('wildcard') }).subscribe();
    bus.publish({ kind: 'k', runId: 'r1', agentId: 'g1' });
    expect(calls.sort()).toEqual(['agent g1', 'run r1', 'wildcard']);
  });

  it('unsubscribing removes a subscriber from the index and metrics', () => {
    const bus = new EventBus();
    const a = collect(bus, { runId: 'r1' });
    const b = collect(bus, { runId: 'r1' });
    a.subscription.unsubscribe();
    bus.publish({ kind: 'k', runId: 'r1' });
    expect(a.frames).toEqual([]);
    expect(seqs(b.frames)).toEqual([1]);
    expect(bus.metrics().subscribers.map((s) => s.id)).toEqual([2]);
    b.subscription.unsubscribe();
    expect(bus.metrics().subscribers).toEqual([]);
  });
});

describe('EventBus: history and cursors', () => {
  it('keeps exactly the last `history` frames in a ring', () => {
    const bus = new EventBus({ history: 4 });
    for (let i = 0; i < 11; i++) bus.publish({ kind: 'k' });
    expect(bus.metrics().historySize).toBe(4);
    const replayed: number[] = [];
    bus.replay({}, 7).subscribe((f) => replayed.push(f.seq));
    expect(replayed).toEqual([8, 9, 10, 11]);
  });

  it('select with after replays then goes live, no gap, no duplicate', () => {
    const bus = new EventBus();
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'k', runId: i % 2 ? 'odd' : 'even' });
    const sub = collect(bus, { runId: 'even' }, { after: 1 });
    expect(seqs(sub.frames)).toEqual([3, 5]);
    bus.publish({ kind: 'k', runId: 'even' });
    bus.publish({ kind: 'k', runId: 'odd' });
    bus.publish({ kind: 'k', runId: 'even' });
    expect(seqs(sub.frames)).toEqual([3, 5, 6, 8]);
  });

  it('a cursor at the newest frame is live only; one beyond it is an error naming both', () => {
    const bus = new EventBus();
    bus.publish({ kind: 'k' });
    const now = collect(bus, {}, { after: 1 });
    let failure: unknown;
    const future = bus.select({}, { after: 3 }).subscribe({ error: (e) => (failure = e) });
    for (let i = 0; i < 4; i++) bus.publish({ kind: 'k' });
    expect(seqs(now.frames)).toEqual([2, 3, 4, 5]);
    expect(future.closed).toBe(true);
    expect(failure).toBeInstanceOf(RangeError);
    expect(String(failure)).toContain('EventBus.select: after 3 is beyond the head');
    expect(String(failure)).toContain('last seq is 1');
    bus.replay({}, 9).subscribe({ error: (e) => (failure = e) });
    expect(String(failure)).toContain('EventBus.replay: after 9 is beyond the head');
  });

  it('a cursor older than history with no archive: the first frame says what is missing', () => {
    const bus = new EventBus({ history: 3 });
    for (let i = 0; i < 10; i++) bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 2 });
    expect(seqs(sub.frames)).toEqual([8, 9, 10]);
    expect(sub.frames[0]?.overflow).toEqual({
      policy: 'drop-oldest',
      dropped: 5,
      merged: 0,
      fromSeq: 3,
      toSeq: 7,
      terminalPreserved: false,
    });
    expect(bus.metrics().subscribers[0]?.dropped).toBe(5);
  });

  it('the notice of an old cursor waits for the first live frame when nothing replays', () => {
    const bus = new EventBus({ history: 2 });
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'k', runId: 'other' });
    const sub = collect(bus, { runId: 'mine' }, { after: 0 });
    expect(sub.frames).toEqual([]);
    bus.publish({ kind: 'k', runId: 'mine' });
    expect(sub.frames[0]?.seq).toBe(7);
    expect(sub.frames[0]?.overflow).toMatchObject({ dropped: 4, fromSeq: 1, toSeq: 4 });
  });

  it('replay without a cursor returns what is held, without notice', () => {
    const bus = new EventBus({ history: 2 });
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'k' });
    const frames: EventFrame[] = [];
    let completed = false;
    bus.replay().subscribe({ next: (f) => frames.push(f), complete: () => (completed = true) });
    expect(seqs(frames)).toEqual([4, 5]);
    expect(frames[0]?.overflow).toBeUndefined();
    expect(completed).toBe(true);
  });

  it('bus.replay(filter, first.seq - 1) repairs a queue gap while history holds it', async () => {
    const bus = new EventBus();
    const notices: OverflowNotice<EventFrame>[] = [];
    const sub = collect(
      bus,
      {},
      {
        queue: { capacity: 2, overflow: 'drop-oldest', onOverflow: (n) => notices.push(n) },
      },
    );
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'k' });
    await tick();
    const notice = sub.frames[0]?.overflow as OverflowNotice<EventFrame>;
    expect(notice).toMatchObject({ policy: 'drop-oldest', dropped: 5, fromSeq: 1, toSeq: 5 });
    expect(notices).toEqual([notice]);
    const repaired: number[] = [];
    bus
      .replay({}, (notice.first as EventFrame).seq - 1)
      .subscribe((f) => f.seq <= (notice.toSeq as number) && repaired.push(f.seq));
    expect(repaired).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('EventBus: archive', () => {
  it('replays from the archive what history no longer holds, then history, then live', () => {
    const archive = new MemoryArchive();
    const bus = new EventBus({ history: 3, archive });
    for (let i = 0; i < 10; i++) bus.publish({ kind: 'k', runId: i % 2 ? 'a' : 'b' });
    const sub = collect(bus, { runId: 'a' }, { after: 2 });
    expect(seqs(sub.frames)).toEqual([4, 6, 8, 10]);
    expect(sub.frames[0]?.overflow).toBeUndefined();
    bus.publish({ kind: 'k', runId: 'a' });
    expect(seqs(sub.frames)).toEqual([4, 6, 8, 10, 11]);
  });

  it('a limited archive reports what it no longer holds', () => {
    const bus = new EventBus({ history: 2, archive: new MemoryArchive({ limit: 5 }) });
    for (let i = 0; i < 10; i++) bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 1 });
    expect(seqs(sub.frames)).toEqual([6, 7, 8, 9, 10]);
    expect(sub.frames[0]?.overflow).toMatchObject({ dropped: 4, fromSeq: 2, toSeq: 5 });
  });

  it('an archive whose append fails is counted, the bus goes on', async () => {
    const bus = new EventBus({
      archive: {
        append: (f) => (f.seq === 1 ? Promise.reject(new Error('x')) : undefined),
        replay: () => [],
      },
    });
    bus.publish({ kind: 'k' });
    const bad = new EventBus({
      archive: {
        append: () => {
          throw new Error('sync');
        },
        replay: () => [],
      },
    });
    expect(bad.publish({ kind: 'k' }).seq).toBe(1);
    await tick();
    expect(bus.metrics().archiveErrors).toBe(1);
    expect(bad.metrics().archiveErrors).toBe(1);
  });

  it('metrics show a subscriber replaying from a slow archive, and the frames it holds back', () => {
    const memory = new MemoryArchive();
    let answer: (() => void) | undefined;
    const bus = new EventBus({
      history: 1,
      archive: {
        append: (f) => memory.append(f),
        replay: (filter, after) =>
          new Observable<EventFrame>((subscriber) => {
            answer = () => memory.replay(filter, after).subscribe(subscriber);
          }),
      },
    });
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 0 });
    bus.publish({ kind: 'k' });
    expect(bus.metrics().subscribers[0]).toMatchObject({ replaying: true, delivered: 0, lag: 4 });
    answer?.();
    expect(seqs(sub.frames)).toEqual([1, 2, 3, 4]);
    expect(bus.metrics().subscribers[0]).toMatchObject({ replaying: false, delivered: 4, lag: 0 });
  });

  it('an archive replay error errors the subscriber', () => {
    const boom = new Error('archive down');
    const bus = new EventBus({
      history: 1,
      archive: {
        append: () => {},
        replay: () => {
          throw boom;
        },
      },
    });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 0 });
    expect(sub.error).toBe(boom);
  });
});

describe('EventBus: subscriber queues', () => {
  it('a slow lossy subscriber loses its own frames only', async () => {
    const bus = new EventBus();
    const fast = collect(bus, {});
    const slow = collect(bus, {}, { queue: { capacity: 3, overflow: 'drop-progress' } });
    bus.publish({ kind: 'run.started' });
    for (let i = 0; i < 10; i++) bus.publish({ kind: 'model.delta' });
    bus.publish({ kind: 'run.finished' });
    expect(seqs(fast.frames)).toHaveLength(12);
    expect(bus.metrics().subscribers[1]).toMatchObject({ depth: 3, highWater: 3, dropped: 9 });
    await tick();
    expect(slow.frames.map((f) => f.kind)).toEqual(['run.started', 'model.delta', 'run.finished']);
    // The gap is reported on the first frame delivered after it happened.
    expect(slow.frames[0]?.overflow).toMatchObject({ dropped: 9, fromSeq: 2, toSeq: 10 });
    expect(slow.frames[1]?.overflow).toBeUndefined();
    expect(bus.metrics().subscribers[1]).toMatchObject({ depth: 0, delivered: 3, dropped: 9 });
  });

  it('coalesce merges progress frames with the bus classifier by default', async () => {
    const bus = new EventBus({ freeze: true });
    const sub = collect(
      bus,
      {},
      { queue: { capacity: 3, overflow: coalesce(mergeAgentProgress as never) } },
    );
    for (const text of ['He', 'll', 'o', '!'])
      bus.publish({ kind: 'model.delta', payload: { text } });
    bus.publish({ kind: 'run.finished' });
    expect(bus.metrics().subscribers[0]).toMatchObject({ merged: 2, dropped: 0 });
    await tick();
    expect(sub.frames.map((f) => [f.kind, f.payload])).toEqual([
      ['model.delta', { text: 'He' }],
      ['model.delta', { text: 'llo!' }],
      ['run.finished', undefined],
    ]);
    expect(Object.isFrozen(sub.frames[1])).toBe(true);
    expect(sub.frames[0]?.overflow).toMatchObject({ merged: 2, dropped: 0 });
  });

  it("'error' policy errors the subscriber after what it holds, not the bus", async () => {
    const bus = new EventBus();
    const sub = collect(
      bus,
      {},
      { queue: { capacity: 2, overflow: 'error', classify: () => 'normal', terminalReserve: 0 } },
    );
    for (let i = 0; i < 4; i++) bus.publish({ kind: 'k' });
    await tick();
    expect(seqs(sub.frames)).toEqual([1, 2]);
    expect((sub.error as Error).name).toBe('QueueOverflowError');
    expect(bus.publish({ kind: 'k' }).seq).toBe(5);
  });

  it('demand-driven subscriber receives frames as it grants credit', async () => {
    const { Subject } = await import('rxjs');
    const demand = new Subject<number>();
    const bus = new EventBus();
    const sub = collect(bus, {}, { queue: { capacity: 10, overflow: 'drop-oldest', demand } });
    for (let i = 0; i < 4; i++) bus.publish({ kind: 'k' });
    expect(sub.frames).toEqual([]);
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 4, lag: 4 });
    demand.next(2);
    expect(seqs(sub.frames)).toEqual([1, 2]);
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 2, lag: 2, delivered: 2 });
  });

  it.each([
    ['queueScheduler', queueScheduler],
    ['asapScheduler', asapScheduler],
    ['asyncScheduler', asyncScheduler],
  ])(
    'a queue delivering on %s delivers every frame, also those published later',
    async (_name, scheduler) => {
      const bus = new EventBus();
      const sub = collect(bus, {}, { queue: { capacity: 8, overflow: 'drop-oldest', scheduler } });
      bus.publish({ kind: 'a' });
      bus.publish({ kind: 'b' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      bus.publish({ kind: 'c' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(seqs(sub.frames)).toEqual([1, 2, 3]);
    },
  );

  it('a frame published from inside onOverflow neither evicts the frame being delivered nor overtakes its notice', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const log: string[] = [];
    const onOverflow = (gap: OverflowNotice<EventFrame>): void => {
      log.push(`gap ${gap.fromSeq}-${gap.toSeq}`);
      if (gap.fromSeq === 1) bus.publish({ kind: 'c' });
    };
    bus
      .select({}, { queue: { capacity: 1, overflow: 'drop-oldest', demand, onOverflow } })
      .subscribe((frame) => {
        log.push(`frame ${frame.seq}`);
        demand.next(1);
      });
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' }); // evicts seq 1
    demand.next(1);
    expect(log).toEqual(['gap 1-1', 'frame 2', 'frame 3']);
  });
});

describe('EventBus: backpressure', () => {
  const bpQueue = (demand: import('rxjs').Subject<number>): SubscriberQueue => ({
    capacity: 2,
    overflow: 'backpressure',
    demand,
    classify: () => 'normal',
    terminalReserve: 0,
  });

  it('publish throws BackpressureError when a matching subscriber is full, changing nothing', async () => {
    const { Subject } = await import('rxjs');
    const demand = new Subject<number>();
    const bus = new EventBus();
    const sub = collect(bus, { runId: 'r' }, { queue: bpQueue(demand) });
    bus.publish({ kind: 'k', runId: 'r' });
    bus.publish({ kind: 'k', runId: 'r' });
    const error = (() => {
      try {
        bus.publish({ kind: 'k', runId: 'r' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BackpressureError);
    expect((error as BackpressureError).subscribers).toEqual([1]);
    expect(bus.metrics()).toMatchObject({ published: 2, backpressured: 1 });
    // Another run is not held back.
    expect(bus.publish({ kind: 'k', runId: 'other' }).seq).toBe(3);
    demand.next(2);
    expect(bus.publish({ kind: 'k', runId: 'r' }).seq).toBe(4);
    expect(bus.publish({ kind: 'k', runId: 'r' }).laneSeq).toBe(5);
    expect(() => bus.publish({ kind: 'k', runId: 'r' })).toThrow(BackpressureError);
    demand.next(10);
    expect(seqs(sub.frames)).toEqual([1, 2, 4, 5]);
  });

  it('publish returns the frame it committed when a classifier published in between', async () => {
    const { Subject } = await import('rxjs');
    const bus = new EventBus();
    let nested = false;
    // The room check runs the subscriber's classifier after the frame is stamped: a publish from
    // there takes the seq, so the outer frame is stamped again before it is committed.
    const sub = collect(
      bus,
      {},
      {
        queue: {
          capacity: 8,
          overflow: 'backpressure',
          demand: new Subject<number>(),
          classify: (frame) => {
            if (frame.kind === 'outer' && !nested) {
              nested = true;
              bus.publish({ kind: 'inner' });
            }
            return 'normal';
          },
        },
      },
    );
    const other = collect(bus, {});
    const outer = bus.publish({ kind: 'outer' });
    expect(outer).toMatchObject({ kind: 'outer', seq: 2, laneSeq: 2 });
    expect(other.frames.map((f) => [f.kind, f.seq])).toEqual([
      ['inner', 1],
      ['outer', 2],
    ]);
    expect(other.frames[1]).toBe(outer);
    expect(sub.error).toBeUndefined();
  });

  it('a terminal frame always has room', async () => {
    const { Subject } = await import('rxjs');
    const demand = new Subject<number>();
    const bus = new EventBus();
    collect(bus, {}, { queue: { capacity: 1, overflow: 'backpressure', demand } });
    bus.publish({ kind: 'k' });
    expect(() => bus.publish({ kind: 'k' })).toThrow(BackpressureError);
    expect(bus.publish({ kind: 'run.finished' }).seq).toBe(2);
  });

  it('send waits for room and resolves in order', async () => {
    const { Subject } = await import('rxjs');
    const demand = new Subject<number>();
    const bus = new EventBus();
    const sub = collect(bus, {}, { queue: bpQueue(demand) });
    const order: number[] = [];
    const sends = [1, 2, 3, 4, 5].map((n) =>
      bus.send({ kind: 'k', payload: n }).then((f) => {
        order.push(f.payload as number);
        return f;
      }),
    );
    await tick();
    expect(order).toEqual([1, 2]);
    expect(bus.metrics().pendingSends).toBe(3);
    demand.next(1);
    await tick();
    expect(order).toEqual([1, 2, 3]);
    demand.next(5);
    await Promise.all(sends);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(await Promise.all(sends))).toEqual([1, 2, 3, 4, 5]);
    demand.next(5);
    expect(sub.frames.map((f) => f.payload)).toEqual([1, 2, 3, 4, 5]);
  });

  it('unsubscribing the full subscriber releases the sends', async () => {
    const { Subject } = await import('rxjs');
    const bus = new EventBus();
    const sub = collect(bus, {}, { queue: bpQueue(new Subject<number>()) });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    const pending = bus.send({ kind: 'k' });
    sub.subscription.unsubscribe();
    expect((await pending).seq).toBe(3);
  });

  it('close rejects pending sends with BusClosedError', async () => {
    const { Subject } = await import('rxjs');
    const bus = new EventBus();
    collect(bus, {}, { queue: bpQueue(new Subject<number>()) });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    const pending = bus.send({ kind: 'k' });
    bus.close();
    await expect(pending).rejects.toBeInstanceOf(BusClosedError);
    await expect(bus.send({ kind: 'k' })).rejects.toBeInstanceOf(BusClosedError);
  });
});

describe('EventBus: close', () => {
  it('publish throws after close, subscribers complete after what they hold, idempotent', async () => {
    const bus = new EventBus();
    const direct = collect(bus, {});
    const queued = collect(bus, {}, { queue: { capacity: 10, overflow: 'drop-oldest' } });
    let eventsDone = false;
    bus.events$.subscribe({ complete: () => (eventsDone = true) });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    bus.close();
    bus.close();
    expect(direct.completed).toBe(true);
    expect(eventsDone).toBe(true);
    expect(queued.completed).toBe(false);
    expect(() => bus.publish({ kind: 'k' })).toThrow(BusClosedError);
    await tick();
    expect(seqs(queued.frames)).toEqual([1, 2]);
    expect(queued.completed).toBe(true);
    expect(bus.isClosed).toBe(true);
  });

  it('a select after close replays its cursor then completes', () => {
    const bus = new EventBus();
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    bus.close();
    const late = collect(bus, {}, { after: 0 });
    expect(seqs(late.frames)).toEqual([1, 2]);
    expect(late.completed).toBe(true);
    expect(collect(bus, {}).completed).toBe(true);
  });
});

describe('EventBus: re-entrance and throwing subscribers', () => {
  it('a subscriber that publishes while receiving keeps every subscriber in seq order', () => {
    const bus = new EventBus();
    const first: number[] = [];
    const second: number[] = [];
    bus.select({}).subscribe((f) => {
      first.push(f.seq);
      if (f.kind === 'ping') bus.publish({ kind: 'pong' });
    });
    bus.select({}).subscribe((f) => second.push(f.seq));
    bus.publish({ kind: 'ping' });
    bus.publish({ kind: 'ping' });
    expect(first).toEqual([1, 2, 3, 4]);
    expect(second).toEqual([1, 2, 3, 4]);
  });

  it('delivers to the subscribers of one run in the order they subscribed, as they come and go', () => {
    const bus = new EventBus();
    const order: string[] = [];
    const subscribe = (name: string) =>
      bus.select({ runId: 'r' }).subscribe((f) => order.push(`${name}${f.seq}`));
    const a = subscribe('a');
    subscribe('b');
    subscribe('c');
    bus.publish({ kind: 'k', runId: 'r' });
    a.unsubscribe();
    subscribe('d');
    bus.publish({ kind: 'k', runId: 'r' });
    expect(order).toEqual(['a1', 'b1', 'c1', 'b2', 'c2', 'd2']);
  });

  it('a subscriber added during delivery gets the next frame, not the current one', () => {
    const bus = new EventBus();
    const got: string[] = [];
    bus.select({ runId: 'r' }).subscribe((f) => {
      got.push(`a${f.seq}`);
      if (f.seq === 1) bus.select({ runId: 'r' }).subscribe((g) => got.push(`late${g.seq}`));
    });
    bus.publish({ kind: 'k', runId: 'r' });
    bus.publish({ kind: 'k', runId: 'r' });
    expect(got).toEqual(['a1', 'a2', 'late2']);
  });

  it('a subscriber that unsubscribes another during delivery stops it at once', () => {
    const bus = new EventBus();
    const got: number[] = [];
    let victim: Subscription | undefined;
    bus.select({}).subscribe((f) => {
      if (f.seq === 2) victim?.unsubscribe();
    });
    victim = bus.select({}).subscribe((f) => got.push(f.seq));
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'k' });
    expect(got).toEqual([1]);
  });

  describe('with a throwing subscriber', () => {
    const reported: unknown[] = [];
    beforeEach(() => {
      config.onUnhandledError = (e) => reported.push(e);
    });
    afterEach(() => {
      config.onUnhandledError = null;
      reported.length = 0;
    });

    it('does not break the bus or the other subscribers', async () => {
      const bus = new EventBus();
      const boom = new Error('subscriber bug');
      bus.select({}).subscribe(() => {
        throw boom;
      });
      const other = collect(bus, {});
      expect(bus.publish({ kind: 'k' }).seq).toBe(1);
      expect(bus.publish({ kind: 'k' }).seq).toBe(2);
      expect(seqs(other.frames)).toEqual([1, 2]);
      await tick();
      expect(reported).toEqual([boom, boom]);
    });
  });
});

describe('EventBus: validation', () => {
  it.each([
    [null, 'event'],
    ['x', 'event'],
    [[], 'event'],
    [{}, 'kind'],
    [{ kind: '' }, 'kind'],
    [{ kind: 3 }, 'kind'],
    [{ kind: 'k', runId: 3 }, 'runId'],
    [{ kind: 'k', runId: '' }, 'runId'],
    [{ kind: 'k', agentId: {} }, 'agentId'],
    [{ kind: 'k', laneId: null }, 'laneId'],
    [{ kind: 'k', visibility: 'secret' }, 'visibility'],
  ])('publish(%o) throws InvalidEventError naming %s, bus unchanged', (event, field) => {
    const bus = new EventBus();
    const sub = collect(bus, { visibility: 'private' });
    expect(() => bus.publish(event as never)).toThrow(InvalidEventError);
    try {
      bus.publish(event as never);
    } catch (error) {
      expect((error as InvalidEventError).field).toBe(field);
      expect((error as Error).message).toContain(field === 'event' ? 'object' : field);
    }
    expect(bus.metrics()).toMatchObject({ published: 0, rejected: 2, historySize: 0 });
    expect(sub.frames).toEqual([]);
    expect(bus.publish({ kind: 'ok' }).seq).toBe(1);
  });

  it('send rejects a bad event', async () => {
    const bus = new EventBus();
    await expect(bus.send({ kind: '' })).rejects.toBeInstanceOf(InvalidEventError);
    expect(bus.metrics().rejected).toBe(1);
  });

  it('the validate option refuses events; other throws are wrapped', () => {
    const cause = new Error('nope');
    const bus = new EventBus({
      validate: (e) => {
        if (e.kind === 'bad') throw cause;
      },
    });
    try {
      bus.publish({ kind: 'bad' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as Error).cause).toBe(cause);
      expect((error as Error).message).toContain('nope');
    }
    expect(bus.publish({ kind: 'good' }).seq).toBe(1);
  });

  it('rejectHiddenReasoning refuses reasoning outside private events', () => {
    const bus = new EventBus({ validate: rejectHiddenReasoning });
    const attempt = (event: AgentEvent) => {
      try {
        bus.publish(event);
        return 'ok';
      } catch (error) {
        return (error as InvalidEventError).field;
      }
    };
    expect(attempt({ kind: 'm', payload: { text: 'a', reasoning: 'secret' } })).toBe(
      'payload.reasoning',
    );
    expect(attempt({ kind: 'm', visibility: 'internal', payload: { chain_of_thought: 'x' } })).toBe(
      'payload.chain_of_thought',
    );
    expect(attempt({ kind: 'm', payload: { message: { thinking: 'x' } } })).toBe(
      'payload.message.thinking',
    );
    expect(attempt({ kind: 'm', visibility: 'private', payload: { reasoning: 'x' } })).toBe('ok');
    expect(attempt({ kind: 'm', payload: { reasoning: '' } })).toBe('ok');
    expect(attempt({ kind: 'reasoning.summary', payload: { summary: 'checked the docs' } })).toBe(
      'ok',
    );
    expect(bus.metrics()).toMatchObject({ published: 3, rejected: 3 });
  });

  it.each([
    [{ history: -1 }, RangeError, 'history'],
    [{ history: 1.5 }, RangeError, 'history'],
    [{ archive: {} }, TypeError, 'archive'],
    [{ classify: 'x' }, TypeError, 'classify'],
    [{ validate: 1 }, TypeError, 'validate'],
    [{ scheduler: {} }, TypeError, 'scheduler'],
  ])('new EventBus(%o) throws %o naming the option', (options, type, name) => {
    expect(() => new EventBus(options as never)).toThrow(type);
    expect(() => new EventBus(options as never)).toThrow(name);
  });

  it.each([
    [() => new EventBus().select({ runId: 3 } as never), TypeError, 'runId'],
    [() => new EventBus().select({ kinds: 'abc' } as never), TypeError, 'kinds'],
    [() => new EventBus().select({ kinds: [1] } as never), TypeError, 'kinds'],
    [() => new EventBus().select({ visibility: 'all' } as never), TypeError, 'visibility'],
    [() => new EventBus().select({ where: 1 } as never), TypeError, 'where'],
    [() => new EventBus().select({ runID: 'x' } as never), TypeError, 'runID'],
    [() => new EventBus().select({}, { after: -1 }), RangeError, 'after'],
    [() => new EventBus().select({}, { after: 1.5 }), RangeError, 'after'],
    [
      () => new EventBus().select({}, { queue: { capacity: 0, overflow: 'drop-oldest' } }),
      RangeError,
      'capacity',
    ],
    [
      () => new EventBus().select({}, { queue: { capacity: 2, overflow: 'lose' } as never }),
      TypeError,
      'overflow',
    ],
    [
      () =>
        new EventBus().select(
          {},
          { queue: { capacity: 2, overflow: 'backpressure', terminalReserve: 2 } },
        ),
      RangeError,
      'terminalReserve',
    ],
    [
      () =>
        new EventBus().select(
          {},
          { queue: { capacity: 2, overflow: 'drop-oldest', demand: [1], flushOn: [1] } },
        ),
      RangeError,
      'demand',
    ],
    [() => new EventBus().replay({}, -2), RangeError, 'after'],
    [() => new EventBus().metrics$(0), RangeError, 'period'],
    [
      () =>
        new EventBus().iterate(
          {},
          { queue: { capacity: 2, overflow: 'drop-oldest', demand: [1] } },
        ),
      TypeError,
      'demand',
    ],
  ])('bad argument %#: throws at the call', (call, type, name) => {
    expect(call).toThrow(type);
    expect(call).toThrow(name);
  });
});

describe('EventBus: iterate', () => {
  it('pulls replayed then live frames and stops on break', async () => {
    const bus = new EventBus();
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const frame of bus.iterate({}, { after: 0 })) {
        seen.push(frame.kind);
        if (frame.kind === 'run.finished') break;
      }
    })();
    await tick();
    bus.publish({ kind: 'c' });
    bus.publish({ kind: 'run.finished' });
    await loop;
    expect(seen).toEqual(['a', 'b', 'c', 'run.finished']);
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it('frames wait in the bus-side queue until the loop asks, so its policy applies', async () => {
    const bus = new EventBus();
    const iterator = bus.iterate({}, { queue: { capacity: 3, overflow: 'drop-oldest' } });
    const first = iterator.next();
    for (let i = 0; i < 10; i++) bus.publish({ kind: 'model.delta' });
    expect((await first).value?.seq).toBe(1);
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 2, dropped: 7 });
    const second = await iterator.next();
    expect(second.value?.seq).toBe(9);
    expect(second.value?.overflow).toMatchObject({ dropped: 7, fromSeq: 2, toSeq: 8 });
    await iterator.return?.();
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it("with 'backpressure', publish refuses while the loop lags, and send waits", async () => {
    const bus = new EventBus();
    // Capacity 3 with the bus classifier: 1 slot reserved for terminal frames.
    const iterator = bus.iterate({}, { queue: { capacity: 3, overflow: 'backpressure' } });
    const first = iterator.next();
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    expect(() => bus.publish({ kind: 'k' })).toThrow(BackpressureError);
    const sent = bus.send({ kind: 'k' });
    expect((await first).value?.seq).toBe(1);
    await iterator.next();
    expect((await sent).seq).toBe(4);
    await iterator.return?.();
  });

  it('an abort signal rejects pending and later next() calls and unsubscribes', async () => {
    const bus = new EventBus();
    const controller = new AbortController();
    const iterator = bus.iterate({}, { signal: controller.signal });
    const pending = iterator.next();
    expect(bus.metrics().subscribers).toHaveLength(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(iterator.next()).rejects.toBe(reason);
    expect(bus.metrics().subscribers).toEqual([]);
    expect(bus.publish({ kind: 'k' }).seq).toBe(1);
  });

  it('ends when the bus closes, after what it holds', async () => {
    const bus = new EventBus();
    const iterator = bus.iterate({}, { after: 0 });
    bus.publish({ kind: 'a' });
    bus.close();
    const kinds: string[] = [];
    for await (const frame of iterator) kinds.push(frame.kind);
    expect(kinds).toEqual(['a']);
  });
});

describe('EventBus: metrics', () => {
  it('metrics$ subscribed after close completes at once', () => {
    const bus = new EventBus();
    bus.close();
    let completed = false;
    const emitted: unknown[] = [];
    bus
      .metrics$(10)
      .subscribe({ next: (m) => emitted.push(m), complete: () => (completed = true) });
    expect(completed).toBe(true);
    expect(emitted).toEqual([]);
  });

  it('reports each subscriber with its filter, kinds read once into an array', () => {
    const bus = new EventBus();
    bus.select({ runId: 'r1', kinds: new Set(['a']) }).subscribe();
    bus.select().subscribe();
    expect(bus.metrics().subscribers.map((s) => s.filter)).toEqual([
      { runId: 'r1', kinds: ['a'] },
      {},
    ]);
  });

  it('counts published, per kind, history and per-subscriber lag', () => {
    const bus = new EventBus({ history: 2 });
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' });
    bus.publish({ kind: 'a' });
    expect(bus.metrics()).toMatchObject({
      published: 3,
      rejected: 0,
      byKind: { a: 2, b: 1 },
      historySize: 2,
      subscribers: [],
    });
  });

  it('types', () => {
    const bus = new EventBus<{ text: string }>();
    expectTypeOf(bus.publish({ kind: 'k', payload: { text: 'x' } })).toEqualTypeOf<
      EventFrame<{ text: string }>
    >();
    expectTypeOf(bus.select()).toEqualTypeOf<
      import('rxjs').Observable<EventFrame<{ text: string }>>
    >();
    expectTypeOf(bus.iterate()).toEqualTypeOf<
      AsyncIterableIterator<EventFrame<{ text: string }>>
    >();
    expectTypeOf(bus.send).returns.toEqualTypeOf<Promise<EventFrame<{ text: string }>>>();
  });
});

describe('EventBus: edge cases of the hand-off', () => {
  it('a subscriber added during a delivery starts after the frames already published', () => {
    const bus = new EventBus();
    const late: number[] = [];
    bus.select().subscribe((f) => {
      if (f.seq === 1) {
        bus.publish({ kind: 'k' }); // seq 2: stamped now, delivered after seq 1 is done
        bus.select().subscribe((g) => late.push(g.seq));
      }
    });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    expect(late).toEqual([3]);
  });

  it('a subscriber that publishes while being replayed to gets everything once, in order', () => {
    const bus = new EventBus();
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'old' });
    const seen: number[] = [];
    bus.select({}, { after: 0 }).subscribe((f) => {
      seen.push(f.seq);
      if (f.kind === 'old') bus.publish({ kind: 'new' });
    });
    bus.publish({ kind: 'new' });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('unsubscribing during the replay stops it at once', async () => {
    const { take, tap } = await import('rxjs');
    const bus = new EventBus();
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'k' });
    const offered: number[] = [];
    const seen: number[] = [];
    bus
      .select({}, { after: 0 })
      .pipe(
        tap((f) => offered.push(f.seq)),
        take(2),
      )
      .subscribe((f) => seen.push(f.seq));
    expect(seen).toEqual([1, 2]);
    expect(offered).toEqual([1, 2]);
    bus.publish({ kind: 'k' });
    expect(offered).toEqual([1, 2]);
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it('close during an asynchronous archive replay: replay, held frames, then complete', async () => {
    const memory = new MemoryArchive();
    let answer: (() => void) | undefined;
    const bus = new EventBus({
      history: 1,
      archive: {
        append: (f) => memory.append(f),
        replay: (filter, after) =>
          new Observable<EventFrame>((subscriber) => {
            answer = () => memory.replay(filter, after).subscribe(subscriber);
          }),
      },
    });
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 0 });
    bus.publish({ kind: 'k' });
    bus.close();
    expect(sub.completed).toBe(false);
    answer?.();
    await tick();
    expect(sub.error).toBeUndefined();
    expect(seqs(sub.frames)).toEqual([1, 2, 3, 4]);
    expect(sub.completed).toBe(true);
  });
});

describe('EventBus: a misbehaving archive', () => {
  it('a replay that emits something other than a frame errors the subscriber', () => {
    const bus = new EventBus({
      history: 1,
      archive: { append: () => {}, replay: () => [[1, 2]] as never },
    });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    const sub = collect(bus, {}, { after: 0 });
    expect(sub.error).toBeInstanceOf(TypeError);
    expect((sub.error as Error).message).toContain('archive');
    expect(bus.publish({ kind: 'k' }).seq).toBe(3);
  });
});

describe('EventBus: the history option', () => {
  it.each([
    [2 ** 32, '4294967296'],
    [1e9, '1000000000'],
    [MAX_HISTORY + 1, String(MAX_HISTORY + 1)],
    [-1, '-1'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('history %d is refused at creation, naming the maximum', (history, shown) => {
    expect(() => new EventBus({ history })).toThrow(
      new RangeError(`EventBus: history must be an integer from 0 to ${MAX_HISTORY}, got ${shown}`),
    );
  });

  it('the maximum is 2 ** 24, and a bus that large allocates history only as frames arrive', () => {
    expect(MAX_HISTORY).toBe(2 ** 24);
    const before = process.memoryUsage().heapUsed;
    const buses = [1, 2, 3, 4].map(() => new EventBus({ history: MAX_HISTORY }));
    for (const bus of buses) for (let i = 0; i < 10; i++) bus.publish({ kind: 'a' });
    // A history allocated up front would take 128 MB per bus.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 2 ** 20);
    const late = collect(buses[0] as EventBus, {}, { after: 7 });
    expect(seqs(late.frames)).toEqual([8, 9, 10]);
    expect(buses[0]?.metrics().historySize).toBe(10);
  });
});

describe('EventBus: queue options are checked at the call, naming the bus', () => {
  const queue = (extra: Record<string, unknown>) =>
    ({ capacity: 2, overflow: 'drop-oldest', ...extra }) as SubscriberQueue<unknown>;
  const schedulerMessage = 'a SchedulerLike (with schedule and now)';

  it.each([
    [{ demand: 3 }, TypeError, 'demand must be an ObservableInput, got 3'],
    [{ flushOn: 3 }, TypeError, 'flushOn must be an ObservableInput, got 3'],
    [{ flushOn: null }, TypeError, 'flushOn must be an ObservableInput, got null'],
    [{ scheduler: {} }, TypeError, `scheduler must be ${schedulerMessage}, got {}`],
    [{ scheduler: null }, TypeError, `scheduler must be ${schedulerMessage}, got null`],
    [{ inspect: 1 }, TypeError, 'inspect must be a function, got 1'],
    [
      { demand: [1], flushOn: [1] },
      RangeError,
      'demand and flushOn cannot be combined; give one of them',
    ],
  ])('select queue %o: %o at select()', (extra, type, message) => {
    const bus = new EventBus();
    expect(() => bus.select({}, { queue: queue(extra) })).toThrow(
      new type(`EventBus.select queue: ${message}`),
    );
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it.each([
    [{ scheduler: {} }, TypeError, `scheduler must be ${schedulerMessage}, got {}`],
    [{ inspect: 'x' }, TypeError, 'inspect must be a function, got "x"'],
    [{ capacity: 0 }, RangeError, 'capacity must be a positive integer, got 0'],
  ])('iterate queue %o: %o at iterate()', (extra, type, message) => {
    const bus = new EventBus();
    expect(() => bus.iterate({}, { queue: queue(extra) })).toThrow(
      new type(`EventBus.iterate queue: ${message}`),
    );
  });

  it('good drain options are accepted and used', () => {
    const bus = new EventBus();
    let readStats: (() => { depth: number }) | undefined;
    const demand = new Subject<number>();
    const sub = collect(
      bus,
      {},
      {
        queue: queue({
          capacity: 4,
          demand,
          inspect: (read: () => { depth: number }) => {
            readStats = read;
          },
        }),
      },
    );
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' });
    expect([seqs(sub.frames), readStats?.().depth]).toEqual([[], 2]);
    demand.next(1);
    expect([seqs(sub.frames), readStats?.().depth]).toEqual([[1], 1]);
    const scheduled = collect(bus, {}, { queue: queue({ scheduler: queueScheduler }) });
    bus.publish({ kind: 'c' });
    expect(seqs(scheduled.frames)).toEqual([3]);
  });
});
