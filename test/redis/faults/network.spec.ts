/**
 * Fault specs through a proxy: a request held in the network past its client's patience (the
 * retry lands, then the original: appended once), and half-open connections (subscribers and
 * publishers resume within 15 s).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame } from '../../../src/bus/types.js';
import { RedisUnavailableError } from '../../../src/redis/errors.js';
import { redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, idOf, streamFrames } from './checker.js';
import { collect, event, FaultWorld, sleep, until } from './harness.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

describe.skipIf(version === undefined)('the Redis bus through a faulty network', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  it('a send whose request is held in the network until after its retry landed is appended once', async () => {
    const stream = world.stream();
    const a = await world.bus(stream, { viaProxy: true });
    // The script is loaded and the producer claimed: the next request is the send's own.
    await a.publish(event('warm-up'));
    const held = world.proxy.holdNextRequest();
    const sending = a.send(event('held'));
    const deliver = await held;
    const frame = await sending;
    expect(frame.seq).toBe(2);
    // The original reaches Redis now, after the retry: the producer's fence refuses it.
    await deliver();
    await a.publish(event('after'));
    const frames = await streamFrames(world.client(), stream);
    expect(frames.map(idOf)).toEqual(['warm-up', 'held', 'after']);
    expect(checkRun({ stream: frames, acknowledged: [frame], subscribers: [] })).toEqual([]);
  });

  it('half-open connections: the tail and the publishing connection are replaced, and both resume within 15 s', async () => {
    const stream = world.stream();
    const options = { viaProxy: true, commandTimeoutMs: 1000, readTimeoutMs: 1000 } as const;
    const subscriber = await world.bus(stream, options);
    const publisher = await world.bus(stream, options);
    const direct = await world.bus(stream);
    const seen = collect(subscriber.select());
    const acknowledged: EventFrame[] = [];
    for (let i = 0; i < 5; i++) acknowledged.push(await direct.publish(event(`before-${i}`)));
    await until(() => seen.values.length === 5, 'the first frames');
    const started = Date.now();
    world.proxy.halfOpen();
    // Published elsewhere meanwhile: the frozen tail must come back for them.
    for (let i = 0; i < 5; i++) acknowledged.push(await direct.publish(event(`during-${i}`)));
    // A send over the frozen publishing connection resolves once the connection is replaced.
    acknowledged.push(await publisher.send(event('sent'), { timeoutMs: 15_000 }));
    await until(() => seen.values.length === 11, 'the subscriber to resume', 15_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(subscriber.metrics().redis.connectionsReplaced).toBeGreaterThanOrEqual(1);
    expect(publisher.metrics().redis.connectionsReplaced).toBeGreaterThanOrEqual(1);
    // A publish over a connection that goes half-open settles too (rejects, outcome unknown).
    await sleep(50);
    world.proxy.halfOpen();
    const outcome = await publisher.publish(event('lost?')).then(
      (frame) => frame,
      (error: unknown) => error,
    );
    if (outcome instanceof RedisUnavailableError) expect(outcome.outcomeUnknown).toBe(true);
    else acknowledged.push(outcome as EventFrame);
    expect(
      checkRun({
        stream: await streamFrames(world.client(), stream),
        acknowledged,
        subscribers: [{ name: 'subscriber', after: 0, frames: seen.values }],
      }),
    ).toEqual([]);
  });

  it('lost replies, cut connections and delays under load: dense seqs, nothing twice, every acknowledged send present', async () => {
    const stream = world.stream();
    const options = { viaProxy: true, commandTimeoutMs: 1000, readTimeoutMs: 1000 } as const;
    const buses = [await world.bus(stream, options), await world.bus(stream, options)];
    const watcher = await world.bus(stream, options);
    const seen = collect(watcher.select({}, { after: 0 }));
    const acknowledged: EventFrame[] = [];
    let next = 0;
    const sender = async (index: number) => {
      for (let i = 0; i < 60; i++) {
        acknowledged.push(await (buses[index % 2] as (typeof buses)[0]).send(event(++next)));
      }
    };
    const faults = (async () => {
      for (let round = 0; round < 6; round++) {
        await sleep(40);
        if (round % 3 === 0) await Promise.race([world.proxy.loseNextReply(), sleep(500)]);
        else if (round % 3 === 1) world.proxy.cut();
        else {
          world.proxy.delay(30);
          await sleep(100);
          world.proxy.delay(0);
        }
      }
    })();
    await Promise.all([sender(0), sender(1), sender(2), sender(3), faults]);
    await until(() => seen.values.length >= 240, 'the watcher', 15_000);
    expect(
      checkRun({
        stream: await streamFrames(world.client(), stream),
        acknowledged,
        subscribers: [{ name: 'watcher', after: 0, frames: seen.values }],
      }),
    ).toEqual([]);
    expect(seen.values).toHaveLength(240);
  });
});
