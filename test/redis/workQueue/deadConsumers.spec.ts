/**
 * RedisWorkQueue removes the consumers of workers that are gone, against a real redis-server:
 * only once they hold nothing and were idle for twice the visibility timeout, never one that
 * holds a job, never the worker itself.
 */
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisWorkQueue } from '../../../src/redis/index.js';
import { forgetIdleConsumers } from '../../../src/redis/workQueueClaims.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(version === undefined)(
  'RedisWorkQueue: consumers of workers gone (real redis-server)',
  () => {
    let server: RedisServer;
    let redis: Redis;
    let n = 0;

    beforeAll(async () => {
      server = await RedisServer.start({ appendonly: false });
      redis = new Redis(server.port, '127.0.0.1');
    });
    afterAll(async () => {
      redis?.disconnect();
      await server?.stop();
    });

    async function consumers(key: string): Promise<Map<string, number>> {
      const list = (await redis.call('XINFO', 'CONSUMERS', key, 'workers')) as unknown[][];
      return new Map(list.map((fields) => [String(fields[1]), Number(fields[3])]));
    }

    it('removes only consumers that hold nothing and were idle long enough, never the caller', async () => {
      const key = `dead${++n}:p0`;
      await redis.call('XGROUP', 'CREATE', key, 'workers', '0', 'MKSTREAM');
      for (const name of ['gone', 'me']) {
        await redis.call('XGROUP', 'CREATECONSUMER', key, 'workers', name);
      }
      await redis.xadd(key, '*', 'id', 'held', 'j', '1');
      await redis.call(
        'XREADGROUP',
        'GROUP',
        'workers',
        'holding',
        'COUNT',
        1,
        'STREAMS',
        key,
        '>',
      );
      await sleep(60);
      await redis.call('XGROUP', 'CREATECONSUMER', key, 'workers', 'fresh');
      const target = { redis, group: 'workers', consumer: 'me' };
      expect(await forgetIdleConsumers(target, [key], 50)).toEqual(['gone']);
      // 'holding' keeps its job and stays, however long idle; 'fresh' was idle for less; 'me' is the caller.
      expect(await consumers(key)).toEqual(
        new Map([
          ['fresh', 0],
          ['holding', 1],
          ['me', 0],
        ]),
      );
      expect(((await redis.xpending(key, 'workers')) as [number])[0]).toBe(1);
    });

    it('a worker takes over the jobs of one that died, then removes its consumer', async () => {
      const name = `dead${++n}`;
      const key = `${name}:p0`;
      const queue = new RedisWorkQueue<number>({ redis, name });
      await queue.add(7, { id: 'orphan' });
      await redis.call('XGROUP', 'CREATE', key, 'workers', '0', 'MKSTREAM').catch(() => undefined);
      // A worker that read the job and died.
      await redis.call('XREADGROUP', 'GROUP', 'workers', 'died', 'COUNT', 1, 'STREAMS', key, '>');
      const options = { consumer: 'alive', visibilityMs: 100, claimEveryMs: 20, pollMs: 10 };
      const outcome = await firstValueFrom(queue.process(async (job) => job * 2, options));
      expect(outcome).toMatchObject({
        id: 'orphan',
        status: 'done',
        result: 14,
        redelivered: true,
      });
      const sub = queue.process(async (job) => job, options).subscribe();
      try {
        while ((await consumers(key)).has('died')) await sleep(20);
        expect([...(await consumers(key)).keys()]).toEqual(['alive']);
      } finally {
        sub.unsubscribe();
      }
    });
  },
);
