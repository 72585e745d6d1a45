/**
 * Fault specs: Redis loses acknowledged entries by its own mechanisms, not by a test deleting
 * them: `maxmemory` eviction, a failover to a replica that lagged, and an OS crash that loses the
 * append-only file's tail that was not fsynced yet (an LD_PRELOAD shim records each fsync). Each
 * time the bus starts a new epoch, every subscriber errors with EpochChangedError, a fresh
 * `select` in the new epoch works, and no seq is reused silently.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EpochChangedError } from '../../../src/bus/errors.js';
import type { EventFrame } from '../../../src/bus/types.js';
import type { RedisEventBus } from '../../../src/redis/RedisEventBus.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, idOf, streamFrames } from './checker.js';
import { compileFsyncShim, cutToLastFsync, type FsyncShim } from './fsyncShim.js';
import { collect, event, FaultWorld, sleep, until } from './harness.js';
import { FaultProxy } from './proxy.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

/** A field of `INFO <section>`. */
async function info(redis: Redis, section: string, field: string): Promise<string | undefined> {
  const text = await redis.info(section);
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

/** Acknowledged frames, each with the epoch its bus was in when it resolved. */
type Acknowledged = Array<{ frame: EventFrame; epoch: string }>;

async function sendAll(bus: RedisEventBus, ids: readonly string[], into: Acknowledged) {
  for (const id of ids) into.push({ frame: await bus.send(event(id)), epoch: bus.epoch });
}

/**
 * What must hold after the loss: the subscriber errored with EpochChangedError from the epoch it
 * read, every frame it got before is the event acknowledged at that seq in that epoch (none of
 * another history), and a fresh select in the new epoch reads the stream as it is now.
 */
async function expectNewEpoch(options: {
  raw: Redis;
  stream: string;
  reader: RedisEventBus;
  writer: RedisEventBus;
  seen: ReturnType<typeof collect<EventFrame>>;
  oldEpoch: string;
  acknowledged: Acknowledged;
}): Promise<void> {
  const { raw, stream, reader, writer, seen, oldEpoch, acknowledged } = options;
  await until(() => seen.error() !== undefined, 'the subscriber to error', 10_000);
  expect(seen.error()).toBeInstanceOf(EpochChangedError);
  expect(seen.error()).toMatchObject({ expected: oldEpoch });
  expect(reader.epoch).not.toBe(oldEpoch);
  expect(reader.metrics().redis.epochChanges).toBeGreaterThanOrEqual(1);
  const old = new Map(
    acknowledged.filter((a) => a.epoch === oldEpoch).map((a) => [a.frame.seq, idOf(a.frame)]),
  );
  const mismatched = seen.values.filter((f) => old.get(f.seq) !== idOf(f));
  expect(mismatched.map((f) => f.seq)).toEqual([]);
  // The new epoch: publishing goes on (the writer learns of it at its next call), a cursor of
  // it reads the stream as it is.
  const head = reader.lastSeq;
  const fresh = collect(reader.select({}, { after: 0, epoch: reader.epoch }));
  const after: Acknowledged = [];
  await sendAll(writer, ['after-1', 'after-2'], after);
  expect(writer.epoch).toBe(reader.epoch);
  expect(after.every((a) => a.epoch === reader.epoch && a.frame.seq > head)).toBe(true);
  await until(() => fresh.values.at(-1)?.seq === after[1]!.frame.seq, 'the fresh subscriber');
  expect(fresh.error()).toBeUndefined();
  expect(
    checkRun({
      stream: await streamFrames(raw, stream),
      acknowledged: after.map((a) => a.frame),
      subscribers: [{ name: 'fresh', after: 0, frames: fresh.values }],
    }),
  ).toEqual([]);
  // A cursor of the old epoch is refused.
  const stale = collect(reader.select({}, { after: 1, epoch: oldEpoch }));
  expect(stale.error()).toBeInstanceOf(EpochChangedError);
}

describe.skipIf(version === undefined)(
  "Redis evicting the bus's keys (maxmemory, allkeys-lru)",
  () => {
    const world = new FaultWorld();
    beforeAll(() =>
      world.start({ extra: ['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru'] }),
    );
    afterEach(() => world.reset());
    afterAll(() => world.stop());

    it('keys evicted for real: a new epoch, every subscriber errors, a fresh select works', async () => {
      const stream = world.stream();
      const warnings: string[] = [];
      const writer = await world.bus(stream, { onWarning: (w) => warnings.push(w) });
      expect(warnings.join('\n')).toMatch(/maxmemory-policy is "allkeys-lru"/);
      const reader = await world.bus(stream);
      const seen = collect(reader.select({}, { after: 0 }));
      const oldEpoch = writer.epoch;
      const raw = world.client();
      const pad = 'x'.repeat(4000);
      const acknowledged: Acknowledged = [];
      // Publish until Redis evicts: about 3 MB of entries, then some.
      for (let i = 0; i < 3000 && seen.error() === undefined; i++) {
        const frame = await writer.send(event(i, { payload: { id: String(i), pad } }));
        acknowledged.push({ frame, epoch: writer.epoch });
        if (i % 100 === 99 && Number(await info(raw, 'stats', 'evicted_keys')) > 0) break;
      }
      const evicted = Number(await info(raw, 'stats', 'evicted_keys'));
      expect(evicted).toBeGreaterThan(0);
      // One more publish meets what is left (or not left) of the stream and its keys.
      acknowledged.push({ frame: await writer.send(event('last')), epoch: writer.epoch });
      await expectNewEpoch({ raw, stream, reader, writer, seen, oldEpoch, acknowledged });
      console.info(
        `eviction: ${evicted} keys evicted after ${acknowledged.length} sends; ${reader.metrics().redis.warnings.at(-1)}`,
      );
    }, 60_000);
  },
);

describe.skipIf(version === undefined)('a failover to a replica that lagged', () => {
  const world = new FaultWorld();
  let link: FaultProxy;
  let replica: RedisServer;
  beforeAll(async () => {
    await world.start();
    // The replica follows the primary through a proxy of its own, so that its link can stall.
    link = await FaultProxy.start(world.server.port);
    replica = await RedisServer.start({
      extra: ['--replicaof', '127.0.0.1', String(link.port)],
    });
  });
  afterAll(async () => {
    await world.reset();
    await replica?.stop();
    await link?.stop();
    await world.stop();
  });

  it('the primary killed, the lagging replica promoted behind the same address: a new epoch, never a reused seq', async () => {
    const stream = world.stream();
    // Both buses reach Redis through the world's proxy: the address the failover moves.
    const writer = await world.bus(stream, { viaProxy: true, commandTimeoutMs: 1000 });
    const reader = await world.bus(stream, { viaProxy: true, readTimeoutMs: 1000 });
    const seen = collect(reader.select({}, { after: 0 }));
    const oldEpoch = writer.epoch;
    const acknowledged: Acknowledged = [];
    await sendAll(
      writer,
      Array.from({ length: 30 }, (_, i) => `early-${i}`),
      acknowledged,
    );
    const toReplica = new Redis(replica.port, '127.0.0.1');
    toReplica.on('error', () => undefined);
    const replicated = async () => Number(await toReplica.xlen(stream).catch(() => 0));
    for (let i = 0; i < 200 && (await replicated()) < 30; i++) await sleep(25);
    expect(await replicated()).toBe(30);
    // The replication link stalls (a network partition): the replica lags from here on.
    link.halfOpen();
    await sendAll(
      writer,
      Array.from({ length: 30 }, (_, i) => `late-${i}`),
      acknowledged,
    );
    await until(() => seen.values.length === 60, 'the reader to see 60 frames');
    await sleep(100);
    expect(await replicated()).toBe(30);
    // The primary dies; the replica is promoted and takes over its address.
    await world.server.kill();
    await toReplica.call('REPLICAOF', 'NO', 'ONE');
    world.proxy.retarget(replica.port);
    world.proxy.cut();
    await expectNewEpoch({
      raw: toReplica,
      stream,
      reader,
      writer,
      seen,
      oldEpoch,
      acknowledged,
    });
    // The reader saw 60 frames; the promoted replica's new epoch starts after its 30.
    expect(seen.values).toHaveLength(60);
    expect(seen.error()).toMatchObject({ after: 60 });
    toReplica.disconnect();
  }, 60_000);
});

const shim = compileFsyncShim();
if ('skipped' in shim) console.warn(`skipping the OS-crash spec: ${shim.skipped}`);

describe.skipIf(version === undefined || 'skipped' in shim)(
  'an OS crash under appendfsync everysec (the AOF cut back to its last fsync)',
  () => {
    const world = new FaultWorld();
    const recorder = shim as FsyncShim;
    beforeAll(() =>
      world.start({
        appendfsync: 'everysec',
        env: { LD_PRELOAD: recorder.library, FSYNC_LOG: recorder.log },
      }),
    );
    afterEach(() => world.reset());
    afterAll(() => world.stop());

    it('the frames Redis acknowledged but had not fsynced are lost: a new epoch, every subscriber errors, no seq reused silently', async () => {
      const stream = world.stream();
      const writer = await world.bus(stream, { sendTimeoutMs: 20_000 });
      const reader = await world.bus(stream);
      const seen = collect(reader.select({}, { after: 0 }));
      const oldEpoch = writer.epoch;
      const acknowledged: Acknowledged = [];
      await sendAll(
        writer,
        Array.from({ length: 20 }, (_, i) => `synced-${i}`),
        acknowledged,
      );
      // The everysec fsync has run since.
      await sleep(1500);
      let cut: Record<string, number> = {};
      let lost = 0;
      let attempt = 0;
      for (; attempt < 5 && lost === 0; attempt++) {
        // A burst, seen by the reader, then the machine "crashes" at once: SIGKILL, and the AOF
        // cut back to what was fsynced.
        // Redis fsyncs (in the background) after a write when the last fsync was in an earlier
        // second: this send starts one, and the burst right behind it waits for the next second.
        await sendAll(writer, [`tick-${attempt}`], acknowledged);
        const burst = Array.from({ length: 40 }, (_, i) => event(`burst-${attempt}-${i}`));
        for (const frame of await writer.sendAll(burst)) {
          acknowledged.push({ frame, epoch: writer.epoch });
        }
        const top = acknowledged.at(-1)!.frame.seq;
        await until(() => seen.values.at(-1)?.seq === top, 'the reader to see the burst');
        await world.server.kill();
        cut = cutToLastFsync(recorder, world.server.dir);
        await world.server.restart();
        const raw = world.client();
        const kept = await raw.xlen(stream);
        lost = acknowledged.length - kept;
      }
      // Nothing lost in 5 attempts would mean an fsync each time between a burst and the kill.
      expect(lost).toBeGreaterThan(0);
      expect(Object.keys(cut)).not.toEqual([]);
      console.info(
        `OS crash: ${lost} of ${acknowledged.length} acknowledged frames lost with the AOF's unsynced tail (${JSON.stringify(cut)} bytes cut), attempt ${attempt}`,
      );
      await expectNewEpoch({
        raw: world.client(),
        stream,
        reader,
        writer,
        seen,
        oldEpoch,
        acknowledged,
      });
    }, 60_000);
  },
);
