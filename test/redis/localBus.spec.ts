import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { InvalidEventError } from '../../src/bus/errors.js';
import type { EventFrame } from '../../src/bus/types.js';
import { LocalBus } from '../../src/redis/localBus.js';

// LocalBus is the in-memory EventBus fed through its protected hooks for frames stamped
// elsewhere (ingest, restartAt, validateEvent, isHeldBack, hasListeners): no Redis needed here.

function frame(seq: number, extra: Partial<EventFrame> = {}): EventFrame {
  return Object.freeze({ seq, laneSeq: seq, ts: seq, kind: 'k', laneId: 'main', ...extra });
}

function make(startAfter = 0, onListen: () => void = () => undefined): LocalBus<unknown> {
  return new LocalBus({ history: 10 }, startAfter, onListen);
}

describe('LocalBus (the in-memory EventBus fed with frames stamped by Redis)', () => {
  it('is an EventBus that starts after the given seq', () => {
    const bus = make(41);
    expect(bus).toBeInstanceOf(EventBus);
    expect(bus.lastSeq).toBe(41);
    expect(bus.metrics().historySize).toBe(0);
  });

  it('delivers ingested frames unchanged to select, events$ and history, and ignores repeats', () => {
    const bus = make(5);
    const seen: EventFrame[] = [];
    const live: EventFrame[] = [];
    bus.select({ runId: 'r' }).subscribe((f) => seen.push(f));
    bus.events$.subscribe((f) => live.push(f));
    bus.ingest(frame(6, { runId: 'r' }));
    bus.ingest(frame(7, { runId: 'x' }));
    bus.ingest(frame(7, { runId: 'r' }));
    bus.ingest(frame(8, { runId: 'r', laneSeq: 3 }));
    expect(seen.map((f) => [f.seq, f.laneSeq])).toEqual([
      [6, 6],
      [8, 3],
    ]);
    expect(live.map((f) => f.seq)).toEqual([6, 7, 8]);
    expect(bus.lastSeq).toBe(8);
    const replayed: number[] = [];
    bus.replay({}, 5).subscribe((f) => replayed.push(f.seq));
    expect(replayed).toEqual([6, 7, 8]);
    expect(bus.metrics()).toMatchObject({ published: 8, byKind: { k: 3 } });
  });

  it('reports a seq jump to live subscribers as a drop-oldest gap and restarts history there', () => {
    const bus = make();
    const seen: EventFrame[] = [];
    bus.select().subscribe((f) => seen.push(f));
    bus.ingest(frame(1));
    bus.ingest(frame(5));
    expect(seen.map((f) => f.seq)).toEqual([1, 5]);
    expect(seen[1]!.overflow).toEqual({
      policy: 'drop-oldest',
      dropped: 3,
      merged: 0,
      fromSeq: 2,
      toSeq: 4,
      terminalPreserved: false,
    });
    expect(bus.metrics().historySize).toBe(1);
  });

  it('skips ahead without frames, and calls onListen before each select and replay attaches', () => {
    const calls: number[] = [];
    const bus = make(0, () => {
      calls.push(bus.lastSeq);
    });
    bus.skipTo(9);
    bus.skipTo(3);
    expect(bus.lastSeq).toBe(9);
    expect(bus.hasListeners).toBe(false);
    const selected = bus.select();
    expect(calls).toEqual([]);
    const subscription = selected.subscribe();
    expect(calls).toEqual([9]);
    expect(bus.hasListeners).toBe(true);
    subscription.unsubscribe();
    expect(bus.hasListeners).toBe(false);
    bus.replay().subscribe();
    expect(calls).toEqual([9, 9]);
    const live = bus.events$.subscribe();
    expect(bus.hasListeners).toBe(true);
    live.unsubscribe();
  });

  it('says when a backpressure subscriber is full', () => {
    const bus = make();
    const demand = new Subject<number>();
    // Capacity 3 with the default classifier: 2 slots for non-terminal frames, 1 for terminals.
    bus.select({}, { queue: { capacity: 3, overflow: 'backpressure', demand } }).subscribe();
    expect(bus.isHeldBack(frame(1))).toBe(false);
    bus.ingest(frame(1));
    bus.ingest(frame(2));
    expect(bus.isHeldBack(frame(3))).toBe(true);
    expect(bus.isHeldBack(frame(3, { kind: 'run.finished' }))).toBe(false);
    demand.next(1);
    expect(bus.isHeldBack(frame(3))).toBe(false);
  });

  it('checks events like publish does, counting refusals', () => {
    const bus = make();
    expect(() => bus.validateEvent({ kind: '' })).toThrow(InvalidEventError);
    expect(() => bus.validateEvent({ kind: 'k', runId: 'r' })).not.toThrow();
    expect(bus.metrics().rejected).toBe(1);
  });

  it('ignores frames after close', () => {
    const bus = make();
    bus.close();
    bus.ingest(frame(1));
    expect(bus.lastSeq).toBe(0);
  });

  it('refuses a frame without a positive integer seq, changing nothing', () => {
    const bus = make(3);
    for (const bad of [null, {}, frame(0), frame(2.5), { ...frame(4), seq: '4' }]) {
      expect(() => bus.ingest(bad as never)).toThrow(TypeError);
    }
    expect(bus.lastSeq).toBe(3);
  });
});
