/**
 * A fault run: publishers sending through the fault proxy while subscribers read, and every few
 * hundred milliseconds a fault (a lost reply, cut connections, half-open connections, a request
 * held until after its retry, delays, redis-server SIGKILLed and restarted with its append-only
 * file). The checker then verifies the stream and every log. The short form (a few seconds) runs
 * with the specs; `npm run test:faults` runs it for `REDIS_FAULTS_SECONDS` (default 120).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame } from '../../../src/bus/types.js';
import { RedisUnavailableError } from '../../../src/redis/errors.js';
import { redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, streamFrames } from './checker.js';
import { collect, event, FaultWorld, LONG, sleep, until } from './harness.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const seconds = LONG ? Number(process.env.REDIS_FAULTS_SECONDS ?? 120) : 4;

describe.skipIf(version === undefined)('a fault run', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterAll(async () => {
    await world.reset();
    await world.stop();
  });

  it(
    `${seconds} s of faults under load: dense seqs, nothing twice, every acknowledged send present, every log complete`,
    async () => {
      const stream = world.stream();
      const options = {
        viaProxy: true,
        commandTimeoutMs: 1000,
        readTimeoutMs: 1000,
        sendTimeoutMs: 20_000,
      } as const;
      const publishers = [
        await world.bus(stream, options),
        await world.bus(stream, options),
        await world.bus(stream, options),
      ];
      const proxied = await world.bus(stream, options);
      const direct = await world.bus(stream);
      const logs = [
        { name: 'through the proxy', seen: collect(proxied.select({}, { after: 0 })) },
        { name: 'direct', seen: collect(direct.select({}, { after: 0 })) },
      ];
      const acknowledged: EventFrame[] = [];
      const failures: unknown[] = [];
      const faults: Record<string, number> = {};
      let next = 0;
      let running = true;
      const sender = async (index: number) => {
        const bus = publishers[index % publishers.length] as (typeof publishers)[0];
        while (running) {
          try {
            acknowledged.push(await bus.send(event(`${index}-${++next}`)));
          } catch (error) {
            // A send may give up while Redis is down for long: never silently.
            if (!(error instanceof RedisUnavailableError)) throw error;
            failures.push(error);
          }
        }
      };
      const injector = async () => {
        const kinds = ['lose', 'cut', 'half-open', 'hold', 'delay', 'kill'];
        for (let round = 0; running; round++) {
          await sleep(150 + Math.floor(Math.random() * 250));
          const kind = kinds[round % kinds.length] as string;
          faults[kind] = (faults[kind] ?? 0) + 1;
          if (kind === 'lose') await Promise.race([world.proxy.loseNextReply(), sleep(300)]);
          else if (kind === 'cut') world.proxy.cut();
          else if (kind === 'half-open') world.proxy.halfOpen();
          else if (kind === 'hold') {
            const deliver = await Promise.race([world.proxy.holdNextRequest(), sleep(300)]);
            if (typeof deliver === 'function') {
              await sleep(1200);
              await deliver();
            }
          } else if (kind === 'delay') {
            world.proxy.delay(40);
            await sleep(200);
            world.proxy.delay(0);
          } else {
            await world.server.kill();
            await sleep(100);
            await world.server.restart();
          }
        }
      };
      const work = [sender(0), sender(1), sender(2), sender(3), sender(4), sender(5), injector()];
      await sleep(seconds * 1000);
      running = false;
      await Promise.all(work);
      const raw = world.client();
      const frames = await streamFrames(raw, stream);
      const last = frames.at(-1)?.seq ?? 0;
      for (const log of logs) {
        await until(
          () => (log.seen.values.at(-1)?.seq ?? 0) >= last,
          `${log.name} to reach seq ${last}`,
          20_000,
        );
      }
      const problems = checkRun({
        stream: frames,
        acknowledged,
        subscribers: logs.map((log) => ({ name: log.name, after: 0, frames: log.seen.values })),
      });
      console.info(
        `fault run: ${seconds} s, ${frames.length} frames, ${acknowledged.length} sends acknowledged, ${failures.length} gave up, faults ${JSON.stringify(faults)}, connections replaced ${publishers.reduce((sum, bus) => sum + bus.metrics().redis.connectionsReplaced, proxied.metrics().redis.connectionsReplaced)}`,
      );
      expect(problems).toEqual([]);
      expect(logs.map((log) => log.seen.error())).toEqual([undefined, undefined]);
      expect(acknowledged.length).toBeGreaterThan(0);
    },
    (seconds + 60) * 1000,
  );
});
