import fc from 'fast-check';
import { defer, from, Observable, Subject, switchMap, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { agentEventKey, mergeAgentProgress } from '../../src/bus/agentEvents.js';
import { EventBus } from '../../src/bus/EventBus.js';
import { BackpressureError, EpochChangedError } from '../../src/bus/errors.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventArchive, EventFrame } from '../../src/bus/types.js';
import {
  coalesce,
  type OverflowNotice,
  type OverflowPolicy,
  QueueOverflowError,
} from '../../src/core/types.js';
import {
  createTestBus,
  createTestScheduler,
  demandFrom,
  framesMarble,
  notice,
  publishMarble,
} from '../../src/testing/index.js';

// The bus's contract decisions (docs/architecture.md, "The bus's contract"), one block each.

const seqs = (frames: EventFrame[]): number[] => frames.map((f) => f.seq);

describe('delivery is in increasing seq order, whatever the policy', () => {
  it('keyed coalesce: the merged frame stands where its newest part stood, with its seq', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const events = {
        d: { kind: 'model.delta', runId: 'r', payload: { text: 'a' } },
        t: { kind: 'tool.call', runId: 'r' },
        u: { kind: 'usage', runId: 'r' },
        e: { kind: 'model.delta', runId: 'r', payload: { text: 'b' } },
      };
      // Four slots, one kept for terminals: d, t, u fill it; e merges into d, and the merged
      // frame moves to where e stood, so seq order holds: t, u, then d+e (seq 4).
      const frames$ = bus.select(
        {},
        {
          queue: {
            capacity: 4,
            overflow: coalesce(mergeAgentProgress, agentEventKey),
            demand: demandFrom('------i'),
          },
        },
      );
      expectObservable(framesMarble(frames$, bus)).toBe('------(ntue)', {
        n: notice({ merged: 1, fromSeq: 1, toSeq: 4 }),
        t: 't',
        u: 'u',
        e: 'e',
      });
      publishMarble(bus, '-dtue', events);
    });
  });

  it('property: after seeing seq S, every matching frame up to S was delivered, merged or counted', () => {
    const kinds = ['model.delta', 'usage', 'tool.call', 'run.finished'] as const;
    const op = fc.oneof(
      fc.record({
        t: fc.constant('publish' as const),
        kind: fc.constantFrom(...kinds),
        run: fc.constantFrom('a', 'b'),
        lane: fc.constantFrom('main', 'x'),
      }),
      fc.record({ t: fc.constant('grant' as const), n: fc.integer({ min: 0, max: 3 }) }),
    );
    const policies = fc.constantFrom(
      'drop-oldest' as const,
      'drop-incoming' as const,
      'drop-progress' as const,
      'coalesce-keyed' as const,
      'coalesce' as const,
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        policies,
        fc.integer({ min: 1, max: 4 }),
        (ops, policyName, capacity) => {
          const bus = new EventBus();
          const demand = new Subject<number>();
          const overflow: OverflowPolicy<EventFrame> =
            policyName === 'coalesce-keyed'
              ? coalesce(mergeAgentProgress, agentEventKey)
              : policyName === 'coalesce'
                ? coalesce(mergeAgentProgress)
                : policyName;
          const seen: EventFrame[] = [];
          const notices: OverflowNotice<EventFrame>[] = [];
          bus.select({ runId: 'a' }, { queue: { capacity, overflow, demand } }).subscribe((f) => {
            seen.push(f);
            if (f.overflow !== undefined) notices.push(f.overflow);
          });
          const published: EventFrame[] = [];
          for (const o of ops) {
            if (o.t === 'publish') {
              published.push(bus.publish({ kind: o.kind, runId: o.run, laneId: o.lane }));
            } else demand.next(o.n);
          }
          const delivered = seqs(seen);
          for (let i = 1; i < delivered.length; i++) {
            expect(delivered[i]).toBeGreaterThan(delivered[i - 1] as number);
          }
          const last = delivered[delivered.length - 1] ?? 0;
          const covered = (seq: number) =>
            delivered.includes(seq) ||
            seen.some((f) => {
              const summary = (f as { summary?: { firstSeq?: number; lastSeq?: number } }).summary;
              return summary !== undefined && (summary.firstSeq ?? 0) <= seq && seq <= f.seq;
            }) ||
            notices.some((n) => (n.fromSeq as number) <= seq && seq <= (n.toSeq as number));
          for (const frame of published) {
            if (frame.runId === 'a' && frame.seq <= last) expect(covered(frame.seq)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a subscriber behind the head reads the log at its own pace', () => {
  it('holds no more than its queue: a million-frame history is read only as demand allows', () => {
    const bus = new EventBus({ history: 50_000 });
    for (let i = 0; i < 50_000; i++) bus.publish({ kind: 'k' });
    const demand = new Subject<number>();
    const seen: number[] = [];
    bus
      .select({}, { after: 0, queue: { capacity: 4, overflow: 'drop-oldest', demand } })
      .subscribe((f) => seen.push(f.seq));
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 0, replaying: true });
    demand.next(3);
    expect(seen).toEqual([1, 2, 3]);
    // Nothing was dropped: the log still holds what the subscriber has not read.
    bus.publish({ kind: 'k' });
    demand.next(Number.POSITIVE_INFINITY);
    expect(seen).toHaveLength(50_001);
    expect(bus.metrics().subscribers[0]).toMatchObject({ dropped: 0, replaying: false });
  });

  it('live frames published while an archive answers stay in the log, not in memory per subscriber', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ flush }) => {
      const memory = new MemoryArchive();
      const archive: EventArchive = {
        append: (f) => memory.append(f),
        replay: (filter, after) =>
          defer(() => from(memory.replay(filter, after)).pipe(toArray())).pipe(
            switchMap((frames) => timer(10).pipe(switchMap(() => from(frames)))),
          ),
      };
      const bus = new EventBus({ history: 5, archive });
      for (let i = 0; i < 20; i++) bus.publish({ kind: 'k', payload: { n: i } });
      const seen: number[] = [];
      bus
        .select({}, { after: 0, queue: { capacity: 5, overflow: 'drop-oldest' } })
        .subscribe((f) => seen.push(f.seq));
      for (let i = 0; i < 2000; i++) bus.publish({ kind: 'k', payload: { n: i } });
      // While it waits for the archive, the subscriber holds nothing: the frames are in the log.
      expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 0, replaying: true });
      flush();
      expect(seen).toEqual(Array.from({ length: 2020 }, (_, i) => i + 1));
    });
  });

  it('a cursor older than history, with no frame after it matching: replay errors with the notice', () => {
    const bus = new EventBus({ history: 2 });
    for (let i = 0; i < 6; i++) bus.publish({ kind: i === 0 ? 'wanted' : 'other' });
    let failure: unknown;
    bus.replay({ kinds: ['wanted'] }, 0).subscribe({
      complete: () => expect.unreachable('completed as if nothing were lost'),
      error: (e) => (failure = e),
    });
    expect(failure).toBeInstanceOf(QueueOverflowError);
    expect((failure as QueueOverflowError).notice).toMatchObject({
      dropped: 4,
      fromSeq: 1,
      toSeq: 4,
      terminalPreserved: false,
    });
  });

  it('…and a live select hears of it at once (onOverflow, metrics), then on its next frame', () => {
    const bus = new EventBus({ history: 2 });
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'other' });
    const heard: OverflowNotice<EventFrame>[] = [];
    const seen: EventFrame[] = [];
    bus
      .select(
        { kinds: ['wanted'] },
        {
          after: 0,
          queue: { capacity: 4, overflow: 'drop-oldest', onOverflow: (n) => heard.push(n) },
        },
      )
      .subscribe((f) => seen.push(f));
    expect(heard).toEqual([expect.objectContaining({ dropped: 4, fromSeq: 1, toSeq: 4 })]);
    expect(bus.metrics().subscribers[0]).toMatchObject({ dropped: 4, replaying: false });
    bus.publish({ kind: 'wanted' });
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(seen.map((f) => [f.seq, f.overflow?.fromSeq])).toEqual([[7, 1]]);
        resolve();
      }),
    );
  });

  it('a failing archive errors the subscriber after the frames it already read', () => {
    const archive: EventArchive = {
      append: () => undefined,
      replay: () =>
        new Observable<EventFrame>((s) => {
          s.next({ kind: 'k', seq: 1, laneSeq: 1, laneId: 'main', ts: 0 });
          s.next({ kind: 'k', seq: 2, laneSeq: 2, laneId: 'main', ts: 0 });
          s.error(new Error('disk gone'));
        }),
    };
    const bus = new EventBus({ history: 1, archive });
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'k' });
    const seen: number[] = [];
    let failure: unknown;
    bus
      .select({}, { after: 0 })
      .subscribe({ next: (f) => seen.push(f.seq), error: (e) => (failure = e) });
    expect(seen).toEqual([1, 2]);
    expect(String(failure)).toContain('disk gone');
  });

  it('a throwing where errors the subscriber after the frames its queue had accepted', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const seen: number[] = [];
    let failure: unknown;
    bus
      .select(
        {
          where: (f) => {
            if (f.seq === 3) throw new Error('where failed');
            return true;
          },
        },
        { queue: { capacity: 8, overflow: 'drop-oldest', demand } },
      )
      .subscribe({ next: (f) => seen.push(f.seq), error: (e) => (failure = e) });
    for (let i = 0; i < 4; i++) bus.publish({ kind: 'k' });
    expect(failure).toBeUndefined();
    demand.next(10);
    expect(seen).toEqual([1, 2]);
    expect(String(failure)).toContain('where failed');
  });
});

