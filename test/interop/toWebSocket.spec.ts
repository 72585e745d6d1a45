import { asyncScheduler, type Observable, of, Subject, take, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { WebSocket as WsSocket } from 'ws';
import { SlowConsumerError } from '../../src/core/SlowConsumerError.js';
import { closeReason, MAX_CLOSE_REASON } from '../../src/interop/socketParts.js';
import { toWebSocket, type WebSocketLike } from '../../src/interop/toWebSocket.js';

/** A socket whose `bufferedAmount` the test sets; it records what is sent and how it closes. */
class FakeSocket implements WebSocketLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith: [number | undefined, string | undefined] | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(String(data));
  }

  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }

  addEventListener(type: string, listener: () => void): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
  }

  removeEventListener(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener);
  }

  emit(type: 'open' | 'close'): void {
    this.readyState = type === 'open' ? 1 : 3;
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener();
  }

  listening(type: string): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const watermarks = { highWaterMark: 100, lowWaterMark: 25, pollInterval: 1 };

describe('toWebSocket: the socket drives demand', () => {
  it('sends at once while the socket has room, holds values while it is full, sends them once it drains', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const socket = new FakeSocket();
      const source = cold('-a-b-c-d------e-|');
      const expected = '   -a-b----(cd)--e-|';
      scheduleLevels(socket, { 2: 200, 8: 0 });
      expectObservable(
        toWebSocket(socket, source, { capacity: 4, overflow: 'drop-oldest', ...watermarks }),
      ).toBe(expected);
      flush();
      expect(socket.sent).toEqual(['"a"', '"b"', '"c"', '"d"', '"e"']);
      expect(socket.closedWith).toEqual([1000, 'done']);
    });
  });

  it("applies the queue's policy while the socket is full, and sends the gap before the next value", () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const socket = new FakeSocket();
      const source = cold('-a-b-c-d------e-|', { a: s(1), b: s(2), c: s(3), d: s(4), e: s(5) });
      scheduleLevels(socket, { 2: 200, 8: 0 });
      const gaps: number[] = [];
      expectObservable(
        toWebSocket(socket, source, {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: (gap) => gaps.push(gap.dropped),
          ...watermarks,
        }),
      ).toBe('-a-b----d-----e-|', { a: s(1), b: s(2), d: s(4), e: s(5) });
      flush();
      expect(gaps).toEqual([1]);
      expect(socket.sent.map((text) => JSON.parse(text))).toEqual([
        s(1),
        s(2),
        { overflow: { policy: 'drop-oldest', dropped: 1, merged: 0, fromSeq: 3, toSeq: 3 } },
        s(4),
        s(5),
      ]);
    });
  });

  it('stays full until the buffer is down to the low watermark', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const socket = new FakeSocket();
      scheduleLevels(socket, { 2: 200, 6: 50, 9: 25 });
      expectObservable(
        toWebSocket(socket, cold('-a-b-c-----|'), {
          capacity: 4,
          overflow: 'drop-oldest',
          ...watermarks,
        }),
      ).toBe('-a-b-----c-|');
    });
  });

  it('sends nothing before the socket opens', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const socket = new FakeSocket();
      socket.readyState = 0;
      scheduleAt(4, () => socket.emit('open'));
      expectObservable(
        toWebSocket(socket, cold('-ab-----|'), { capacity: 4, overflow: 'drop-oldest' }),
      ).toBe('----(ab)|');
      flush();
      expect(socket.sent).toEqual(['"a"', '"b"']);
    });
  });

  it('completes and unsubscribes the source when the client closes the socket', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const socket = new FakeSocket();
      scheduleAt(4, () => socket.emit('close'));
      const source = cold('-a-b-c-|');
      expectObservable(toWebSocket(socket, source, { capacity: 4, overflow: 'drop-oldest' })).toBe(
        '-a-b|',
      );
      expectSubscriptions(source.subscriptions).toBe('^---!');
      flush();
      expect(socket.listening('close')).toBe(0);
      expect(socket.listening('open')).toBe(0);
    });
  });

  it('closes the socket with 1011 when the source errors, after the values queued before', () => {
    const socket = new FakeSocket();
    const errors: unknown[] = [];
    toWebSocket(
      socket,
      throwError(() => new Error('boom')),
      {
        capacity: 4,
        overflow: 'drop-oldest',
      },
    ).subscribe({ error: (error) => errors.push(error) });
    expect(errors).toEqual([new Error('boom')]);
    expect(socket.closedWith).toEqual([1011, 'source error']);
  });

  it('leaves the socket open on unsubscribe, and with closeOnEnd false at the end', () => {
    const socket = new FakeSocket();
    const source = new Subject<number>();
    const subscription = toWebSocket(socket, source, {
      capacity: 4,
      overflow: 'drop-oldest',
    }).subscribe();
    source.next(1);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    toWebSocket(socket, of(2), { capacity: 4, overflow: 'drop-oldest', closeOnEnd: false })
      .pipe(take(5))
      .subscribe();
    expect(socket.sent).toEqual(['1', '2']);
    expect(socket.closedWith).toBeUndefined();
  });

  it('is typed by its source', () => {
    const socket = new FakeSocket();
    expectTypeOf(
      toWebSocket(socket, of({ seq: 1 }), { capacity: 1, overflow: 'drop-oldest' }),
    ).toEqualTypeOf<Observable<{ seq: number }>>();
    // The ws package's socket fits the duck type.
    expectTypeOf<WsSocket>().toMatchTypeOf<WebSocketLike>();
  });
});

