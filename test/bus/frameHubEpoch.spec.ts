/**
 * FrameHub.changeEpoch, the part of the bus the Redis bus calls when its log went backwards or
 * was replaced: every subscriber and the live stream error with EpochChangedError, the history
 * restarts, old cursors are refused and new ones work.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { classifyAgentEvent } from '../../src/bus/agentEvents.js';
import { BusSubscriptions } from '../../src/bus/BusSubscriptions.js';
import { EpochChangedError } from '../../src/bus/errors.js';
import { FrameHub } from '../../src/bus/FrameHub.js';
import type { EventFrame } from '../../src/bus/types.js';

const frame = (seq: number, id: string): EventFrame =>
  FrameHub.createFrame({ kind: 'tick', payload: { id } }, 'main', seq, seq, 0);

function record(source: { subscribe: (observer: object) => unknown }) {
  const values: EventFrame[] = [];
  let error: unknown;
  source.subscribe({ next: (f: EventFrame) => values.push(f), error: (e: unknown) => (error = e) });
  return { values, error: () => error };
}

describe('FrameHub.changeEpoch', () => {
  it('errors every subscriber and the live stream, restarts the log, and refuses old cursors', () => {
    const hub = new FrameHub<unknown>({
      history: 100,
      archive: undefined,
      appendToArchive: false,
      freeze: false,
      epoch: 'e1',
    });
    const subscriptions = new BusSubscriptions(hub, classifyAgentEvent);
    const demand = new Subject<number>();
    const plain = record(subscriptions.select());
    const queued = record(
      subscriptions.select({}, { queue: { capacity: 4, overflow: 'drop-oldest', demand } }),
    );
    const live = record(hub.live);
    for (let seq = 1; seq <= 5; seq++) hub.ingest(frame(seq, `old-${seq}`));
    // A subscriber still reading the log when the epoch changes.
    const reading = record(
      subscriptions.select(
        {},
        {
          after: 0,
          queue: { capacity: 2, overflow: 'drop-oldest', demand: new Subject<number>() },
        },
      ),
    );
    hub.changeEpoch('e2', 3);
    // A queue's frames go first: its error comes once they are taken.
    expect(queued.error()).toBeUndefined();
    demand.next(10);
    expect(queued.values.at(-1)?.seq).toBe(5);
    for (const subscriber of [plain, queued, live, reading]) {
      expect(subscriber.error()).toBeInstanceOf(EpochChangedError);
      expect(subscriber.error()).toMatchObject({ expected: 'e1', actual: 'e2', after: 5 });
    }
    expect(plain.values.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(hub.epoch).toBe('e2');
    expect(hub.log.head).toBe(3);
    expect(hub.index.size).toBe(0);
    // The new epoch goes on from its head; its cursors work, the old epoch's are refused.
    const stale = record(subscriptions.select({}, { after: 2, epoch: 'e1' }));
    expect(stale.error()).toBeInstanceOf(EpochChangedError);
    const fresh = record(subscriptions.select({}, { after: 3, epoch: 'e2' }));
    const liveAgain = record(hub.live);
    hub.ingest(frame(4, 'new-4'));
    expect(fresh.values.map((f) => (f.payload as { id: string }).id)).toEqual(['new-4']);
    expect(liveAgain.values).toHaveLength(1);
    // The same epoch again: nothing happens.
    hub.changeEpoch('e2', 0);
    expect(fresh.error()).toBeUndefined();
  });
});