describe("'backpressure' counts every frame its subscriber will get", () => {
  it('frames published from inside a delivery count against its capacity', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    bus
      .select({ runId: 'slow' }, { queue: { capacity: 3, overflow: 'backpressure', demand } })
      .subscribe();
    let refused = 0;
    bus.select({ runId: 'trigger' }).subscribe(() => {
      for (let i = 0; i < 10; i++) {
        try {
          bus.publish({ kind: 'k', runId: 'slow' });
        } catch (error) {
          expect(error).toBeInstanceOf(BackpressureError);
          refused++;
        }
      }
    });
    bus.publish({ kind: 'go', runId: 'trigger' });
    // Capacity 3 with one slot kept for terminal frames: two of the ten fit.
    expect(refused).toBe(8);
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 2, highWater: 2 });
  });
});

describe('send keeps order within a run only', () => {
  it('a send waits behind its own run, never behind another', async () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const got: number[] = [];
    bus
      .select({ runId: 'a' }, { queue: { capacity: 1, overflow: 'backpressure', demand } })
      .subscribe((f) => got.push(f.seq));
    bus.publish({ kind: 'k', runId: 'a' }); // fills the queue
    const order: string[] = [];
    const a1 = bus.send({ kind: 'k', runId: 'a' }).then(() => order.push('a1'));
    const b1 = bus.send({ kind: 'k', runId: 'b' }).then(() => order.push('b1'));
    const a2 = bus.send({ kind: 'k', runId: 'a' }).then(() => order.push('a2'));
    await b1;
    expect(order).toEqual(['b1']);
    demand.next(1);
    demand.next(1);
    demand.next(1);
    await Promise.all([a1, a2]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
    expect(got).toEqual([1, 3, 4]);
  });
});

