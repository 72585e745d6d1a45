/**
 * FrameHub's `reachCursor`: a transport whose head here may lag the log (Redis) is asked to bring
 * the head up before a cursor beyond it is judged; the subscription starts once it did.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { classifyAgentEvent } from '../../src/bus/agentEvents.js';
import { BusSubscriptions } from '../../src/bus/BusSubscriptions.js';
import { EpochChangedError } from '../../src/bus/errors.js';
import { FrameHub } from '../../src/bus/FrameHub.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFrame } from '../../src/bus/types.js';

const frame = (seq: number): EventFrame =>
  FrameHub.createFrame({ kind: 'tick', payload: seq }, 'e1', seq, seq, 0);

function record(source: { subscribe: (observer: object) => unknown }) {
  const values: number[] = [];
  let error: unknown;
  source.subscribe({
    next: (f: EventFrame) => values.push(f.seq),
    error: (e: unknown) => (error = e),
  });
  return { values, error: () => error };
}

/** A hub over an archive holding 1..`held`, whose head here stays at 0 until reached. */
function laggingHub(held: number) {
  const archive = new MemoryArchive();
  for (let seq = 1; seq <= held; seq++) void archive.append(frame(seq));
  const asked: number[] = [];
  let release: () => void = () => {};
  const hub: FrameHub<unknown> = new FrameHub<unknown>({
    history: 100,
    archive,
    appendToArchive: false,
    freeze: false,
    epoch: 'e1',
    reachCursor: (after) => {
      asked.push(after);
      return new Promise<void>((resolve) => {
        release = () => {
          if (after <= held) hub.skipTo(held);
          resolve();
        };
      });
    },
  });
  return {
    hub,
    asked,
    release: () => release(),
    subscriptions: new BusSubscriptions(hub, classifyAgentEvent),
  };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('FrameHub reachCursor', () => {
  it('starts a select beyond the head once the head is brought up to it', async () => {
    const { hub, asked, release, subscriptions } = laggingHub(8);
    const seen = record(subscriptions.select({}, { after: 5 }));
    expect(asked).toEqual([5]);
    expect(seen.values).toEqual([]);
    release();
    await settle();
    hub.ingest(frame(9));
    expect(seen.values).toEqual([6, 7, 8, 9]);
  });

  it("keeps a queue's demand granted while the cursor is reached", async () => {
    const { release, subscriptions } = laggingHub(8);
    const demand = new Subject<number>();
    const seen = record(
      subscriptions.select(
        {},
        { after: 5, queue: { capacity: 4, overflow: 'drop-oldest', demand } },
      ),
    );
    demand.next(2);
    release();
    await settle();
    expect(seen.values).toEqual([6, 7]);
    demand.next(5);
    expect(seen.values).toEqual([6, 7, 8]);
  });

  it('refuses the cursor once reached when the log does not go that far', async () => {
    const { release, subscriptions } = laggingHub(3);
    const seen = record(subscriptions.select({}, { after: 7 }));
    release();
    await settle();
    expect(seen.error()).toBeInstanceOf(RangeError);
  });

  it('asks nothing for a cursor within the head, another epoch, or an unsubscribed select', async () => {
    const { hub, asked, release, subscriptions } = laggingHub(3);
    hub.ingest(frame(1));
    record(subscriptions.select({}, { after: 1 }));
    const other = record(subscriptions.select({}, { after: 2, epoch: 'e0' }));
    expect(other.error()).toBeInstanceOf(EpochChangedError);
    expect(asked).toEqual([]);
    const values: number[] = [];
    subscriptions
      .select({}, { after: 2 })
      .subscribe((f) => values.push(f.seq))
      .unsubscribe();
    release();
    await settle();
    hub.ingest(frame(4));
    expect(values).toEqual([]);
    expect(hub.index.size).toBe(1);
  });

  it('a replay beyond the head reads to the head it reached, then completes', async () => {
    const { release, subscriptions } = laggingHub(6);
    let completed = false;
    const values: number[] = [];
    subscriptions.replay({}, 4).subscribe({
      next: (f) => values.push(f.seq),
      complete: () => (completed = true),
    });
    release();
    await settle();
    expect(values).toEqual([5, 6]);
    expect(completed).toBe(true);
  });
});
