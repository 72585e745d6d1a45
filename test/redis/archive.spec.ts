import { Redis } from 'ioredis';
import { count, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_PAGE } from '../../src/bus/LogReader.js';
import type { EventFrame } from '../../src/bus/types.js';
import {
  decodeEntry,
  encodeEventBody,
  encodeFields,
  FRAME_ENCODING_VERSION,
  FrameDecodeError,
  seqOfEntryId,
} from '../../src/redis/codec.js';
import { RedisStreamArchive } from '../../src/redis/RedisStreamArchive.js';
import { StreamPublisher, streamKeys } from '../../src/redis/StreamPublisher.js';
import { publishScript } from '../../src/redis/scripts.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from './redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

function frame(seq: number, kind = 'tick', extra: Partial<EventFrame> = {}): EventFrame {
  return { seq, laneSeq: seq, ts: 1000 + seq, kind, laneId: 'main', ...extra };
}

describe('codec', () => {
  it('round-trips every field and takes seq from the entry id', () => {
    const body = encodeEventBody(
      {
        kind: 'model.delta',
        runId: 'r',
        agentId: 'a',
        visibility: 'internal',
        payload: { text: 'hi' },
      },
      'l2',
      42,
    );
    const expected = {
      seq: 7,
      laneSeq: 3,
      ts: 42,
      kind: 'model.delta',
      runId: 'r',
      agentId: 'a',
      laneId: 'l2',
      visibility: 'internal',
      payload: { text: 'hi' },
    };
    expect(encodeFields(3, body, 'prod 1:9')).toEqual(['m', '2 3 prod 1:9', 'e', body]);
    expect(encodeFields(3, body)).toEqual(['m', '2 3', 'e', body]);
    expect(decodeEntry(['7-0', encodeFields(3, body, 'prod 1:9')])).toEqual(expected);
    expect(decodeEntry(['7-0', encodeFields(3, body)])).toEqual(expected);
    // Fields in another order, or with others beside them, are found by name.
    expect(decodeEntry(['7-0', ['x', 'y', 'e', body, 'm', '2 3']])).toEqual(expected);
  });

  it('still decodes version 1 entries (four fields: v, l, e, p)', () => {
    const body = encodeEventBody({ kind: 'k', runId: 'r', payload: [1] }, 'main', 5);
    const expected = {
      seq: 4,
      laneSeq: 2,
      ts: 5,
      kind: 'k',
      runId: 'r',
      laneId: 'main',
      payload: [1],
    };
    expect(decodeEntry(['4-0', ['v', '1', 'l', '2', 'e', body, 'p', 'prod:3']])).toEqual(expected);
    expect(decodeEntry(['4-0', ['v', '1', 'l', '2', 'e', body]])).toEqual(expected);
  });

  it.each([
    [['1700000000000-1', ['v', '1', 'l', '1', 'e', '{}']], 'not of the form <seq>-0'],
    [['1-0', ['l', '1', 'e', '{}']], 'no encoding version'],
    [['1-0', ['v', '2', 'l', '1', 'e', '{}']], 'unknown encoding version "2" in field "v"'],
    [['1-0', ['m', '3 1', 'e', '{}']], 'unknown encoding version "3" in field "m"'],
    [['1-0', ['m', '21 1', 'e', '{}']], 'unknown encoding version "21"'],
    [['1-0', ['m', '2', 'e', '{}']], 'laneSeq'],
    [['1-0', ['m', '2 0 p:1', 'e', '{}']], 'laneSeq'],
    [['1-0', ['m', '2 x', 'e', '{}']], 'laneSeq'],
    [['1-0', ['m', '2 1']], 'no event field'],
    [['1-0', ['m', '2 1', 'e', '{"kind":"k","laneId":"m","ts":1,"agentId":[]}']], '"agentId"'],
    [['1-0', ['v', '1', 'l', 'x', 'e', '{}']], 'laneSeq'],
    [['1-0', ['v', '1', 'l', '1']], 'no event field'],
    [['1-0', ['v', '1', 'l', '1', 'e', '{']], 'not JSON'],
    [['1-0', ['v', '1', 'l', '1', 'e', '[]']], 'not a JSON object'],
    [['1-0', ['v', '1', 'l', '1', 'e', '{"laneId":"main","ts":1}']], '"kind"'],
    [['1-0', ['v', '1', 'l', '1', 'e', '{"kind":"k","ts":1}']], '"laneId"'],
    [['1-0', ['v', '1', 'l', '1', 'e', '{"kind":"k","laneId":"m"}']], '"ts"'],
    [['1-0', ['v', '1', 'l', '1', 'e', '{"kind":"k","laneId":"m","ts":1,"runId":3}']], '"runId"'],
    [
      ['1-0', ['v', '1', 'l', '1', 'e', '{"kind":"k","laneId":"m","ts":1,"visibility":"x"}']],
      '"visibility"',
    ],
  ] as const)('reports %j as undecodable (%s)', (entry, reason) => {
    const decoded = decodeEntry([entry[0], [...entry[1]]]);
    expect(decoded).toBeInstanceOf(FrameDecodeError);
    expect((decoded as FrameDecodeError).message).toContain(reason);
    expect((decoded as FrameDecodeError).entryId).toBe(entry[0]);
  });

  it('parses only <seq>-0 ids as seqs', () => {
    expect(seqOfEntryId('12-0')).toBe(12);
    expect(seqOfEntryId('12-1')).toBeUndefined();
    expect(seqOfEntryId('0-0')).toBeUndefined();
    expect(seqOfEntryId('12-00')).toBeUndefined();
    expect(seqOfEntryId('-0')).toBeUndefined();
  });
});

