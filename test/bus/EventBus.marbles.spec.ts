import {
  defer,
  from,
  map,
  mergeMap,
  type Observable,
  type ObservableInput,
  Subject,
  switchMap,
  take,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { mergeAgentProgress } from '../../src/bus/agentEvents.js';
import { EventBus } from '../../src/bus/EventBus.js';
import { BackpressureError } from '../../src/bus/errors.js';
import type { MutableFrame } from '../../src/bus/frame.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { AgentEvent, EventArchive, EventFrame, SubscriberQueue } from '../../src/bus/types.js';
import { coalesce, type OverflowNotice, QueueOverflowError } from '../../src/core/types.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** The frame the bus makes of `event` as the `seq`-th frame at virtual time `ts`. */
function frame(
  seq: number,
  ts: number,
  event: AgentEvent,
  laneSeq = seq,
  overflow?: OverflowNotice<EventFrame>,
): EventFrame {
  const result: MutableFrame = { ...event, laneId: event.laneId ?? 'main', seq, laneSeq, ts };
  if (overflow !== undefined) result.overflow = overflow;
  return result;
}

/** Publishes every event of `source` on `bus`; closes the bus when it completes. */
function publishFrom(bus: EventBus, source: Observable<AgentEvent>): void {
  source.subscribe({ next: (event) => bus.publish(event), complete: () => bus.close() });
}

const delta = (text: string): AgentEvent => ({ kind: 'model.delta', payload: { text } });
const tool: AgentEvent = { kind: 'tool.call' };
const finished: AgentEvent = { kind: 'run.finished' };

describe('EventBus marbles: stamping and filters', () => {
  it('stamps seq, laneSeq and ts, and each filter sees its frames', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const events = {
        a: { kind: 'model.delta', runId: 'r1' },
        b: { kind: 'tool.call', runId: 'r2', visibility: 'internal' as const },
        c: { kind: 'run.finished', runId: 'r1' },
      };
      const r1a = frame(1, 1, events.a, 1);
      const r2b = frame(2, 3, events.b, 2);
      const r1c = frame(3, 5, events.c, 3);
      const publisher = hot('-a-b-c-|', events);
      expectObservable(bus.select({ runId: 'r1' })).toBe('-a---c-|', { a: r1a, c: r1c });
      expectObservable(bus.select({ visibility: 'internal' })).toBe('-a-b-c-|', {
        a: r1a,
        b: r2b,
        c: r1c,
      });
      expectObservable(bus.select()).toBe('-a---c-|', { a: r1a, c: r1c });
      expectObservable(bus.select({ kinds: ['tool.call'], visibility: 'private' })).toBe(
        '---b---|',
        { b: r2b },
      );
      expectObservable(bus.events$).toBe('-a-b-c-|', { a: r1a, b: r2b, c: r1c });
      publishFrom(bus, publisher);
    });
  });
});

describe('EventBus marbles: cursors', () => {
  it('replays from the cursor when subscribed, then goes live', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const publisher = hot('-a-b-c-------d-|', { a: tool, b: tool, c: tool, d: tool });
      const values = {
        b: frame(2, 3, tool),
        c: frame(3, 5, tool),
        d: frame(4, 13, tool),
      };
      expectObservable(bus.select({}, { after: 1 }), '------^').toBe('------(bc)---d-|', values);
      expectObservable(bus.select(), '------^').toBe('-------------d-|', values);
      publishFrom(bus, publisher);
    });
  });

  it('an early unsubscribe stops delivery at once', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const publisher = hot('-a-b-c-|', { a: tool, b: tool, c: tool });
      expectObservable(bus.select(), '^--!').toBe('-a--', { a: frame(1, 1, tool) });
      publishFrom(bus, publisher);
    });
  });
});

