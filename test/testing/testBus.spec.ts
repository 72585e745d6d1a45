import { describe, expect, expectTypeOf, it } from 'vitest';
import { coalesce, EventBus, type EventFrame, mergeAgentProgress } from '../../src/index.js';
import {
  createTestBus,
  createTestScheduler,
  demandFrom,
  expectAccounted,
  expectDenseSeq,
  expectLaneOrder,
  framesMarble,
  notice,
  publishMarble,
} from '../../src/testing/index.js';

const events = {
  a: { kind: 'model.delta', runId: 'r', payload: { text: 'a' } },
  b: { kind: 'model.delta', runId: 'r', payload: { text: 'b' } },
  c: { kind: 'model.delta', runId: 'r', payload: { text: 'c' } },
  f: { kind: 'run.finished', runId: 'r' },
};

describe('createTestBus, publishMarble, framesMarble', () => {
  it('publishes at virtual frames, stamps ts with the frame, closes at |', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const published = publishMarble(bus, '-a--(bc)-f|', events);
      const expected = '                    -a--(bc)-f|';
      expectObservable(framesMarble(bus.select(), bus)).toBe(expected);
      scheduler.schedule(() => {
        expect(published.map((f) => [f.seq, f.ts])).toEqual([
          [1, 1],
          [2, 4],
          [3, 4],
          [4, 9],
        ]);
        expect(bus.isClosed).toBe(true);
      }, 11);
    });
  });

  it('draws a subscriber that drops: the gap as a notice before the frame after it', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const demand = demandFrom('           1-------2');
      const frames = bus.select({}, { queue: { capacity: 2, overflow: 'drop-oldest', demand } });
      const published = publishMarble(bus, '-a-b-c-f|', events);
      const expected = '                    -a------(ncf|)';
      expectObservable(framesMarble(frames, bus)).toBe(expected, {
        a: 'a',
        c: 'c',
        f: 'f',
        n: notice({ dropped: 1, fromSeq: 2, toSeq: 2 }),
      });
      const seen: EventFrame[] = [];
      frames.subscribe((frame) => seen.push(frame));
      scheduler.schedule(() => {
        expectAccounted(published, seen);
        expectDenseSeq(seen);
        expectLaneOrder(seen);
      }, 20);
    });
  });

  it('draws a merged frame with the letter of its newest part', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const demand = demandFrom('------1');
      const frames = bus.select(
        {},
        { queue: { capacity: 2, overflow: coalesce(mergeAgentProgress), demand } },
      );
      publishMarble(bus, '       -a-b-c', events);
      const expected = '         ------(nc)';
      expectObservable(framesMarble(frames, bus)).toBe(expected, {
        c: 'c',
        n: notice({ merged: 2, fromSeq: 1, toSeq: 3 }),
      });
    });
  });

  it('draws kinds for frames it has no letter for', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      expectObservable(framesMarble(bus.select())).toBe('-x', { x: 'model.delta' });
      scheduler.schedule(() => bus.publish(events.a), 1);
    });
  });

  it('refuses a bus of its own, an unknown letter, and #', () => {
    const scheduler = createTestScheduler();
    expect(() => publishMarble(new EventBus(), '-a', events)).toThrow(
      "publishMarble: the bus must come from createTestBus (it publishes on that bus's scheduler)",
    );
    const bus = createTestBus(scheduler);
    expect(() => publishMarble(bus, '-z', events)).toThrow(
      `publishMarble: "z" at frame 1 of '-z' is not in events`,
    );
    expect(() => publishMarble(bus, '-#', events)).toThrow(
      "publishMarble: '#' at frame 1 of '-#': a bus never errors",
    );
  });

  it('types', () => {
    const bus = createTestBus<{ text?: string }>(createTestScheduler(), { history: 10 });
    expectTypeOf(bus).toEqualTypeOf<EventBus<{ text?: string }>>();
    expectTypeOf(publishMarble(bus, '', {})).toEqualTypeOf<EventFrame<{ text?: string }>[]>();
  });
});