describe('every bus has an epoch', () => {
  it('a cursor from another epoch is refused; from this one it reads on', () => {
    const first = new EventBus();
    const second = new EventBus();
    expect(first.epoch).toMatch(/^[0-9a-z]{8,}$/);
    expect(second.epoch).not.toBe(first.epoch);
    first.publish({ kind: 'k' });
    second.publish({ kind: 'k' });
    let failure: unknown;
    second.select({}, { after: 0, epoch: first.epoch }).subscribe({ error: (e) => (failure = e) });
    expect(failure).toBeInstanceOf(EpochChangedError);
    expect(failure).toMatchObject({ expected: first.epoch, actual: second.epoch, after: 0 });
    const seen: number[] = [];
    second.select({}, { after: 0, epoch: second.epoch }).subscribe((f) => seen.push(f.seq));
    expect(seen).toEqual([1]);
    expect(() => second.select({}, { epoch: '' as string })).toThrow(
      'EventBus.select: epoch must be a non-empty string',
    );
  });
});

describe('a queued subscriber classifies each frame once', () => {
  it.each(['drop-oldest', 'backpressure'] as const)(
    '%s: ten publishes, ten classify calls',
    (overflow) => {
      let calls = 0;
      const bus = new EventBus({
        classify: () => {
          calls++;
          return 'normal';
        },
      });
      const demand = new Subject<number>();
      bus.select({}, { queue: { capacity: 100, overflow, demand } }).subscribe();
      for (let i = 0; i < 10; i++) bus.publish({ kind: 'k' });
      demand.next(100);
      expect(calls).toBe(10);
    },
  );
});

describe('reading the log in batches', () => {
  it('a flushOn subscriber behind the head takes a queue-worth of the log per tick', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const seen: string[] = [];
    scheduler.run(({ hot }) => {
      const bus = new EventBus();
      for (let i = 0; i < 10; i++) bus.publish({ kind: 'k' });
      const flushOn = hot('--t--t--t');
      bus
        .select({}, { after: 0, queue: { capacity: 4, overflow: 'drop-oldest', flushOn } })
        .subscribe((f) => seen.push(`${scheduler.now()}:${f.seq}`));
    });
    expect(seen).toEqual([
      ...[1, 2, 3, 4].map((seq) => `2:${seq}`),
      ...[5, 6, 7, 8].map((seq) => `5:${seq}`),
      ...[9, 10].map((seq) => `8:${seq}`),
    ]);
  });
});

describe('an archive ahead of the head', () => {
  it('a filtered replay whose archive page starts past its end completes (it looped)', () => {
    // The archive holds frames this bus has not seen (another process appended them).
    const frames = [1, 2, 3, 4, 5].map((seq) => ({
      kind: seq === 5 ? 'wanted' : 'other',
      seq,
      laneSeq: seq,
      laneId: 'main',
      ts: 0,
    }));
    const archive: EventArchive = {
      append: () => undefined,
      replay: (filter, after) =>
        frames.filter(
          (f) =>
            f.seq > after && (filter.kinds === undefined || [...filter.kinds].includes(f.kind)),
        ),
    };
    const bus = new EventBus({ history: 0, archive });
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'other' });
    let completed = false;
    const seen: number[] = [];
    bus.replay({ kinds: ['wanted'] }, 0).subscribe({
      next: (f) => seen.push(f.seq),
      complete: () => (completed = true),
    });
    expect(seen).toEqual([]);
    expect(completed).toBe(true);
  });
});
