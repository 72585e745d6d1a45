import { createServer, type Server, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { firstValueFrom, lastValueFrom, type Observable, Subject, take, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BusClosedError, EpochChangedError, InvalidEventError } from '../../src/bus/errors.js';
import type { EventFrame } from '../../src/bus/types.js';
import type { FrameDecodeError } from '../../src/redis/codec.js';
import { RedisUnavailableError } from '../../src/redis/errors.js';
import { createRedisBus, type RedisEventBus } from '../../src/redis/RedisEventBus.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from './redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function collect<T>(source: Observable<T>): {
  values: T[];
  done: () => boolean;
  error: () => unknown;
} {
  const values: T[] = [];
  let completed = false;
  let failure: unknown;
  source.subscribe({
    next: (value) => values.push(value),
    complete: () => {
      completed = true;
    },
    error: (error) => {
      failure = error;
    },
  });
  return { values, done: () => completed, error: () => failure };
}

/**
 * A TCP proxy in front of redis-server that can lose one reply: `loseNextReply()` makes it drop
 * the next bytes the server sends to any client and cut that client's connection (the command
 * ran, its answer never arrived).
 */
function replyLosingProxy(
  target: number,
): Promise<{ port: number; server: Server; loseNextReply(): Promise<void> }> {
  let armed: (() => void) | undefined;
  const server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(target, '127.0.0.1');
    client.on('data', (data) => upstream.write(data));
    upstream.on('data', (data) => {
      if (armed !== undefined) {
        const done = armed;
        armed = undefined;
        client.destroy();
        upstream.destroy();
        done();
        return;
      }
      client.write(data);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({
        port: address.port,
        server,
        loseNextReply: () =>
          new Promise<void>((lost) => {
            armed = lost;
          }),
      });
    });
  });
}

