import { describe, expect, it } from 'vitest';
import { SendQueue, type TrySend } from '../../src/bus/SendQueue.js';
import type { AgentEvent, EventFrame } from '../../src/bus/types.js';

function event(runId: string | undefined, kind: string): AgentEvent<null> {
  return { runId, kind, payload: null } as unknown as AgentEvent<null>;
}

/** A try-send that publishes when `fits` says so, stamping seqs and logging what it did. */
function publisher(fits: (events: readonly AgentEvent<null>[]) => boolean) {
  const log: string[] = [];
  let seq = 0;
  const trySend: TrySend<null> = (events) => {
    if (!fits(events)) {
      log.push(`refused ${events.map((e) => e.kind).join('+')}`);
      return undefined;
    }
    log.push(`sent ${events.map((e) => e.kind).join('+')}`);
    return events.map((e) => ({ ...e, seq: ++seq }) as unknown as EventFrame<null>);
  };
  return { log, trySend };
}

/** Settles pending promise callbacks. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('SendQueue', () => {
  it('publishes each run oldest first and stops a run at the first send that does not fit', async () => {
    const queue = new SendQueue<null>();
    const resolved: string[] = [];
    for (const e of [event('a', 'a1'), event('a', 'a2'), event('b', 'b1')]) {
      void queue.enqueue([e]).then((frames) => resolved.push(`${e.kind}#${frames[0]?.seq}`));
    }
    expect(queue.size).toBe(3);
    let room = 1;
    const { log, trySend } = publisher(() => room-- > 0);
    queue.pump(trySend);
    // a1 fits; a2 is refused and ends run a's turn; b1 is tried on its own line; a round that
    // published is followed by another, which publishes nothing.
    expect(log).toEqual(['sent a1', 'refused a2', 'refused b1', 'refused a2', 'refused b1']);
    expect(queue.size).toBe(2);
    expect(queue.hasWaiting('a')).toBe(true);
    room = 2;
    queue.pump(trySend);
    expect(queue.size).toBe(0);
    await settle();
    expect(resolved).toEqual(['a1#1', 'a2#2', 'b1#3']);
  });

  it('goes round again while a round published: a send refused early may fit later', () => {
    const queue = new SendQueue<null>();
    void queue.enqueue([event('a', 'a1')]);
    void queue.enqueue([event('b', 'b1')]);
    let calls = 0;
    const { log, trySend } = publisher(() => calls++ > 0);
    queue.pump(trySend);
    expect(log).toEqual(['refused a1', 'sent b1', 'sent a1']);
    expect(queue.size).toBe(0);
  });

  it('tells whether a run has a send waiting, for that run only, and forgets emptied runs', () => {
    const queue = new SendQueue<null>();
    expect(queue.hasWaiting('a')).toBe(false);
    void queue.enqueue([event('a', 'a1')]);
    void queue.enqueue([event(undefined, 'x1')]);
    void queue.enqueue([event('b', 'b1')]);
    expect(queue.hasWaiting('a')).toBe(true);
    expect(queue.hasWaiting(undefined)).toBe(true);
    expect(queue.hasWaiting('c')).toBe(false);
    const { trySend } = publisher((events) => events[0]?.runId !== 'b');
    queue.pump(trySend);
    expect([queue.hasWaiting('a'), queue.hasWaiting(undefined), queue.hasWaiting('b')]).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('absorbs a re-entrant pump (room freed by a delivery) into the running one', () => {
    const queue = new SendQueue<null>();
    for (const kind of ['a1', 'a2', 'a3']) void queue.enqueue([event('a', kind)]);
    let depth = 0;
    let deepest = 0;
    const { log, trySend } = publisher(() => true);
    const reentrant: TrySend<null> = (events) => {
      depth++;
      deepest = Math.max(deepest, depth);
      const frames = trySend(events);
      queue.pump(reentrant);
      depth--;
      return frames;
    };
    queue.pump(reentrant);
    expect(deepest).toBe(1);
    expect(log).toEqual(['sent a1', 'sent a2', 'sent a3']);
  });

  it('a send enqueued from inside a delivery of its run goes out after it, in the same pump', () => {
    const queue = new SendQueue<null>();
    void queue.enqueue([event('a', 'a1')]);
    void queue.enqueue([event('b', 'b1')]);
    const seen: boolean[] = [];
    const { log, trySend } = publisher(() => true);
    const reentrant: TrySend<null> = (events) => {
      const frames = trySend(events);
      if (events[0]?.kind === 'a1') {
        // a1 counts as waiting until its try returns: a send of run a made now queues behind it.
        seen.push(queue.hasWaiting('a'), queue.hasWaiting('c'));
        void queue.enqueue([event('a', 'a2')]);
      }
      return frames;
    };
    queue.pump(reentrant);
    expect(seen).toEqual([true, false]);
    expect(log).toEqual(['sent a1', 'sent a2', 'sent b1']);
    expect(queue.size).toBe(0);
  });

  it('a send whose try throws fails alone; the others of its run go on', async () => {
    const queue = new SendQueue<null>();
    const outcomes: string[] = [];
    for (const kind of ['a1', 'a2']) {
      queue.enqueue([event('a', kind)]).then(
        () => outcomes.push(`${kind} sent`),
        (error: Error) => outcomes.push(`${kind} ${error.message}`),
      );
    }
    const { trySend } = publisher(() => true);
    queue.pump((events) => {
      if (events[0]?.kind === 'a1') throw new Error('closed');
      return trySend(events);
    });
    await settle();
    expect(outcomes).toEqual(['a1 closed', 'a2 sent']);
    expect(queue.size).toBe(0);
  });

  it('rejectAll rejects every waiting send, in order, and leaves the queue empty and usable', async () => {
    const queue = new SendQueue<null>();
    const outcomes: string[] = [];
    for (const e of [event('a', 'a1'), event('a', 'a2'), event('b', 'b1')]) {
      queue.enqueue([e]).catch((error: Error) => outcomes.push(`${e.kind} ${error.message}`));
    }
    let room = 1;
    queue.pump(publisher(() => room-- > 0).trySend);
    queue.rejectAll(new Error('closed'));
    expect(queue.size).toBe(0);
    expect(queue.hasWaiting('a')).toBe(false);
    await settle();
    expect(outcomes).toEqual(['a2 closed', 'b1 closed']);
    const sent: number[] = [];
    void queue.enqueue([event('a', 'a3')]).then((frames) => sent.push(frames.length));
    queue.pump(publisher(() => true).trySend);
    await settle();
    expect(sent).toEqual([1]);
  });

  it('a pump with nothing waiting tries nothing', () => {
    const queue = new SendQueue<null>();
    const { log, trySend } = publisher(() => true);
    queue.pump(trySend);
    expect(log).toEqual([]);
  });
});
