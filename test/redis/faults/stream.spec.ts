/**
 * Fault specs on the stream's content and the bus's limits: foreign entries, bytes that are not
 * UTF-8, payload size, producer ids, notices of trimmed cursors, and replays read at the
 * consumer's pace.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../../src/bus/errors.js';
import type { EventFrame } from '../../../src/bus/types.js';
import type { FrameDecodeError } from '../../../src/redis/codec.js';
import { ProducerIdInUseError } from '../../../src/redis/errors.js';
import { RedisStreamArchive } from '../../../src/redis/RedisStreamArchive.js';
import { redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, idOf, streamFrames } from './checker.js';
import { collect, event, FaultWorld, LONG, sleep, until } from './harness.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

describe.skipIf(version === undefined)('the Redis stream under foreign writers and limits', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  it('skips entries another client added (XADD *, or at the next id) with a report, and publishing goes on', async () => {
    const stream = world.stream();
    const reports: FrameDecodeError[] = [];
    const a = await world.bus(stream, { onDecodeError: (error) => reports.push(error) });
    const seen = collect(a.select({}, { after: 0 }));
    const acknowledged = [await a.publish(event(1))];
    const raw = world.client();
    const star = (await raw.xadd(stream, '*', 'note', 'from another tool')) as string;
    acknowledged.push(await a.publish(event(2)));
    // At the next id, without the counter, in this library's encoding: a frame like any other.
    const next = acknowledged[1]!.seq + 1;
    await raw.xadd(
      stream,
      `${next}-0`,
      'm',
      '2 1',
      'e',
      JSON.stringify({ kind: 'tick', laneId: 'x', payload: { id: 'foreign' }, ts: 1 }),
    );
    acknowledged.push(await a.publish(event(3)));
    await until(() => seen.values.length === 4, 'the frames');
    expect(seen.values.map(idOf)).toEqual(['1', '2', 'foreign', '3']);
    // No frame at the foreign id's number; no gap notice for the seqs it jumped over.
    expect(seen.values.every((f: EventFrame) => f.overflow === undefined)).toBe(true);
    expect(reports.map((r) => [r.entryId, r.foreign])).toEqual([[star, true]]);
    expect(a.metrics().redis).toMatchObject({ foreign: 1, undecodable: 0 });
    // A replay from the stream skips it the same way.
    const replayed = collect(a.replay({}, 0));
    await until(() => replayed.done(), 'the replay');
    expect(replayed.values.map(idOf)).toEqual(['1', '2', 'foreign', '3']);
    const frames = await streamFrames(raw, stream);
    expect(
      checkRun({ stream: frames.slice(1), acknowledged: acknowledged.slice(1), subscribers: [] }),
    ).toEqual([]);
  });

  it('refuses bytes that are not UTF-8 (naming the entry), and lane ids and stream names that are not well-formed', async () => {
    const stream = world.stream();
    const reports: FrameDecodeError[] = [];
    const a = await world.bus(stream, { onDecodeError: (error) => reports.push(error) });
    const seen = collect(a.select({}, { after: 0 }));
    const raw = world.client();
    const body = Buffer.concat([
      Buffer.from('{"kind":"tick","laneId":"main","payload":{"id":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"},"ts":1}'),
    ]);
    await raw.xadd(stream, '1-0', 'm', '2 1', 'e', body);
    await raw.set(`${stream}:seq`, '1');
    await raw.hset(`${stream}:lanes`, 'main', '1');
    // A real U+FFFD in a payload is kept.
    await a.publish(event('\uFFFD'));
    await until(() => seen.values.length === 1, 'a frame');
    expect(reports.map((r) => r.message)).toEqual([
      'Undecodable stream entry 1-0: field "e" holds bytes that are not UTF-8',
    ]);
    expect(seen.values[0]).toMatchObject({
      seq: 2,
      payload: { id: '\uFFFD' },
      overflow: { fromSeq: 1, toSeq: 1 },
    });
    expect(() => a.publish(event(1, { laneId: 'lane\uD800' }))).toThrow(InvalidEventError);
    expect(() => a.publish(event(1, { laneId: 'lane\uD800' }))).toThrow(
      /laneId must be well-formed Unicode/,
    );
    expect(() => new RedisStreamArchive({ redis: raw, stream: 'x\uDC00' })).toThrow(
      /stream must be well-formed Unicode/,
    );
  });

  it('refuses a payload above maxPayloadBytes at once, with a clear error', async () => {
    const a = await world.bus(world.stream());
    const big = 'x'.repeat(5 * 1024 * 1024);
    expect(() => a.publish(event(1, { payload: { id: 1, big } }))).toThrow(
      /the event is \d+ bytes encoded, above maxPayloadBytes \(4194304\)/,
    );
    const small = await world.bus(world.stream(), { maxPayloadBytes: 1000 });
    // Counted in UTF-8 bytes: 400 three-byte characters are 1,200 bytes.
    expect(() => small.publish(event(1, { payload: { id: '€'.repeat(400) } }))).toThrow(
      InvalidEventError,
    );
    await expect(small.send(event(1, { payload: { id: '€'.repeat(400) } }))).rejects.toThrow(
      /maxPayloadBytes \(1000\)/,
    );
    expect((await small.publish(event('€'.repeat(200)))).seq).toBe(1);
    expect(small.metrics().redis.publishedHere).toBe(1);
  });

  it('refuses a second live bus with the same producerId; the id is free again after close', async () => {
    const stream = world.stream();
    const a = await world.bus(stream, { producerId: 'worker-1' });
    await expect(world.bus(stream, { producerId: 'worker-1' })).rejects.toBeInstanceOf(
      ProducerIdInUseError,
    );
    await expect(world.bus(stream, { producerId: 'worker-1' })).rejects.toThrow(
      /"worker-1" is held by another live bus/,
    );
    const other = await world.bus(stream, { producerId: 'worker-2' });
    const frames = await Promise.all([a.send(event('a')), other.send(event('b'))]);
    expect(frames.map((f) => f.seq).sort()).toEqual([1, 2]);
    await a.close();
    const again = await world.bus(stream, { producerId: 'worker-1' });
    expect((await again.send(event('c'))).seq).toBe(3);
    // A bus that vanished without close holds its id until the lease runs out.
    const leased = await world.bus(world.stream(), { producerId: 'w', producerLeaseMs: 300 });
    const leasedStream = leased.stream;
    (leased as unknown as { guard: { stopClaim(): void } }).guard.stopClaim();
    await expect(world.bus(leasedStream, { producerId: 'w' })).rejects.toBeInstanceOf(
      ProducerIdInUseError,
    );
    await sleep(400);
    expect((await world.bus(leasedStream, { producerId: 'w' })).stream).toBe(leasedStream);
  });

  it('tells a cursor whose frames were all trimmed of the gap, on the first live frame or at once', async () => {
    const stream = world.stream();
    const a = await world.bus(stream);
    for (let i = 1; i <= 30; i++) await a.publish(event(i, { runId: i <= 20 ? 'r' : 's' }));
    await a.archive.trim({ beforeSeq: 31 });
    const all = collect(
      a.select({}, { after: 10, queue: { capacity: 8, overflow: 'drop-oldest' } }),
    );
    // Frames 21..30 (run s) are retained until trimmed, none of them match run r.
    const filtered = collect(a.select({ runId: 'r' }, { after: 5 }));
    await a.publish(event('live', { runId: 'r' }));
    await until(() => all.values.length === 1 && filtered.values.length === 1, 'the live frame');
    expect(all.values[0]).toMatchObject({ seq: 31, overflow: { fromSeq: 11, toSeq: 30 } });
    expect(filtered.values[0]).toMatchObject({ seq: 31, overflow: { fromSeq: 6 } });
  });

  it("replays through iterate with 'backpressure' at the consumer's pace, and iterate's default loses none of a replay", async () => {
    const stream = world.stream();
    const frames = LONG ? 100_000 : 6000;
    const a = await world.bus(stream, { pageSize: 200 });
    for (let i = 0; i < frames; i += 500) {
      await a.publishAll(Array.from({ length: 500 }, (_, j) => event(i + j)));
    }
    // Pages the replay asks for (the archive's reads go through the bus's client).
    const redis = a.archive.redis;
    const xrange = redis.xrange.bind(redis);
    let pages = 0;
    redis.xrange = ((...args: Parameters<typeof xrange>) => {
      pages++;
      return xrange(...args);
    }) as typeof redis.xrange;
    const paced = a.iterate({}, { after: 0, queue: { capacity: 16, overflow: 'backpressure' } });
    for (let i = 0; i < 50; i++) await paced.next();
    await sleep(100);
    // 50 frames read: the history ring (1,000 newest) is not reached; the bus holds two pages of
    // its reader (1,024 frames each: the one read, and the next, asked for once the first came),
    // read from Redis 200 at a time: 12 XRANGE, not the 30 of all.
    expect(pages).toBeLessThanOrEqual(13);
    for (let i = 50; i < 1100; i++) await paced.next();
    await sleep(100);
    // Into the second page: the third is read ahead.
    expect(pages).toBeLessThanOrEqual(19);
    expect(a.metrics().subscribers[0]).toMatchObject({ replaying: true });
    expect(a.metrics().subscribers[0]!.depth).toBeLessThanOrEqual(16);
    await paced.return?.();
    // The default queue (drop-oldest 1,024) with a slow loop: every frame, no notice.
    let count = 0;
    let notices = 0;
    for await (const frame of a.iterate({}, { after: 0 })) {
      count++;
      if (frame.overflow !== undefined) notices++;
      if (count % 1000 === 0) await sleep(1);
      if (count === frames) break;
    }
    expect([count, notices]).toEqual([frames, 0]);
  });
});
