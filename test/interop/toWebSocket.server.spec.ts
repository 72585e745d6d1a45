import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { EventBus } from '../../src/bus/EventBus.js';
import { parseCursor } from '../../src/core/cursor.js';
import { SlowConsumerError } from '../../src/core/SlowConsumerError.js';
import { toWebSocket } from '../../src/interop/toWebSocket.js';

// A real ws server on loopback: one client reads, one stops reading. The stalled one is evicted
// with its cursor while the fast one keeps receiving; resuming from the cursor loses nothing.

const HIGH_WATER = 64 * 1024;
const PAYLOAD = 'x'.repeat(4096);

interface Served {
  errors: unknown[];
  maxBuffered: number;
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.reverse()) step();
  cleanup = [];
});

function serve(bus: EventBus): Promise<{ url: string; served: Served[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => server.close());
  const served: Served[] = [];
  server.on('connection', (socket, request) => {
    const after = new URL(request.url ?? '/', 'http://x').searchParams.get('after');
    const cursor = parseCursor(after);
    const record: Served = { errors: [], maxBuffered: 0 };
    served.push(record);
    toWebSocket(
      socket,
      (demand) =>
        bus.select(
          {},
          {
            ...(cursor === undefined ? {} : { after: cursor.seq, epoch: cursor.epoch }),
            queue: { capacity: 1024, overflow: 'drop-oldest', demand },
          },
        ),
      {
        capacity: 64,
        overflow: 'drop-oldest',
        highWaterMark: HIGH_WATER,
        epoch: bus.epoch,
        maxLag: { ms: 300 },
      },
    ).subscribe({
      next: () => {
        record.maxBuffered = Math.max(record.maxBuffered, socket.bufferedAmount);
      },
      error: (error: unknown) => record.errors.push(error),
    });
  });
  return new Promise((resolve) =>
    server.on('listening', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `ws://127.0.0.1:${port}/`, served });
    }),
  );
}

/** A client that records the seqs it receives and how it was closed. */
function connect(url: string) {
  const socket = new WebSocket(url);
  const seqs: number[] = [];
  const gaps: unknown[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { seq?: number; overflow?: unknown };
    if (message.seq !== undefined) seqs.push(message.seq);
    else gaps.push(message.overflow);
  });
  const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()));
  cleanup.push(() => socket.terminate());
  return { socket, seqs, gaps, closed, opened };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('toWebSocket with a real ws server', () => {
  it('evicts a stalled client with its cursor while a fast one keeps receiving; resuming loses nothing', async () => {
    const bus = new EventBus({ history: 100_000 });
    const { url, served } = await serve(bus);
    const fast = connect(url);
    const stalled = connect(url);
    await Promise.all([fast.opened, stalled.opened]);
    stalled.socket.pause();
    let stalledClosed = false;
    void stalled.closed.then(() => {
      stalledClosed = true;
    });
    // Publish in small bursts until the stalled client's server side has given up on it.
    const started = Date.now();
    while (served[1]?.errors.length === 0 && Date.now() - started < 15_000) {
      for (let index = 0; index < 16; index++) {
        bus.publish({ kind: 'model.delta', runId: 'r1', payload: PAYLOAD });
      }
      await tick();
    }
    const evictedAt = bus.lastSeq;
    // The fast client keeps receiving after the eviction.
    for (let index = 0; index < 64; index++) {
      bus.publish({ kind: 'model.delta', runId: 'r1', payload: PAYLOAD });
      await tick();
    }
    const [fastServed, stalledServed] = served as [Served, Served];
    const [error] = stalledServed.errors;
    expect(error).toBeInstanceOf(SlowConsumerError);
    const cursor = parseCursor((error as SlowConsumerError).cursor);
    expect(cursor?.epoch).toBe(bus.epoch);
    // Memory held for the stalled client: the socket's buffer stayed within one frame of the
    // high watermark (the queue holds the rest, bounded by its capacity).
    expect(stalledServed.maxBuffered).toBeLessThan(HIGH_WATER + 2 * PAYLOAD.length);

    // The stalled client reads again: it gets what was buffered, then the close with its cursor.
    stalled.socket.resume();
    const { code, reason } = await stalled.closed;
    expect(stalledClosed).toBe(true);
    expect(code).toBe(4008);
    expect(reason).toBe(`slow consumer; resume after ${bus.epoch}:${cursor?.seq}`);
    expect(stalled.seqs.at(-1)).toBe(cursor?.seq);
    expect(stalled.gaps).toEqual([]);
    expect(stalled.seqs).toEqual(range(1, cursor?.seq ?? 0));

    // It resumes from the cursor: everything after it, each seq once.
    const resumed = connect(`${url}?after=${bus.epoch}:${cursor?.seq}`);
    await resumed.opened;
    const head = bus.lastSeq;
    while (resumed.seqs.at(-1) !== head) await tick();
    expect(resumed.seqs).toEqual(range((cursor?.seq ?? 0) + 1, head));

    while (fast.seqs.at(-1) !== head) await tick();
    expect(fast.seqs).toEqual(range(1, head));
    expect(fast.gaps).toEqual([]);
    expect(fastServed.errors).toEqual([]);
    expect(head).toBeGreaterThan(evictedAt);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