describe.skipIf(version === undefined)('RedisStreamArchive on a real redis-server', () => {
  let server: RedisServer;
  let redis: Redis;
  let n = 0;
  let stream: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(() => {
    stream = `archive-${++n}`;
  });

  /** A client of its own for an archive, recording the entries each of its XRANGE asks for. */
  function countingXrange(): { client: Redis; counts: number[] } {
    const client = redis.duplicate();
    const counts: number[] = [];
    const xrange = client.xrange.bind(client) as (...args: unknown[]) => Promise<unknown>;
    client.xrange = ((...args: unknown[]) => {
      counts.push(Number(args.at(-1)));
      return xrange(...args);
    }) as typeof client.xrange;
    return { client, counts };
  }

  it('validates its options', () => {
    expect(() => new RedisStreamArchive({ redis, stream: '' })).toThrow(
      /stream must be a non-empty string/,
    );
    expect(() => new RedisStreamArchive({ redis, stream, pageSize: 0 })).toThrow(
      /pageSize must be a positive integer, got 0/,
    );
    expect(() => new RedisStreamArchive({ redis, stream, maxLen: 1.5 })).toThrow(/maxLen.*1.5/);
    expect(() => new RedisStreamArchive({ redis: undefined as never, stream })).toThrow(TypeError);
    const archive = new RedisStreamArchive({ redis, stream });
    expect(() => archive.replay({}, -1)).toThrow(
      /after must be a non-negative integer seq, got -1/,
    );
    expect(() => archive.replay({}, 0, 0)).toThrow(
      /^RedisStreamArchive\.replay: limit must be a positive integer or Infinity, got 0/,
    );
  });

  it('appends frames and replays them after a cursor, across pages, with the filter applied', async () => {
    const archive = new RedisStreamArchive({ redis, stream, pageSize: 3 });
    for (let seq = 1; seq <= 10; seq++) {
      await archive.append(
        frame(seq, seq % 2 === 0 ? 'even' : 'odd', { runId: seq <= 5 ? 'a' : 'b' }),
      );
    }
    const all = await lastValueFrom(archive.replay({}, 0).pipe(toArray()));
    expect(all.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(all[0]).toEqual(frame(1, 'odd', { runId: 'a' }));
    const after4 = await lastValueFrom(archive.replay({ kinds: ['even'] }, 4).pipe(toArray()));
    expect(after4.map((f) => f.seq)).toEqual([6, 8, 10]);
    const runA = await lastValueFrom(archive.replay({ runId: 'a' }, 2).pipe(toArray()));
    expect(runA.map((f) => f.seq)).toEqual([3, 4, 5]);
    expect(await lastValueFrom(archive.replay({}, 10).pipe(toArray()))).toEqual([]);
    expect(await archive.lastSeq()).toBe(10);
    expect(await archive.firstSeq()).toBe(1);
  });

  it('honours visibility: a filter without visibility sees public frames only', async () => {
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(1, 'k', { visibility: 'public' }));
    await archive.append(frame(2, 'k', { visibility: 'internal' }));
    await archive.append(frame(3, 'k', { visibility: 'private' }));
    await archive.append(frame(4, 'k'));
    const seqs = async (visibility?: 'public' | 'internal' | 'private') =>
      (
        await lastValueFrom(archive.replay(visibility ? { visibility } : {}, 0).pipe(toArray()))
      ).map((f) => f.seq);
    expect(await seqs()).toEqual([1, 4]);
    expect(await seqs('internal')).toEqual([1, 2, 4]);
    expect(await seqs('private')).toEqual([1, 2, 3, 4]);
  });

  it('errors the replay when where throws, and when Redis answers an error', async () => {
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(1));
    const boom = new Error('boom');
    await expect(
      lastValueFrom(
        archive.replay(
          {
            where: () => {
              throw boom;
            },
          },
          0,
        ),
      ),
    ).rejects.toBe(boom);
    await redis.set(`${stream}-string`, 'x');
    const wrongType = new RedisStreamArchive({ redis, stream: `${stream}-string` });
    await expect(lastValueFrom(wrongType.replay({}, 0))).rejects.toThrow(/WRONGTYPE/);
  });

  it('refuses to append a seq not above the last one', async () => {
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(5));
    await expect(archive.append(frame(5))).rejects.toThrow(/equal or smaller/);
  });

  it('reports a trimmed range as a drop-oldest notice on the first frame after the cursor', async () => {
    const archive = new RedisStreamArchive({ redis, stream, exactTrim: true });
    for (let seq = 1; seq <= 10; seq++) await archive.append(frame(seq));
    expect(await archive.trim({ beforeSeq: 7 })).toBe(6);
    const replayed = await lastValueFrom(archive.replay({}, 2).pipe(toArray()));
    expect(replayed.map((f) => f.seq)).toEqual([7, 8, 9, 10]);
    expect(replayed[0]!.overflow).toEqual({
      policy: 'drop-oldest',
      dropped: 4,
      merged: 0,
      fromSeq: 3,
      toSeq: 6,
      terminalPreserved: false,
    });
    expect(replayed[1]!.overflow).toBeUndefined();
    expect(await archive.trim({ maxLen: 2 })).toBe(2);
    expect(await archive.firstSeq()).toBe(9);
  });

  it('trims on append with maxLen', async () => {
    const archive = new RedisStreamArchive({ redis, stream, maxLen: 3, exactTrim: true });
    for (let seq = 1; seq <= 10; seq++) await archive.append(frame(seq));
    expect(await redis.xlen(stream)).toBe(3);
    const replayed = await lastValueFrom(archive.replay({}, 0).pipe(toArray()));
    expect(replayed.map((f) => f.seq)).toEqual([8, 9, 10]);
    expect(replayed[0]!.overflow).toMatchObject({ fromSeq: 1, toSeq: 7, dropped: 7 });
  });

  it('skips undecodable entries, reports them, and tells the next frame', async () => {
    const errors: FrameDecodeError[] = [];
    const archive = new RedisStreamArchive({ redis, stream, onDecodeError: (e) => errors.push(e) });
    await archive.append(frame(1));
    await redis.xadd(stream, '2-0', 'v', '9', 'e', 'garbage');
    await redis.xadd(stream, '3-0', 'v', '1', 'l', '1', 'e', '{not json');
    await archive.append(frame(4));
    const replayed = await lastValueFrom(archive.replay({}, 0).pipe(toArray()));
    expect(replayed.map((f) => f.seq)).toEqual([1, 4]);
    expect(replayed[1]!.overflow).toMatchObject({
      policy: 'drop-incoming',
      dropped: 2,
      fromSeq: 2,
      toSeq: 3,
    });
    expect(errors.map((e) => e.seq)).toEqual([2, 3]);
  });

  it('with a limit, reads no more entries than frames are still wanted, and completes at it', async () => {
    const { client, counts } = countingXrange();
    const archive = new RedisStreamArchive({ redis: client, stream, pageSize: 4 });
    for (let seq = 1; seq <= 20; seq++) await archive.append(frame(seq, seq % 3 ? 'k' : 'third'));
    const firstSix = await lastValueFrom(archive.replay({}, 0, 6).pipe(toArray()));
    expect(firstSix.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(counts).toEqual([4, 2]);
    // Entries filtered out are not frames: pages go on, each asking for the frames still wanted.
    counts.length = 0;
    const thirds = await lastValueFrom(archive.replay({ kinds: ['third'] }, 2, 3).pipe(toArray()));
    expect(thirds.map((f) => f.seq)).toEqual([3, 6, 9]);
    expect(counts).toEqual([3, 2, 1, 1]);
    client.disconnect();
  });

  it('by default, reads a page the bus takes (ARCHIVE_PAGE frames) in one XRANGE', async () => {
    const { client, counts } = countingXrange();
    const archive = new RedisStreamArchive({ redis: client, stream });
    const total = ARCHIVE_PAGE + 6;
    for (let seq = 1; seq <= total; seq++) await archive.append(frame(seq));
    expect(await lastValueFrom(archive.replay({}, 0, ARCHIVE_PAGE).pipe(count()))).toBe(
      ARCHIVE_PAGE,
    );
    expect(counts).toEqual([ARCHIVE_PAGE]);
    counts.length = 0;
    expect(await lastValueFrom(archive.replay({}, 0).pipe(count()))).toBe(total);
    expect(counts).toEqual([ARCHIVE_PAGE, ARCHIVE_PAGE]);
    client.disconnect();
  });

  it('stops reading pages when unsubscribed', async () => {
    const archive = new RedisStreamArchive({ redis, stream, pageSize: 2 });
    for (let seq = 1; seq <= 9; seq++) await archive.append(frame(seq));
    const first = await firstValueFrom(archive.replay({}, 0).pipe(take(3), toArray()));
    expect(first.map((f) => f.seq)).toEqual([1, 2, 3]);
  });

  it('stamps dense seqs and laneSeqs atomically; a retry finds its first attempt instead of appending again', async () => {
    const keys = streamKeys(stream);
    const publisher = new StreamPublisher(redis, keys, [], 100);
    const body = (lane: string) => encodeEventBody({ kind: 'k' }, lane, 1);
    const stamps = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        publisher.stamp(
          i % 3 === 0 ? 'x' : 'y',
          `${i % 2 === 0 ? 'p1' : 'p2'}:${i + 1}`,
          body('l'),
        ),
      ),
    );
    expect(stamps.map((s) => s.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const lanes = await redis.hgetall(keys.lanes);
    expect(Number(lanes.x) + Number(lanes.y)).toBe(200);
    for (const lane of ['x', 'y']) {
      const laneSeqs = stamps
        .filter((_, i) => (i % 3 === 0 ? 'x' : 'y') === lane)
        .sort((a, b) => a.seq - b.seq)
        .map((s) => s.laneSeq);
      expect(laneSeqs).toEqual(Array.from({ length: Number(lanes[lane]) }, (_, i) => i + 1));
    }
    // A retry of p2:150 that knows its first attempt came after seq 120 finds it.
    const again = await publisher.stamp('y', 'p2:150', body('y'), 120);
    expect(again).toEqual({ ...stamps[149], repeated: true });
    // Searched only after the given seq, and at most 100 entries: not found, so appended.
    const beyond = await publisher.stamp('y', 'p2:150', body('y'), 150);
    expect(beyond).toMatchObject({ seq: 201, repeated: false });
    const fresh = await publisher.stamp('y', 'p3:1', body('y'), 0);
    expect(fresh).toMatchObject({ seq: 202, repeated: false });
    // The first leaves alone; the retry and the fresh one after it share a call.
    const mixed = await Promise.all([
      publisher.stamp('x', 'p4:1', body('x')),
      publisher.stamp('y', 'p2:150', body('y'), 120),
      publisher.stamp('x', 'p4:2', body('x')),
    ]);
    expect(mixed).toEqual([
      { seq: 203, laneSeq: Number(lanes.x) + 1, repeated: false },
      { ...stamps[149], repeated: true },
      { seq: 204, laneSeq: Number(lanes.x) + 2, repeated: false },
    ]);
    expect(await redis.xlen(stream)).toBe(204);
    const archive = new RedisStreamArchive({ redis, stream });
    const frames = await lastValueFrom(archive.replay({}, 0).pipe(toArray()));
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: 204 }, (_, i) => i + 1));
  });

  it('moves its counter past entries added without it, and leaves no hole when Redis refuses an append', async () => {
    const keys = streamKeys(stream);
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(3));
    const publisher = new StreamPublisher(redis, keys, [], 10);
    // The counter (0) is behind the stream (3): it moves up, and the seqs go on from there.
    expect(
      await publisher.stamp('main', 'p:1', encodeEventBody({ kind: 'k' }, 'main', 1)),
    ).toMatchObject({ seq: 4 });
    expect(await redis.get(keys.seq)).toBe('4');
    // A key of another type: refused, and the counters are given back.
    await redis.rename(stream, `${stream}:aside`);
    await redis.set(stream, 'not a stream');
    await expect(
      publisher.stamp('main', 'p:2', encodeEventBody({ kind: 'k' }, 'main', 1)),
    ).rejects.toThrow(/XADD refused seq 5 .*WRONGTYPE/);
    expect(await redis.get(keys.seq)).toBe('4');
    expect(await redis.hget(keys.lanes, 'main')).toBe('1');
  });

  it('groups concurrent stamps into few script calls, in call order', async () => {
    const publisher = new StreamPublisher(redis, streamKeys(stream), [], 10);
    const before = Number(
      (await redis.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0,
    );
    const stamps = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        publisher.stamp('main', `p:${i}`, encodeEventBody({ kind: 'k', payload: i }, 'main', 1)),
      ),
    );
    expect(stamps.map((s) => s.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const after = Number(
      (await redis.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0,
    );
    expect(after - before).toBeLessThanOrEqual(3);
  });

  it('rejects the refused event of a call and the ones after it, keeping those before', async () => {
    const keys = streamKeys(stream);
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(3));
    await redis.set(keys.seq, '3');
    const publisher = new StreamPublisher(redis, keys, [], 10);
    const body = encodeEventBody({ kind: 'k' }, 'main', 1);
    // p:1 leaves at once (no call under way); the next four wait for the end of this turn and
    // leave together in one call.
    const first = [publisher.stamp('main', 'p:1', body), publisher.stamp('main', 'p:2', body)];
    const batch = [
      publisher.stamp('main', 'p:3', body),
      publisher.stamp('main', 'p:4', body),
      publisher.stamp('main', 'p:5', body),
    ];
    expect((await Promise.all(first)).map((s) => s.seq)).toEqual([4, 5]);
    const outcomes = await Promise.allSettled(batch);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { seq: 6 } });
    expect(outcomes.slice(1).every((o) => o.status === 'fulfilled')).toBe(true);
    // The stream replaced by a key of another type: every XADD is refused. p:6 goes out alone,
    // p:7, p:8 and p:9 together: p:7 is refused and the two after it are not attempted.
    await redis.rename(stream, `${stream}:aside`);
    await redis.set(stream, 'not a stream');
    const refused = await Promise.allSettled([
      publisher.stamp('main', 'p:6', body),
      publisher.stamp('main', 'p:7', body),
      publisher.stamp('main', 'p:8', body),
      publisher.stamp('main', 'p:9', body),
    ]);
    expect(refused.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    const reasons = refused.map((o) => (o as PromiseRejectedResult).reason as Error);
    expect(reasons.map((reason) => reason.name)).toEqual(Array(4).fill('ReplyError'));
    expect(reasons.map((reason) => /XADD refused/.test(reason.message))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(reasons[3]!.message).toMatch(/not attempted/);
    expect(await redis.get(keys.seq)).toBe('8');
    await redis.del(stream);
    await redis.rename(`${stream}:aside`, stream);
    expect(await redis.xlen(stream)).toBe(6);
  });

  const NO_CHECKS = ['', '0', '', '0'];

  const commandCalls = async (command: string) =>
    Number(
      (await redis.info('commandstats')).match(
        new RegExp(`cmdstat_${command}:calls=(\\d+)`),
      )?.[1] ?? 0,
    );

  it('stamps a call with several lanes densely, in call order, with one INCRBY and one HINCRBY per lane', async () => {
    const keys = streamKeys(stream);
    const archive = new RedisStreamArchive({ redis, stream });
    await archive.append(frame(10));
    await redis.set(keys.seq, '10');
    await redis.hset(keys.lanes, 'a', '5');
    const script = publishScript(FRAME_ENCODING_VERSION, [], 100);
    const body = encodeEventBody({ kind: 'k' }, 'main', 1);
    const [incrBefore, hincrBefore] = [await commandCalls('incrby'), await commandCalls('hincrby')];
    const lanes = ['a', 'b', 'a', 'c', 'b'];
    const reply = await redis.eval(
      script,
      5,
      keys.stream,
      keys.seq,
      keys.lanes,
      keys.epoch,
      keys.producer,
      // The header: no epoch, no fence (see publishScript).
      ...NO_CHECKS,
      ...lanes.flatMap((lane, i) => [lane, `p:${i + 1}`, body, '']),
    );
    // The first seq, then each event's laneSeq.
    expect(reply).toEqual([11, 6, 1, 7, 1, 2]);
    expect(await commandCalls('incrby')).toBe(incrBefore + 1);
    expect(await commandCalls('hincrby')).toBe(hincrBefore + 3);
    expect(await redis.hgetall(keys.lanes)).toEqual({ a: '7', b: '2', c: '1' });
    const entries = await redis.xrange(stream, '11-0', '+');
    expect(entries.map(([id, fields]) => [id, fields[1]])).toEqual([
      ['11-0', '2 6 p:1'],
      ['12-0', '2 1 p:2'],
      ['13-0', '2 7 p:3'],
      ['14-0', '2 1 p:4'],
      ['15-0', '2 2 p:5'],
    ]);
    // A retry found between fresh events takes no seq: the fresh ones count on past it.
    const mixed = await redis.eval(
      script,
      5,
      keys.stream,
      keys.seq,
      keys.lanes,
      keys.epoch,
      keys.producer,
      // The header: no epoch, no fence (see publishScript).
      ...NO_CHECKS,
      ...['b', 'p:6', body, ''],
      ...['a', 'p:3', body, '10'],
      ...['b', 'p:7', body, ''],
    );
    expect(mixed).toEqual([16, 3, [13, 7], 4]);
  });

  it('gives back exactly the seqs and laneSeqs a refused call took, whatever its lanes and retries', async () => {
    const keys = streamKeys(stream);
    const script = publishScript(FRAME_ENCODING_VERSION, [], 100);
    const body = encodeEventBody({ kind: 'k' }, 'main', 1);
    const run = (...events: [lane: string, tag: string, retryAfter: string][]) =>
      redis.eval(
        script,
        5,
        keys.stream,
        keys.seq,
        keys.lanes,
        keys.epoch,
        keys.producer,
        ...NO_CHECKS,
        ...events.flatMap(([lane, tag, retryAfter]) => [lane, tag, body, retryAfter]),
      ) as Promise<unknown[]>;
    expect(await run(['a', 'p:1', ''], ['b', 'p:2', ''])).toEqual([1, 1, 1]);
    // The counter pulled back below the stream (as when another client appended): the call's
    // first XADD is refused, the counter moves up to the stream's end, and the seqs go on from
    // there. The retries (before, between and after the fresh events) still find their first
    // attempts.
    await redis.set(keys.seq, '1');
    const reply = await run(
      ['b', 'p:2', '0'],
      ['a', 'p:3', ''],
      ['b', 'p:4', ''],
      ['a', 'p:5', ''],
      ['a', 'p:1', '0'],
    );
    // Appended from seq 3 on, p:2 found as [seq, laneSeq], p:3, p:4 and p:5 appended at 3, 4
    // and 5, p:1 found.
    expect(reply).toEqual([3, [2, 1], 2, 2, 3, [1, 1]]);
    expect(await redis.get(keys.seq)).toBe('5');
    expect(await redis.hgetall(keys.lanes)).toEqual({ a: '3', b: '2' });
    expect(await redis.xlen(stream)).toBe(5);
    // A lane counter Redis cannot increment: nothing is appended, nothing is left taken.
    await redis.hset(keys.lanes, 'c', 'not a number');
    const refused = await run(
      ['a', 'p:6', ''],
      ['b', 'p:7', ''],
      ['c', 'p:8', ''],
      ['a', 'p:9', ''],
    );
    expect(refused[0]).toBe(0);
    expect(String(refused[1])).toMatch(/HINCRBY refused lane c/);
    expect(refused.slice(2)).toEqual(['', '', '']);
    expect(await redis.get(keys.seq)).toBe('5');
    expect(await redis.hgetall(keys.lanes)).toEqual({ a: '3', b: '2', c: 'not a number' });
    // And the next call goes on densely from there.
    await redis.hdel(keys.lanes, 'c');
    expect(await run(['c', 'p:10', ''], ['a', 'p:11', ''])).toEqual([6, 1, 4]);
  });

  it('sends the publishes made in reaction to replies together (no call of one event each)', async () => {
    const publisher = new StreamPublisher(redis, streamKeys(stream), [], 10);
    const before = await commandCalls('evalsha');
    const body = encodeEventBody({ kind: 'k' }, 'main', 1);
    let tag = 0;
    // 32 publishers in a loop, each waiting for its previous stamp, 320 stamps in all.
    const worker = async () => {
      for (let i = 0; i < 10; i++) await publisher.stamp('main', `p:${++tag}`, body);
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const calls = (await commandCalls('evalsha')) - before;
    // Each call carries what the replies before it released (measured: 11 calls). Sending a
    // publish at once whenever a call slot is free splits them up (measured: 21 calls).
    expect(calls).toBeLessThanOrEqual(16);
    expect(await redis.xlen(stream)).toBe(320);
  });

  it('reloads the script after the server restarts with an empty script cache', async () => {
    const publisher = new StreamPublisher(redis, streamKeys(stream), [], 10);
    await publisher.stamp('main', 'p:1', encodeEventBody({ kind: 'k' }, 'main', 1));
    await redis.script('FLUSH');
    expect(
      await publisher.stamp('main', 'p:2', encodeEventBody({ kind: 'k' }, 'main', 1)),
    ).toMatchObject({ seq: 2 });
  });
});