describe('EventBus marbles: a subscriber queue per policy', () => {
  // One burst: a normal frame, three progress frames, a terminal one; capacity 3 with the bus
  // classifier (one slot reserved for terminals), then the consumer asks for everything at 3.
  const burst = { n: tool, p: delta('p'), q: delta('q'), r: delta('r'), T: finished };
  const n = frame(1, 1, tool);
  const p = frame(2, 1, burst.p);
  const q = frame(3, 1, burst.q);
  const r = frame(4, 1, burst.r);
  const T = frame(5, 1, finished);
  const gap = (
    policy: OverflowNotice<EventFrame>['policy'],
    first: EventFrame,
    last: EventFrame,
  ): OverflowNotice<EventFrame> => ({
    policy,
    dropped: 2,
    merged: 0,
    first,
    last,
    fromSeq: first.seq,
    toSeq: last.seq,
    terminalPreserved: true,
  });
  const merged = mergeAgentProgress(mergeAgentProgress(p, q), r);

  it.each([
    ['drop-oldest', '---(qrT|)', { q: { ...q, overflow: gap('drop-oldest', n, p) }, r, T }],
    ['drop-incoming', '---(npT|)', { n: { ...n, overflow: gap('drop-incoming', q, r) }, p, T }],
    ['drop-progress', '---(nrT|)', { n: { ...n, overflow: gap('drop-progress', p, q) }, r, T }],
    [
      'coalesce',
      '---(nmT|)',
      {
        n: {
          ...n,
          // Nothing lost, so no first/last; the seq range spans the frames folded into one
          // (p, q, r: replaying from fromSeq - 1 gives them one by one).
          overflow: {
            policy: 'coalesce',
            dropped: 0,
            merged: 2,
            fromSeq: p.seq,
            toSeq: r.seq,
            terminalPreserved: true,
          },
        },
        m: merged,
        T,
      },
    ],
  ] as const)('%s', (policy, expected, values) => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const bus = new EventBus();
      const queue: SubscriberQueue = {
        capacity: 3,
        overflow:
          policy === 'coalesce'
            ? coalesce(mergeAgentProgress as (a: EventFrame, b: EventFrame) => EventFrame)
            : policy,
        demand: cold('---i', { i: Number.POSITIVE_INFINITY }),
      };
      expectObservable(bus.select({}, { queue })).toBe(expected, values);
      publishFrom(bus, hot('-(npqrT|)', burst));
    });
  });

  it("'error' delivers what it holds, then errors with QueueOverflowError", () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const bus = new EventBus();
      const queue: SubscriberQueue = {
        capacity: 3,
        overflow: 'error',
        demand: cold('---i', { i: Number.POSITIVE_INFINITY }),
      };
      const error = new QueueOverflowError(
        {
          policy: 'error',
          dropped: 1,
          merged: 0,
          first: q,
          last: q,
          fromSeq: q.seq,
          toSeq: q.seq,
          terminalPreserved: true,
        },
        3,
      );
      expectObservable(bus.select({}, { queue })).toBe('---(np#)', { n, p }, error);
      // A second subscriber without a queue is not affected.
      expectObservable(bus.select()).toBe('-(npqrT|)', { n, p, q, r, T });
      publishFrom(bus, hot('-(npqrT|)', burst));
    });
  });

  it("'backpressure' refuses publishes while full and lets them in as the consumer asks", () => {
    scheduler().run(({ hot, expectObservable, flush }) => {
      const bus = new EventBus();
      const refused: number[] = [];
      const queue: SubscriberQueue = {
        capacity: 2,
        overflow: 'backpressure',
        terminalReserve: 0,
        demand: hot('----1---1-1', { 1: 1 }),
      };
      const events = { a: tool, b: tool, c: tool, d: tool };
      expectObservable(bus.select({}, { queue })).toBe('----a---b-c', {
        a: frame(1, 1, tool),
        b: frame(2, 2, tool),
        c: frame(3, 6, tool),
      });
      hot('-abc--d', events).subscribe((event) => {
        try {
          bus.publish(event);
        } catch (error) {
          if (!(error instanceof BackpressureError)) throw error;
          refused.push(refused.length);
        }
      });
      flush();
      // c at 3 was refused (a and b held); d at 6 fit after the credit at 4 took a.
      expect(refused).toHaveLength(1);
      expect(bus.metrics().backpressured).toBe(1);
    });
  });

  it('send waits, in order, until the consumer makes room', () => {
    scheduler().run(({ hot, expectObservable, flush }) => {
      const bus = new EventBus();
      const resolved: number[] = [];
      const queue: SubscriberQueue = {
        capacity: 1,
        overflow: 'backpressure',
        demand: hot('---1-1-1', { 1: 1 }),
      };
      expectObservable(bus.select({}, { queue })).toBe('---a-b-c', {
        a: frame(1, 1, delta('a')),
        b: frame(2, 3, delta('b')),
        c: frame(3, 5, delta('c')),
      });
      hot('-(abc)').subscribe((text) => {
        void bus.send(delta(text)).then((f) => resolved.push(f.seq));
      });
      flush();
      expect(bus.metrics().pendingSends).toBe(0);
    });
  });
});

