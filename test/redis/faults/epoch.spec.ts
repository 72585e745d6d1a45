/**
 * Fault specs: a log that goes backwards or is replaced (data lost by Redis) starts a new epoch
 * and errors every subscriber with EpochChangedError; the server's durability settings are
 * reported at start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EpochChangedError } from '../../../src/bus/errors.js';
import type { EventFrame } from '../../../src/bus/types.js';
import { createRedisBus } from '../../../src/redis/RedisEventBus.js';
import { redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, streamFrames } from './checker.js';
import { collect, event, FaultWorld, until } from './harness.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

describe.skipIf(version === undefined)('a Redis log that went backwards or was replaced', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  it('acknowledged entries lost (as an OS crash under appendfsync everysec): new epoch, every subscriber errors, no seq reused silently', async () => {
    const stream = world.stream();
    const a = await world.bus(stream);
    const b = await world.bus(stream);
    const seen = collect(b.select());
    const live = collect(b.events$);
    const acknowledged = await Promise.all(
      Array.from({ length: 50 }, (_, i) => a.publish(event(`old-${i}`))),
    );
    await until(() => seen.values.length === 50, '50 frames');
    const old = b.epoch;
    expect(a.epoch).toBe(old);
    // Redis loses the last 10 acknowledged entries and the counter with them: what an AOF cut
    // back to its last fsync leaves.
    const raw = world.client();
    for (let seq = 41; seq <= 50; seq++) await raw.xdel(stream, `${seq}-0`);
    await raw.call('XSETID', stream, '40-0');
    await raw.set(`${stream}:seq`, '40');
    // A process that saw none of it publishes on: seq 41 again, another event.
    const c = await world.bus(stream);
    expect((await c.publish(event('new-1'))).seq).toBe(41);
    // b saw seq 50: it must not go on silently past seq 41 of another history.
    await until(() => seen.error() !== undefined, 'the subscriber to error', 5000);
    expect(seen.error()).toBeInstanceOf(EpochChangedError);
    expect(seen.error()).toMatchObject({ expected: old, after: 50 });
    expect(live.error()).toBeInstanceOf(EpochChangedError);
    expect(seen.values).toHaveLength(50);
    expect(b.epoch).not.toBe(old);
    expect(b.metrics().redis).toMatchObject({ epochChanges: 1 });
    expect(b.metrics().redis.warnings.join('\n')).toMatch(/went backwards or was replaced/);
    // a saw seq 50 too: its next publish is refused with the same error, then it is in the new
    // epoch; a send goes on in the new epoch.
    await expect(a.publish(event('a-late'))).rejects.toBeInstanceOf(EpochChangedError);
    expect(a.epoch).toBe(b.epoch);
    const sent = await a.send(event('a-new'));
    expect(sent.seq).toBe(42);
    // c learns it at its next publish.
    await expect(c.publish(event('c-late'))).rejects.toBeInstanceOf(EpochChangedError);
    expect(c.epoch).toBe(b.epoch);
    // A cursor of the old epoch is refused; one of the new epoch reads the new history.
    const stale = collect(b.select({}, { after: 41, epoch: old }));
    expect(stale.error()).toBeInstanceOf(EpochChangedError);
    const fresh = collect(b.select({}, { after: 40, epoch: b.epoch }));
    await until(() => fresh.values.length === 2, 'the new epoch from its cursor');
    expect(
      checkRun({
        stream: await streamFrames(raw, stream),
        acknowledged: [...acknowledged.slice(0, 40), sent],
        subscribers: [
          { name: 'b before', after: 0, frames: seen.values, epochEndedAt: 40 },
          { name: 'b after', after: 40, frames: fresh.values },
        ],
      }),
    ).toEqual([]);
  });

  it('the stream deleted or evicted while its counter stays: a new epoch at start and while running', async () => {
    const stream = world.stream();
    const a = await world.bus(stream);
    const seen = collect(a.select());
    await a.publish(event(1));
    await until(() => seen.values.length === 1, 'a frame');
    const old = a.epoch;
    const raw = world.client();
    await raw.del(stream);
    // The publish script sees a counter above 0 and no stream.
    await expect(a.publish(event(2))).rejects.toBeInstanceOf(EpochChangedError);
    expect(seen.error()).toBeInstanceOf(EpochChangedError);
    expect(a.epoch).not.toBe(old);
    expect((await a.publish(event(3))).seq).toBe(1);
    // At start: the counter ahead of the stream's last entry.
    await raw.set(`${stream}:seq`, '7');
    const b = await world.bus(stream);
    expect(b.epoch).not.toBe(a.epoch);
    expect(b.lastSeq).toBe(1);
  });
});

describe.skipIf(version === undefined)('a Redis without an append-only file (its default)', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start({ appendonly: false }));
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  it('says so at start (onWarning, metrics), refuses under durability: strict', async () => {
    const warnings: string[] = [];
    const a = await world.bus(world.stream(), { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/appendonly is "no".*set appendonly yes/)]);
    expect(a.metrics().redis.warnings).toEqual(warnings);
    await expect(
      createRedisBus({ redis: world.client(), stream: world.stream(), durability: 'strict' }),
    ).rejects.toThrow(/durability 'strict' refuses this server: appendonly is "no"/);
  });

  it('SIGKILLed and restarted, it comes back empty: every subscriber errors, publishing goes on in a new epoch', async () => {
    const stream = world.stream();
    const a = await world.bus(stream);
    const b = await world.bus(stream);
    const seen = collect(b.select());
    for (let i = 0; i < 20; i++) await a.publish(event(i));
    await until(() => seen.values.length === 20, '20 frames');
    const old = a.epoch;
    const pid = world.server.pid as number;
    process.kill(pid, 'SIGKILL');
    await until(() => !world.server.running, 'redis-server to die');
    await world.server.restart();
    // a's send waits for the connection, then finds the epoch key gone: a new epoch.
    const sent = await a.send(event('after'));
    expect(a.epoch).not.toBe(old);
    expect(sent.seq).toBe(1);
    await until(() => seen.error() !== undefined, 'the subscriber to error', 5000);
    expect(seen.error()).toBeInstanceOf(EpochChangedError);
    expect(seen.values.map((f: EventFrame) => f.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(b.epoch).toBe(a.epoch);
  });
});

describe.skipIf(version === undefined)('server settings that lose acknowledged frames', () => {
  const lossy = new FaultWorld();
  const locked = new FaultWorld();
  beforeAll(async () => {
    await lossy.start({
      appendfsync: 'everysec',
      extra: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    // As some managed services: CONFIG is not available.
    await locked.start({ extra: ['--rename-command', 'CONFIG', ''] });
  });
  afterEach(async () => {
    await lossy.reset();
    await locked.reset();
  });
  afterAll(async () => {
    await lossy.stop();
    await locked.stop();
  });

  it('warns of appendfsync everysec and of an eviction policy; says so when CONFIG GET is refused', async () => {
    const warnings: string[] = [];
    await lossy.bus(lossy.stream(), { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      expect.stringMatching(/appendfsync is "everysec": a crash of the machine/),
      expect.stringMatching(/maxmemory-policy is "allkeys-lru" with maxmemory 104857600/),
    ]);
    const refused = await locked.bus(locked.stream());
    expect(refused.metrics().redis.warnings).toEqual([
      expect.stringMatching(/the server refuses CONFIG GET .*cannot tell/),
    ]);
    await expect(
      createRedisBus({ redis: locked.client(), stream: locked.stream(), durability: 'strict' }),
    ).rejects.toThrow(/refuses CONFIG GET/);
  });
});
