import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { serverSentEvents } from '../../src/interop/serverSentEvents.js';
import { serverSentEventsHandler } from '../../src/node/serverSentEventsHandler.js';

/** One parsed Server-Sent Event. */
interface Sse {
  event: string;
  id?: string;
  data: string;
  comment?: string;
  retry?: string;
}

function parse(text: string): Sse[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const event: Sse = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === '') event.comment = value;
        else if (field === 'data') data.push(value);
        else if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'retry') event.retry = value;
      }
      event.data = data.join('\n');
      return event;
    });
}

/** Reads a body until `enough` holds for the events read so far, then cancels it. */
async function readUntil(body: ReadableStream<Uint8Array>, enough: (events: Sse[]) => boolean) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const events = parse(text.slice(0, text.lastIndexOf('\n\n') + 2));
    if (enough(events)) {
      await reader.cancel();
      return events;
    }
    const { done, value } = await reader.read();
    if (done) return parse(text);
    text += decoder.decode(value, { stream: true });
  }
}

const seqOf = (event: Sse): number => (JSON.parse(event.data) as { seq: number }).seq;
const frames = (events: Sse[]) => events.filter((event) => event.event === 'message');

function publish(bus: EventBus, count: number, payload = 'p'): void {
  for (let index = 0; index < count; index++) bus.publish({ kind: 'note', payload });
}

function withLastEventId(id: string) {
  return { request: new Request('http://x/', { headers: { 'last-event-id': id } }) };
}

describe('serverSentEvents: a web Response of frames', () => {
  it('sends each frame with its epoch:seq as id, live after subscribing', async () => {
    const bus = new EventBus();
    publish(bus, 2);
    const response = serverSentEvents(bus, {});
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    publish(bus, 2);
    const events = await readUntil(response.body as ReadableStream, (e) => e.length >= 2);
    expect(events.map((event) => event.id)).toEqual([`${bus.epoch}:3`, `${bus.epoch}:4`]);
    expect(JSON.parse(events[0]?.data as string)).toMatchObject({ kind: 'note', seq: 3 });
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it('resumes after Last-Event-ID with no gap and no duplicate', async () => {
    const bus = new EventBus();
    publish(bus, 5);
    const response = serverSentEvents(bus, {}, withLastEventId(`${bus.epoch}:2`));
    const events = readUntil(response.body as ReadableStream, (e) => e.length >= 4);
    publish(bus, 1);
    expect((await events).map(seqOf)).toEqual([3, 4, 5, 6]);
  });

  it.each([
    ['another epoch', () => 'other:3'],
    ['a cursor beyond the head', (bus: EventBus) => `${bus.epoch}:99`],
    ['a cursor of another format', () => 'nonsense'],
  ])(
    'sends event: reset with the new epoch for %s, then the oldest frame held onwards',
    async (_, id) => {
      const bus = new EventBus({ history: 3 });
      publish(bus, 5);
      const response = serverSentEvents(bus, {}, withLastEventId(id(bus)));
      const events = await readUntil(response.body as ReadableStream, (e) => e.length >= 4);
      expect(events[0]).toMatchObject({
        event: 'reset',
        data: JSON.stringify({ epoch: bus.epoch }),
      });
      expect(events.slice(1).map((event) => event.event)).toEqual([
        'message',
        'message',
        'message',
      ]);
      expect(frames(events).map(seqOf)).toEqual([3, 4, 5]);
    },
  );

  it('sends event: gap for a cursor older than the log holds, before the next frame', async () => {
    const bus = new EventBus({ history: 3 });
    publish(bus, 10);
    const response = serverSentEvents(bus, {}, withLastEventId(`${bus.epoch}:2`));
    const events = await readUntil(response.body as ReadableStream, (e) => e.length >= 4);
    expect(events[0]?.event).toBe('gap');
    expect(JSON.parse(events[0]?.data as string)).toMatchObject({
      overflow: { dropped: 5, fromSeq: 3, toSeq: 7 },
    });
    expect(frames(events).map(seqOf)).toEqual([8, 9, 10]);
  });

  it('sends heartbeat comments and the retry delay', async () => {
    const bus = new EventBus();
    const response = serverSentEvents(bus, {}, { heartbeat: 5, retry: 1500 });
    const events = await readUntil(
      response.body as ReadableStream,
      (e) => e.filter((event) => event.comment === 'heartbeat').length >= 2,
    );
    expect(events[0]?.retry).toBe('1500');
    expect(events.filter((event) => event.comment === 'heartbeat').length).toBe(2);
  });

  it('closes the body when the bus closes, and unsubscribes when the client cancels', async () => {
    const bus = new EventBus();
    const open = serverSentEvents(bus, {});
    const closing = serverSentEvents(bus, {});
    expect(bus.metrics().subscribers).toHaveLength(2);
    await (open.body as ReadableStream).cancel();
    expect(bus.metrics().subscribers).toHaveLength(1);
    publish(bus, 1);
    bus.close();
    const events = await readUntil(closing.body as ReadableStream, () => false);
    expect(frames(events).map(seqOf)).toEqual([1]);
  });

  it('refuses bad options at once, naming them', () => {
    const bus = new EventBus();
    expect(() => serverSentEvents(null as never, {})).toThrow(
      'serverSentEvents: bus must be an event bus, got null',
    );
    expect(() => serverSentEvents(bus, {}, { heartbeat: -1 })).toThrow(
      'serverSentEvents: heartbeat must be a non-negative number (ms), got -1',
    );
    expect(() => serverSentEvents(bus, {}, { serialize: 3 as never })).toThrow(
      'serverSentEvents: serialize must be a function, got 3',
    );
    expect(() =>
      serverSentEvents(bus, {}, { queue: { capacity: 0, overflow: 'drop-oldest' } }),
    ).toThrow(/capacity must be a positive integer, got 0/);
  });
});

let servers: Server[] = [];
afterEach(() => {
  for (const server of servers) server.close();
  servers = [];
});

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    }),
  );
}