describe('EventBus marbles: close and re-entrance', () => {
  it('close lets each subscriber take what it holds, then completes it', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const bus = new EventBus();
      const values = { a: frame(1, 1, tool), b: frame(2, 2, tool) };
      const queue: SubscriberQueue = {
        capacity: 4,
        overflow: 'drop-oldest',
        demand: cold('-------1-1', { 1: 1 }),
      };
      expectObservable(bus.select({}, { queue })).toBe('-------a-(b|)', values);
      expectObservable(bus.select()).toBe('-ab-|', values);
      publishFrom(bus, hot('-ab-|', { a: tool, b: tool }));
    });
  });

  it('a subscriber that publishes while receiving keeps seq order for everyone', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const ping: AgentEvent = { kind: 'ping' };
      const pong: AgentEvent = { kind: 'pong' };
      bus.select({ kinds: ['ping'] }).subscribe(() => bus.publish(pong));
      expectObservable(bus.select()).toBe('-(ab)-(cd)', {
        a: frame(1, 1, ping),
        b: frame(2, 1, pong),
        c: frame(3, 6, ping),
        d: frame(4, 6, pong),
      });
      hot('-a----a', { a: ping }).subscribe((event) => bus.publish(event));
    });
  });

  it('a subscriber that unsubscribes another while receiving stops it before that frame', () => {
    scheduler().run(({ hot, expectObservable, flush }) => {
      const bus = new EventBus();
      const victim: number[] = [];
      let victimSubscription: { unsubscribe(): void } | undefined;
      bus.select().subscribe((f) => {
        if (f.seq === 2) victimSubscription?.unsubscribe();
      });
      victimSubscription = bus.select().subscribe((f) => victim.push(f.seq));
      expectObservable(bus.select()).toBe('-abc', {
        a: frame(1, 1, tool),
        b: frame(2, 2, tool),
        c: frame(3, 3, tool),
      });
      hot('-abc', { a: tool, b: tool, c: tool }).subscribe((e) => bus.publish(e));
      flush();
      expect(victim).toEqual([1]);
      expect(bus.metrics().subscribers.map((s) => s.id)).toEqual([1, 3]);
    });
  });

  it('a flushOn queue delivers what it holds at each tick', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const bus = new EventBus();
      const queue: SubscriberQueue = {
        capacity: 8,
        overflow: 'drop-oldest',
        flushOn: cold('---t---t---t'),
      };
      expectObservable(bus.select({}, { queue })).toBe('---(ab)c-|', {
        a: frame(1, 1, tool),
        b: frame(2, 2, tool),
        c: frame(3, 5, tool),
      });
      publishFrom(bus, hot('-ab--c---|', { a: tool, b: tool, c: tool }));
    });
  });

  it('metrics$ samples on the scheduler and completes with the bus', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const published$ = bus.metrics$(3).pipe(map((m) => m.published));
      expectObservable(published$).toBe('---a--b--c|', { a: 2, b: 3, c: 4 });
      publishFrom(bus, hot('-ab--c--d-|', { a: tool, b: tool, c: tool, d: tool }));
    });
  });
});