describe.skipIf(version === undefined)('RedisEventBus on a real redis-server', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const buses: RedisEventBus[] = [];
  let n = 0;

  const client = () => {
    const redis = new Redis(server.port, '127.0.0.1', { retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  const bus = async (stream: string, extra: Partial<Parameters<typeof createRedisBus>[0]> = {}) => {
    const created = await createRedisBus({
      redis: client(),
      stream,
      retryDelayMs: 20,
      blockMs: 500,
      ...extra,
    });
    buses.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    for (const created of buses.splice(0)) await created.close();
    for (const redis of clients.splice(0)) redis.disconnect();
    if (!server.running) await server.restart();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('rejects a bad option with an error naming it, before opening any connection', async () => {
    const redis = client();
    const stream = `bus-${++n}`;
    const cases: Array<[Record<string, unknown>, ErrorConstructor, RegExp]> = [
      [{ freeze: 'yes' }, TypeError, /freeze must be true or false, got "yes"/],
      [{ producerId: '' }, TypeError, /producerId must be a non-empty string/],
      [{ validate: 'strict' }, TypeError, /validate must be a function, got "strict"/],
      [{ classify: 1 }, TypeError, /classify must be a function, got 1/],
      [{ onConnectionError: {} }, TypeError, /onConnectionError must be a function/],
      [{ readCount: -1 }, RangeError, /readCount must be a non-negative integer, got -1/],
      [{ blockMs: 1.5 }, RangeError, /blockMs must be a non-negative integer, got 1.5/],
      [{ sendTimeoutMs: '10' }, RangeError, /sendTimeoutMs must be a non-negative integer/],
      [{ dedupeWindow: Number.NaN }, RangeError, /dedupeWindow must be a non-negative integer/],
    ];
    const duplicate = redis.duplicate.bind(redis);
    let duplicated = 0;
    redis.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
      duplicated++;
      return duplicate(...args);
    }) as Redis['duplicate'];
    for (const [options, type, message] of cases) {
      const created = createRedisBus({ redis, stream, ...options } as never);
      await expect(created, JSON.stringify(options)).rejects.toThrow(type);
      await expect(created).rejects.toThrow(message);
    }
    expect(duplicated).toBe(0);
  });

  it('gives frames published by two buses dense seqs, and both see every frame in seq order', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream, { freeze: true });
    const b = await bus(stream);
    const seenA = collect(a.select());
    const seenB = collect(b.events$);
    const sent = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? a : b).publish({ kind: 'tick', runId: 'r', payload: { i } }),
      ),
    );
    expect(sent.map((f) => f.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    await until(() => seenA.values.length === 100 && seenB.values.length === 100, '100 frames');
    expect(seenA.values.map((f) => f.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(seenB.values).toEqual(seenA.values);
    expect(seenA.values.map((f) => f.laneSeq)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const bySeq = new Map(seenA.values.map((f) => [f.seq, f]));
    for (const frame of sent) expect(bySeq.get(frame.seq)).toEqual(frame);
    expect(Object.isFrozen(seenA.values[0])).toBe(true);
    expect(Object.isFrozen(seenB.values[0])).toBe(false);
    expect(a.metrics()).toMatchObject({
      published: 100,
      redis: { lastSeq: 100, publishedHere: 50 },
    });
  });

  it('publishAll and sendAll: one script call, consecutive seqs, all checked first, with an epoch', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const b = await bus(stream);
    expect(a.epoch).toMatch(/^[0-9a-z]{8,}$/);
    expect(b.epoch).toBe(a.epoch);
    const seen = collect(b.select());
    // Interleaved with single publishes of the other bus: each batch still gets consecutive seqs.
    const batches = await Promise.all([
      a.publishAll([{ kind: 'x1' }, { kind: 'x2', laneId: 'l' }, { kind: 'x3' }]),
      b.publish({ kind: 'y' }),
      a.sendAll([{ kind: 'z1' }, { kind: 'z2' }]),
      b.publish({ kind: 'y' }),
    ]);
    const [first, , second] = batches;
    const consecutive = (frames: EventFrame[]) =>
      frames.every((f, i) => i === 0 || f.seq === (frames[i - 1] as EventFrame).seq + 1);
    expect(consecutive(first)).toBe(true);
    expect(consecutive(second)).toBe(true);
    expect(first.map((f) => f.kind)).toEqual(['x1', 'x2', 'x3']);
    await until(() => seen.values.length === 7, '7 frames');
    expect(seen.values.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Checked (and encoded) before anything is sent: nothing of a bad batch reaches Redis.
    expect(() => a.publishAll([{ kind: 'ok' }, { kind: 'bad', payload: 10n as never }])).toThrow(
      'events[1]',
    );
    await expect(a.sendAll([{ kind: 'ok' }, {} as never])).rejects.toThrow('events[1]');
    expect(await a.publishAll([])).toEqual([]);
    const other = await bus(`bus-${++n}`);
    expect(other.epoch).not.toBe(a.epoch);
    let failure: unknown;
    other.select({}, { after: 0, epoch: a.epoch }).subscribe({ error: (e) => (failure = e) });
    expect(failure).toBeInstanceOf(EpochChangedError);
  });

  it('counts laneSeq per lane id across the stream, as the in-memory bus does', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const b = await bus(stream);
    const frames = [
      await a.publish({ kind: 'k', runId: 'r1', laneId: 'x' }),
      await b.publish({ kind: 'k', runId: 'r2', laneId: 'x' }),
      await a.publish({ kind: 'k', runId: 'r1' }),
      await b.publish({ kind: 'k', laneId: 'x' }),
      await a.publish({ kind: 'k', runId: 'r2' }),
    ];
    expect(frames.map((f) => [f.seq, f.laneId, f.laneSeq])).toEqual([
      [1, 'x', 1],
      [2, 'x', 2],
      [3, 'main', 1],
      [4, 'x', 3],
      [5, 'main', 2],
    ]);
  });

  it('starts at the end of an existing stream and replays older frames from Redis on request', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    for (let i = 1; i <= 30; i++)
      await a.publish({ kind: 'k', runId: i % 2 === 0 ? 'even' : 'odd' });
    const late = await bus(stream, { history: 5 });
    expect(late.lastSeq).toBe(30);
    const live = collect(late.select());
    const resumed = collect(late.select({ runId: 'even' }, { after: 10 }));
    const writer = (async () => {
      for (let i = 31; i <= 60; i++)
        await a.publish({ kind: 'k', runId: i % 2 === 0 ? 'even' : 'odd' });
    })();
    await writer;
    await until(() => live.values.length === 30, 'live frames');
    await until(() => (resumed.values.at(-1)?.seq ?? 0) === 60, 'resumed frames');
    expect(live.values.map((f) => f.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 31));
    expect(resumed.values.map((f) => f.seq)).toEqual(
      Array.from({ length: 25 }, (_, i) => 12 + 2 * i),
    );
    const replayed = await lastValueFrom(late.replay({}, 55).pipe(toArray()));
    expect(replayed.map((f) => f.seq)).toEqual([56, 57, 58, 59, 60]);
  });

  it('delivers through subscriber queues with their policies, notices and metrics', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const demand = new Subject<number>();
    const slow = collect(a.select({}, { queue: { capacity: 3, overflow: 'drop-oldest', demand } }));
    for (let i = 1; i <= 10; i++) await a.publish({ kind: 'k', payload: i });
    await until(() => a.lastSeq === 10, 'tail');
    demand.next(10);
    // The default classifier reserves one of the 3 slots for terminal frames.
    expect(slow.values.map((f) => f.seq)).toEqual([9, 10]);
    expect(slow.values[0]!.overflow).toMatchObject({
      policy: 'drop-oldest',
      dropped: 8,
      fromSeq: 1,
      toSeq: 8,
    });
    expect(a.metrics().subscribers[0]).toMatchObject({
      policy: 'drop-oldest',
      delivered: 2,
      dropped: 8,
    });
  });

  it('holds its tail while a backpressure subscriber is full, and loses nothing', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const demand = new Subject<number>();
    const held = collect(
      a.select({}, { queue: { capacity: 2, overflow: 'backpressure', demand } }),
    );
    for (let i = 1; i <= 20; i++) await a.publish({ kind: 'k', payload: i });
    await sleep(100);
    expect(a.lastSeq).toBeLessThanOrEqual(3);
    for (let i = 0; i < 40 && held.values.length < 20; i++) {
      demand.next(1);
      await sleep(5);
    }
    await until(() => held.values.length === 20, 'all frames');
    expect(held.values.map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(held.values.some((f) => f.overflow !== undefined)).toBe(false);
  });

  it('throws at once, publishing nothing, for a bad event, a closed bus, or Redis down', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    expect(() => a.publish({ kind: '' })).toThrow(InvalidEventError);
    expect(() => a.publish({ kind: 'k', payload: { big: 1n } as never })).toThrow(
      /payload cannot be encoded/,
    );
    await expect(a.send({ kind: 'k', runId: '' })).rejects.toThrow(InvalidEventError);
    expect(a.metrics().rejected).toBe(2);
    await server.kill();
    await until(() => clients[0]!.status !== 'ready', 'client to notice');
    // The bus's own connections notice in the same turn or the next.
    await sleep(20);
    let thrown: unknown;
    try {
      void a.publish({ kind: 'k' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RedisUnavailableError);
    expect((thrown as RedisUnavailableError).message).toMatch(
      /unavailable: the connection is \w+; nothing was published/,
    );
    await expect(a.send({ kind: 'k' }, { timeoutMs: 200 })).rejects.toThrow(
      /send gave up after 200 ms/,
    );
    await server.restart();
    await until(() => clients[0]!.status === 'ready', 'reconnect');
    expect(await client().xlen(stream)).toBe(0);
    await a.close();
    expect(() => a.publish({ kind: 'k' })).toThrow(BusClosedError);
    await expect(a.send({ kind: 'k' })).rejects.toThrow(BusClosedError);
  });

  it('settles every publish still waiting for a script call when it closes, leaving no hole', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    // One call leaves at once, the next 256 at the end of this turn; the rest wait for a reply.
    const pending = Array.from({ length: 600 }, (_, i) => a.publish({ kind: 'k', payload: i }));
    await a.close();
    const outcomes = await Promise.race([
      Promise.allSettled(pending),
      sleep(5_000).then(() => 'some publishes never settled'),
    ]);
    expect(Array.isArray(outcomes)).toBe(true);
    const settled = outcomes as PromiseSettledResult<{ seq: number }>[];
    const seqs = settled.flatMap((o) => (o.status === 'fulfilled' ? [o.value.seq] : []));
    for (const o of settled) {
      if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RedisUnavailableError);
    }
    // Whatever reached Redis is dense from 1; every resolved publish is in it.
    const ids = (await client().xrange(stream, '-', '+')).map(([id]) => id);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `${i + 1}-0`));
    expect(Math.max(0, ...seqs)).toBeLessThanOrEqual(ids.length);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('send waits through a Redis restart and resolves; subscribers resume with no loss and no duplicate', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const b = await bus(stream);
    const seen = collect(b.select());
    for (let i = 1; i <= 5; i++) await a.send({ kind: 'k', payload: i });
    await server.kill();
    const pending = Array.from({ length: 5 }, (_, i) =>
      a.send({ kind: 'k', payload: 6 + i }, { timeoutMs: 10_000 }),
    );
    await sleep(300);
    await server.restart();
    const frames = await Promise.all(pending);
    expect(frames.map((f) => f.seq).sort((x, y) => x - y)).toEqual([6, 7, 8, 9, 10]);
    await until(() => seen.values.length === 10, '10 frames');
    expect(seen.values.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.values.map((f) => f.payload)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.metrics().redis.connectionErrors).toBeGreaterThan(0);
  });

  it('send retries after a lost reply without appending twice; publish says the outcome is unknown', async () => {
    const stream = `bus-${++n}`;
    const proxy = await replyLosingProxy(server.port);
    try {
      const redis = new Redis(proxy.port, '127.0.0.1', { retryStrategy: () => 20 });
      redis.on('error', () => undefined);
      clients.push(redis);
      const a = await createRedisBus({ redis, stream, retryDelayMs: 20 });
      buses.push(a);
      expect((await a.send({ kind: 'k', payload: 1 })).seq).toBe(1);
      const lost = proxy.loseNextReply();
      const sent = a.send({ kind: 'k', payload: 2 }, { timeoutMs: 5000 });
      await lost;
      const frame = await sent;
      expect(frame).toMatchObject({ seq: 2, payload: 2 });
      expect(a.metrics().redis.retries).toBeGreaterThan(0);
      const direct = client();
      expect(await direct.xlen(stream)).toBe(2);
      await until(() => (a as unknown as { redis: Redis }).redis.status === 'ready', 'reconnect');
      const lostAgain = proxy.loseNextReply();
      const published = a.publish({ kind: 'k', payload: 3 });
      await lostAgain;
      await expect(published).rejects.toMatchObject({
        name: 'RedisUnavailableError',
        outcomeUnknown: true,
        message: expect.stringMatching(/may or may not be published/),
      });
      expect(await direct.xlen(stream)).toBe(3);
    } finally {
      proxy.server.close();
    }
  });

  it('reports and skips an entry that does not decode, telling subscribers on the next frame', async () => {
    const stream = `bus-${++n}`;
    const errors: FrameDecodeError[] = [];
    const a = await bus(stream, { onDecodeError: (e) => errors.push(e) });
    const seen = collect(a.select());
    await a.publish({ kind: 'k' });
    const raw = client();
    await raw.incr(`${stream}:seq`);
    await raw.xadd(stream, '2-0', 'v', '1', 'l', '1', 'e', '{broken');
    await a.publish({ kind: 'k' });
    await until(() => seen.values.length === 2, 'two frames');
    expect(seen.values.map((f) => f.seq)).toEqual([1, 3]);
    expect(seen.values[1]!.overflow).toMatchObject({ dropped: 1, fromSeq: 2, toSeq: 2 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/Undecodable stream entry 2-0: field "e" is not JSON/);
    expect(a.metrics().redis.undecodable).toBe(1);
  });

  it('gives a subscriber whose cursor is older than retention a notice for the missing range', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream, { maxLen: 5, exactTrim: true });
    for (let i = 1; i <= 20; i++) await a.publish({ kind: 'k' });
    const b = await bus(stream, { history: 0 });
    const frames = await firstValueFrom(b.select({}, { after: 3 }).pipe(take(5), toArray()));
    expect(frames.map((f) => f.seq)).toEqual([16, 17, 18, 19, 20]);
    expect(frames[0]!.overflow).toMatchObject({
      policy: 'drop-oldest',
      dropped: 12,
      fromSeq: 4,
      toSeq: 15,
    });
  });

  it('tells live subscribers of frames trimmed while its tail was held back', async () => {
    const stream = `bus-${++n}`;
    const writer = await bus(stream, { maxLen: 3, exactTrim: true });
    const reader = await bus(stream);
    const demand = new Subject<number>();
    const held = collect(
      reader.select({}, { queue: { capacity: 1, overflow: 'backpressure', demand } }),
    );
    const other = collect(reader.select());
    for (let i = 1; i <= 12; i++) await writer.publish({ kind: 'k' });
    await sleep(100);
    for (let i = 0; i < 20; i++) {
      demand.next(1);
      await sleep(10);
    }
    await until(() => reader.lastSeq === 12, 'the tail');
    const seqs = other.values.map((f) => f.seq);
    expect(seqs.at(-1)).toBe(12);
    const gapFrame = other.values.find((f) => f.overflow !== undefined);
    expect(gapFrame?.overflow).toMatchObject({ policy: 'drop-oldest' });
    const { fromSeq, toSeq } = gapFrame!.overflow!;
    expect(seqs).toEqual([...seqs.filter((s) => s < fromSeq!), ...seqs.filter((s) => s > toSeq!)]);
    expect(held.values.map((f) => f.seq).at(-1)).toBe(12);
  });

  it('reads nothing while nobody listens, and a later subscriber starts after its own publishes', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream);
    const other = await bus(stream);
    for (let i = 1; i <= 10; i++) await a.publish({ kind: 'k', payload: i });
    await other.publish({ kind: 'k', payload: 11 });
    await sleep(50);
    // No listener in a: its tail stayed idle, nothing was decoded or held.
    expect(a.lastSeq).toBe(0);
    expect(a.metrics().historySize).toBe(0);
    const live = collect(a.select());
    const all = collect(a.select({}, { after: 0 }));
    await a.publish({ kind: 'k', payload: 12 });
    await until(() => live.values.length === 2 && all.values.length === 12, 'frames');
    // Live starts after a's own last publish (10): frame 11, from another process, is not
    // ordered before this subscription by anything a knows, so it counts as live.
    expect(live.values.map((f) => f.payload)).toEqual([11, 12]);
    expect(all.values.map((f) => f.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('goes idle when the last listener leaves and resumes for the next one', async () => {
    const stream = `bus-${++n}`;
    const a = await bus(stream, { blockMs: 100 });
    const first = a.events$.subscribe();
    await a.publish({ kind: 'k' });
    await until(() => a.lastSeq === 1, 'first frame');
    first.unsubscribe();
    for (let i = 0; i < 5; i++) await a.publish({ kind: 'k' });
    await sleep(250);
    const again = collect(a.events$);
    await a.publish({ kind: 'k' });
    await until(() => again.values.length >= 1, 'a frame after resuming');
    await sleep(50);
    expect(again.values.map((f) => f.seq)).toEqual([7]);
  });

  it('validates its options', async () => {
    const redis = client();
    await expect(createRedisBus({ redis, stream: '' })).rejects.toThrow(
      /stream must be a non-empty string/,
    );
    await expect(createRedisBus({ redis, stream: 's', sendTimeoutMs: -1 })).rejects.toThrow(
      /sendTimeoutMs must be a non-negative integer, got -1/,
    );
    await expect(createRedisBus({ redis, stream: 's', validate: 3 as never })).rejects.toThrow(
      /validate must be a function/,
    );
  });
});

export type { EventFrame };
