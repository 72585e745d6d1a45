/**
 * The gaps the Redis bus hands to its frame hub, without a server: a seq jump ingested while a
 * subscriber still queues frames from before it (its tail was held back, or its consumer is
 * slow), and an archive page that says entries were trimmed. Each gap goes on exactly the first
 * frame after it, is told to `onOverflow` once, and is counted once.
 */
import { Observable, queueScheduler, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { classifyAgentEvent } from '../../src/bus/agentEvents.js';
import { BusSubscriptions } from '../../src/bus/BusSubscriptions.js';
import { FrameHub } from '../../src/bus/FrameHub.js';
import type { EventArchive, EventFrame, SubscriberQueue } from '../../src/bus/types.js';
import type { OverflowNotice } from '../../src/core/types.js';

const frame = (seq: number): EventFrame =>
  FrameHub.createFrame({ kind: 'tick', payload: { seq } }, 'main', seq, seq, 0);

function record(source: Observable<EventFrame>) {
  const values: EventFrame[] = [];
  let error: unknown;
  let done = false;
  source.subscribe({
    next: (f) => values.push(f),
    error: (e: unknown) => {
      error = e;
    },
    complete: () => {
      done = true;
    },
  });
  return { values, error: () => error, done: () => done };
}

/** `[seq, notice range]` per frame, the range only where a frame carries one. */
const shape = (frames: readonly EventFrame[]) =>
  frames.map((f) =>
    f.overflow === undefined ? f.seq : [f.seq, f.overflow.fromSeq, f.overflow.toSeq],
  );

function hubOver(archive?: EventArchive) {
  const hub = new FrameHub<unknown>({
    history: 100,
    archive,
    appendToArchive: false,
    freeze: true,
    epoch: 'e',
  });
  return { hub, subscriptions: new BusSubscriptions(hub, classifyAgentEvent) };
}

describe('gaps met by the frame hub while frames wait in a queue', () => {
  it.each(['backpressure', 'drop-incoming'] as const)(
    "a seq jump behind queued frames goes on the first frame after it ('%s')",
    (overflow) => {
      const { hub, subscriptions } = hubOver();
      const demand = new Subject<number>();
      const heard: Array<OverflowNotice<EventFrame>> = [];
      const queue: SubscriberQueue<unknown> = {
        capacity: 8,
        overflow,
        demand,
        onOverflow: (notice) => heard.push(notice),
      };
      const held = record(subscriptions.select({}, { queue }));
      for (const seq of [1, 2, 3]) hub.ingest(frame(seq));
      hub.ingest(frame(10)); // 4..9 trimmed
      hub.ingest(frame(11));
      // Told at once, and counted.
      expect(heard.map((n) => [n.fromSeq, n.toSeq])).toEqual([[4, 9]]);
      expect(
        hub.metrics({ rejected: 0, backpressured: 0, pendingSends: 0 }).subscribers[0],
      ).toMatchObject({
        dropped: 6,
      });
      demand.next(2);
      hub.ingest(frame(20)); // a second gap while 3, 10 and 11 still wait
      hub.ingest(frame(25)); // and a third right behind it
      demand.next(10);
      expect(shape(held.values)).toEqual([1, 2, 3, [10, 4, 9], 11, [20, 12, 19], [25, 21, 24]]);
      expect(heard).toHaveLength(3);
      // A gap with nothing queued goes on the next frame, as before.
      hub.ingest(frame(30));
      demand.next(1);
      expect(shape(held.values).at(-1)).toEqual([30, 26, 29]);
      expect(held.values[3]!.overflow).toMatchObject({
        policy: 'drop-oldest',
        dropped: 6,
        terminalPreserved: false,
      });
    },
  );

  it('a gap still waiting when the bus closes ends the stream with it', () => {
    const { hub, subscriptions } = hubOver();
    const demand = new Subject<number>();
    const held = record(
      subscriptions.select({}, { queue: { capacity: 8, overflow: 'backpressure', demand } }),
    );
    hub.ingest(frame(1));
    hub.ingest(frame(2));
    // Not a jump the subscriber can be told of on a frame: the hub closes first.
    hub.ingest(frame(5));
    hub.close();
    demand.next(10);
    expect(shape(held.values)).toEqual([1, 2, [5, 3, 4]]);
    expect(held.done()).toBe(true);
  });

  it("a reader takes the archive's notice of trimmed entries as its own gap: reported once, counted, on the frame after it", () => {
    // An archive whose entries 4..7 were trimmed: its replay says so on frame 8.
    const archive: EventArchive = {
      append: () => undefined,
      replay: (_, after) =>
        new Observable<EventFrame>((out) => {
          for (const seq of [2, 3, 8, 9]) {
            if (seq <= after) continue;
            const f = frame(seq);
            out.next(
              seq === 8
                ? {
                    ...f,
                    overflow: {
                      policy: 'drop-oldest',
                      dropped: 4,
                      merged: 0,
                      fromSeq: 4,
                      toSeq: 7,
                      terminalPreserved: false,
                    },
                  }
                : f,
            );
          }
          out.complete();
        }),
    };
    const { hub, subscriptions } = hubOver(archive);
    hub.skipTo(9);
    const heard: Array<[number | undefined, number | undefined]> = [];
    const reader = record(
      subscriptions.select(
        {},
        {
          after: 1,
          queue: {
            capacity: 2,
            overflow: 'backpressure',
            scheduler: queueScheduler,
            onOverflow: (n) => heard.push([n.fromSeq, n.toSeq]),
          },
        },
      ),
    );
    expect(shape(reader.values)).toEqual([2, 3, [8, 4, 7], 9]);
    expect(heard).toEqual([[4, 7]]);
    expect(
      hub.metrics({ rejected: 0, backpressured: 0, pendingSends: 0 }).subscribers[0],
    ).toMatchObject({
      dropped: 4,
      delivered: 4,
    });
    expect(Object.isFrozen(reader.values[2])).toBe(true);
  });
});
