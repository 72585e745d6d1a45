import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { BackpressureError, BusClosedError, InvalidEventError } from '../../src/bus/errors.js';
import type { AgentEvent, EventFrame } from '../../src/bus/types.js';

const seqs = (frames: readonly EventFrame[]) => frames.map((f) => f.seq);

describe('publishAll', () => {
  it('gives consecutive seqs and laneSeqs counted within the batch, in one delivery pass', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ hot, expectObservable }) => {
      const bus = new EventBus();
      const batch: AgentEvent[] = [
        { kind: 'a' },
        { kind: 'b', laneId: 'x' },
        { kind: 'c' },
        { kind: 'd', laneId: 'x' },
      ];
      hot('--a------b|').subscribe({
        next: (v) => (v === 'a' ? bus.publishAll(batch) : bus.publish({ kind: 'e' })),
        complete: () => bus.close(),
      });
      const lanes$ = bus.select();
      expectObservable(lanes$).toBe('--(abcd)-e|', {
        a: expect.objectContaining({ kind: 'a', seq: 1, laneSeq: 1, laneId: 'main' }),
        b: expect.objectContaining({ kind: 'b', seq: 2, laneSeq: 1, laneId: 'x' }),
        c: expect.objectContaining({ kind: 'c', seq: 3, laneSeq: 2, laneId: 'main' }),
        d: expect.objectContaining({ kind: 'd', seq: 4, laneSeq: 2, laneId: 'x' }),
        e: expect.objectContaining({ kind: 'e', seq: 5, laneSeq: 3 }),
      });
    });
  });

  it('checks every event before publishing any: the error names the index', () => {
    const bus = new EventBus();
    const seen: EventFrame[] = [];
    bus.select().subscribe((f) => seen.push(f));
    let failure: unknown;
    try {
      bus.publishAll([{ kind: 'a' }, { kind: 'b' }, { kind: '' }]);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(InvalidEventError);
    expect((failure as InvalidEventError).field).toBe('events[2].kind');
    expect(String(failure)).toContain('events[2]');
    expect(seen).toEqual([]);
    expect(bus.lastSeq).toBe(0);
    expect(() => bus.publishAll('nope' as never)).toThrow(
      'EventBus.publishAll: events must be an array',
    );
    expect(bus.publishAll([])).toEqual([]);
  });

  it("is refused whole when a 'backpressure' subscriber has no room for all of it", () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const seen: number[] = [];
    bus
      .select({}, { queue: { capacity: 4, overflow: 'backpressure', demand } })
      .subscribe((f) => seen.push(f.seq));
    // Room for 3 non-terminal frames (one slot of four is for terminals).
    expect(() =>
      bus.publishAll([{ kind: 'k' }, { kind: 'k' }, { kind: 'k' }, { kind: 'k' }]),
    ).toThrow(BackpressureError);
    expect(bus.lastSeq).toBe(0);
    expect(seqs(bus.publishAll([{ kind: 'k' }, { kind: 'k' }, { kind: 'k' }]))).toEqual([1, 2, 3]);
    expect(bus.metrics()).toMatchObject({ backpressured: 1 });
    demand.next(10);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('a batch published from inside a delivery comes after it, whole, for everyone', () => {
    const bus = new EventBus();
    const first: number[] = [];
    const second: number[] = [];
    bus.select().subscribe((f) => {
      first.push(f.seq);
      if (f.seq === 1) bus.publishAll([{ kind: 'b' }, { kind: 'c' }]);
    });
    bus.select().subscribe((f) => second.push(f.seq));
    bus.publish({ kind: 'a' });
    expect(first).toEqual([1, 2, 3]);
    expect(second).toEqual([1, 2, 3]);
  });

  it('property: any mix of publish and publishAll gives every subscriber 1..N in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 }), (sizes) => {
        const bus = new EventBus();
        const seen: number[] = [];
        bus.select().subscribe((f) => seen.push(f.seq));
        let n = 0;
        for (const size of sizes) {
          if (size === 0) bus.publish({ kind: 'k' });
          else bus.publishAll(Array.from({ length: size }, () => ({ kind: 'k' })));
          n += Math.max(size, 1);
        }
        expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      }),
    );
  });
});

describe('sendAll', () => {
  it('waits until the whole batch fits, behind its run only', async () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    bus
      .select({ runId: 'a' }, { queue: { capacity: 3, overflow: 'backpressure', demand } })
      .subscribe();
    bus.publish({ kind: 'k', runId: 'a' });
    const order: string[] = [];
    const batch = bus
      .sendAll([
        { kind: 'k', runId: 'a' },
        { kind: 'k', runId: 'a' },
      ])
      .then((frames) => order.push(`batch ${seqs(frames).join(',')}`));
    const other = bus.send({ kind: 'k', runId: 'b' }).then((f) => order.push(`b ${f.seq}`));
    await other;
    expect(order).toEqual(['b 2']);
    demand.next(1);
    await batch;
    expect(order).toEqual(['b 2', 'batch 3,4']);
  });

  it('rejects a bad batch at once, naming the index, and every waiting batch at close', async () => {
    const bus = new EventBus();
    await expect(bus.sendAll([{ kind: 'k' }, {} as AgentEvent])).rejects.toThrow('events[1]');
    const demand = new Subject<number>();
    bus.select({}, { queue: { capacity: 2, overflow: 'backpressure', demand } }).subscribe();
    bus.publish({ kind: 'k' });
    const waiting = bus.sendAll([{ kind: 'k' }, { kind: 'k' }]);
    bus.close();
    await expect(waiting).rejects.toBeInstanceOf(BusClosedError);
    await expect(bus.sendAll([{ kind: 'k' }])).rejects.toBeInstanceOf(BusClosedError);
  });
});