describe('toWebSocket: slow clients are evicted with their resume cursor', () => {
  it('closes with 4008 and epoch:seq of the last value sent once full for maxLag.ms', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const socket = new FakeSocket();
      scheduleLevels(socket, { 2: 200 });
      const source = cold('-a-b-c-d-e-|', { a: s(1), b: s(2), c: s(3), d: s(4), e: s(5) });
      expectObservable(
        toWebSocket(socket, source, {
          capacity: 8,
          overflow: 'drop-oldest',
          epoch: 'E1',
          maxLag: { ms: 4 },
          ...watermarks,
        }),
      ).toBe('-a-b---#', { a: s(1), b: s(2) }, new SlowConsumerError('E1:2', 2, 4));
      flush();
      expect(socket.closedWith).toEqual([4008, 'slow consumer; resume after E1:2']);
    });
  });

  it('evicts once more than maxLag.frames values arrived while full', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const socket = new FakeSocket();
      scheduleLevels(socket, { 0: 200 });
      const source = cold('a-b-c-d-e-|', { a: s(1), b: s(2), c: s(3), d: s(4), e: s(5) });
      expectObservable(
        toWebSocket(socket, source, {
          capacity: 8,
          overflow: 'drop-oldest',
          maxLag: { frames: 2 },
          ...watermarks,
        }),
      ).toBe('a-----#', { a: s(1) }, new SlowConsumerError('1', 3, 6));
      flush();
      expect(socket.closedWith).toEqual([4008, 'slow consumer; resume after 1']);
    });
  });

  it('keeps the close reason within 123 bytes', () => {
    expect(closeReason('e:7')).toBe('slow consumer; resume after e:7');
    const long = `${'é'.repeat(50)}:12`;
    expect(closeReason(long)).toBe(long);
    expect(closeReason(`${'é'.repeat(70)}:12`)).toBe('slow consumer');
    expect(closeReason(undefined)).toBe('slow consumer');
    expect(new TextEncoder().encode(closeReason(`${'x'.repeat(121)}:1`)).length).toBe(
      MAX_CLOSE_REASON,
    );
  });
});

describe('toWebSocket: bad options', () => {
  const ok = { capacity: 2, overflow: 'drop-oldest' } as const;
  it.each([
    [null, ok, 'toWebSocket: socket must be a WebSocket, got null'],
    [new FakeSocket(), { ...ok, highWaterMark: 0 }, 'highWaterMark must be a positive integer'],
    [
      new FakeSocket(),
      { ...ok, highWaterMark: 100, lowWaterMark: 100 },
      'lowWaterMark must be an integer from 0 to 99',
    ],
    [new FakeSocket(), { ...ok, pollInterval: -1 }, 'pollInterval must be a finite positive'],
    [new FakeSocket(), { ...ok, maxLag: { frames: 0 } }, 'maxLag.frames must be a positive'],
    [new FakeSocket(), { ...ok, maxLag: { ms: 0 } }, 'maxLag.ms must be a finite positive'],
    [new FakeSocket(), { ...ok, epoch: 3 }, 'epoch must be a string, got 3'],
    [new FakeSocket(), { ...ok, serialize: 1 }, 'serialize must be a function'],
    [new FakeSocket(), { ...ok, closeOnEnd: 'yes' }, 'closeOnEnd must be true or false'],
    [new FakeSocket(), { ...ok, capacity: 0 }, 'capacity must be a positive integer'],
  ])('%#: refuses it at once', (socket, options, message) => {
    expect(() => toWebSocket(socket as never, of(1), options as never)).toThrow(message);
  });
});

// Inside TestScheduler.run, asyncScheduler runs in virtual time.
function scheduleAt(frame: number, work: () => void): void {
  asyncScheduler.schedule(work, frame);
}

function scheduleLevels(socket: FakeSocket, levels: Record<number, number>): void {
  for (const [frame, bytes] of Object.entries(levels)) {
    scheduleAt(Number(frame), () => {
      socket.bufferedAmount = bytes;
    });
  }
}

function s(seq: number): { seq: number } {
  return { seq };
}