describe('EventBus marbles: the hand-off from an asynchronous archive', () => {
  /** An archive that answers `delay` frames after being asked. */
  function slowArchive(
    memory: MemoryArchive,
    delay: number,
    snapshot: 'at-ask' | 'at-answer',
  ): EventArchive {
    return {
      append: (f) => memory.append(f),
      replay: (filter, after): ObservableInput<EventFrame> => {
        if (snapshot === 'at-answer') {
          return timer(delay).pipe(switchMap(() => memory.replay(filter, after)));
        }
        const held = memory.replay(filter, after).pipe(toArray());
        return held.pipe(mergeMap((frames) => timer(delay).pipe(switchMap(() => from(frames)))));
      },
    };
  }

  it.each([
    ['at-ask', 3],
    ['at-answer', 3],
    ['at-ask', 20],
    ['at-answer', 20],
  ] as const)(
    'snapshot %s, answering after %i frames: every seq once, in order',
    (snapshot, delay) => {
      scheduler().run(({ hot, flush }) => {
        const memory = new MemoryArchive();
        // An archive whose appends land late: the history fills what it misses.
        let lagging: EventFrame[] = [];
        const archive = slowArchive(memory, delay, snapshot);
        const bus = new EventBus({
          history: 4,
          archive: {
            ...archive,
            append: (f) => {
              lagging.push(f);
              if (lagging.length > 2) {
                for (const held of lagging.slice(0, -2)) memory.append(held);
                lagging = lagging.slice(-2);
              }
            },
          },
        });
        const seen: number[] = [];
        const flood = hot(`-${'a'.repeat(40)}|`, { a: tool });
        flood.subscribe({ next: (e) => bus.publish(e), complete: () => bus.close() });
        let completed = false;
        // Subscribe at frame 15, from cursor 2: the history (4) no longer holds 3..10.
        timer(15).subscribe(() =>
          bus.select({}, { after: 2 }).subscribe({
            next: (f) => seen.push(f.seq),
            complete: () => {
              completed = true;
            },
          }),
        );
        flush();
        expect(seen).toEqual(Array.from({ length: 38 }, (_, i) => i + 3));
        expect(completed).toBe(true);
      });
    },
  );

  it('a subscriber reads a slow archive again until it catches up, then goes live', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, flush }) => {
      const memory = new MemoryArchive();
      const archive: EventArchive = {
        append: (f) => memory.append(f),
        replay: (filter, after) =>
          defer(() => memory.replay(filter, after).pipe(toArray())).pipe(
            switchMap((frames) => timer(4).pipe(switchMap(() => from(frames)))),
          ),
      };
      const bus = new EventBus({ history: 1, archive });
      const seen: string[] = [];
      timer(3).subscribe(() =>
        bus.select({}, { after: 0 }).subscribe({
          next: (f) => seen.push(`${testScheduler.now()}:${f.seq}`),
          complete: () => seen.push(`${testScheduler.now()}:|`),
        }),
      );
      publishFrom(bus, hot('-ab-cd--------e|', { a: tool, b: tool, c: tool, d: tool, e: tool }));
      flush();
      // Asked at 3 (the archive holds 1, 2), answered at 7; asked again after 2, answered at 11
      // with 3, 4: caught up with the head, so 5 comes live.
      expect(seen).toEqual(['7:1', '7:2', '11:3', '11:4', '14:5', '15:|']);
    });
  });
});

describe('EventBus marbles: iterate is not marble-based, metrics are', () => {
  it('lag and depth follow a demand-driven subscriber', () => {
    scheduler().run(({ hot, flush }) => {
      const bus = new EventBus();
      const demand = new Subject<number>();
      bus.select({}, { queue: { capacity: 10, overflow: 'drop-oldest', demand } }).subscribe();
      hot('-aaa', { a: tool }).subscribe((e) => bus.publish(e));
      const samples: Array<[number, number]> = [];
      bus
        .metrics$(4)
        .pipe(take(3))
        .subscribe((m) => {
          const s = m.subscribers[0];
          samples.push([s?.depth ?? -1, s?.lag ?? -1]);
          demand.next(1);
        });
      flush();
      expect(samples).toEqual([
        [3, 3],
        [2, 2],
        [1, 1],
      ]);
    });
  });
});