describe('serverSentEventsHandler: a real Node http server on loopback', () => {
  it('serves a fetch client that reconnects with Last-Event-ID and misses nothing', async () => {
    const bus = new EventBus();
    const url = await listen(
      createServer(
        serverSentEventsHandler(bus, (request: IncomingMessage) => ({
          runId: new URL(request.url ?? '/', 'http://x').searchParams.get('run') ?? undefined,
        })),
      ),
    );
    publish(bus, 3);
    bus.publish({ kind: 'note', runId: 'r1' });
    const first = await fetch(`${url}?run=r1`, { headers: { 'last-event-id': `${bus.epoch}:0` } });
    const before = await readUntil(first.body as ReadableStream, (e) => e.length >= 1);
    expect(before.map(seqOf)).toEqual([4]);
    bus.publish({ kind: 'note', runId: 'r1' });
    bus.publish({ kind: 'note', runId: 'r2' });
    bus.publish({ kind: 'note', runId: 'r1' });
    const again = await fetch(`${url}?run=r1`, {
      headers: { 'last-event-id': before.at(-1)?.id as string },
    });
    const after = await readUntil(again.body as ReadableStream, (e) => e.length >= 2);
    expect(after.map(seqOf)).toEqual([5, 7]);
  });

  it('reads the log at a stalled client’s pace: the server holds its queue, not the log', async () => {
    const bus = new EventBus({ history: 50_000 });
    const url = await listen(
      createServer(
        serverSentEventsHandler(bus, {}, { queue: { capacity: 64, overflow: 'drop-oldest' } }),
      ),
    );
    const payload = 'y'.repeat(1024);
    publish(bus, 20_000, payload);
    // A client that opens the stream and does not read.
    const stalled = httpRequest(url, { headers: { 'last-event-id': `${bus.epoch}:0` } });
    const response = await new Promise<IncomingMessage>((resolve) => {
      stalled.on('response', resolve);
      stalled.end();
    });
    response.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [subscriber] = bus.metrics().subscribers;
    // Only what fits in the sockets' buffers and the stream has been read from the log.
    expect(subscriber?.replaying).toBe(true);
    expect(subscriber?.depth).toBeLessThanOrEqual(64);
    expect(subscriber?.delivered).toBeLessThan(20_000);
    // It reads again: every frame, in order, no gap.
    response.resume();
    const seqs: number[] = [];
    let text = '';
    await new Promise<void>((resolve) => {
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const cut = text.lastIndexOf('\n\n');
        if (cut < 0) return;
        for (const event of parse(text.slice(0, cut + 2))) seqs.push(seqOf(event));
        text = text.slice(cut + 2);
        if (seqs.at(-1) === 20_000) resolve();
      });
    });
    stalled.destroy();
    expect(seqs).toEqual(Array.from({ length: 20_000 }, (_, index) => index + 1));
  });
});
