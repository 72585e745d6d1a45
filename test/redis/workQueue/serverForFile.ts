/**
 * The redis-server of one spec file of the work queue: started before the file's tests (without
 * persistence), stopped after them, with a client of it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from '../redisServer.js';

/** Set once the file's `beforeAll` ran. */
export interface ServerForFile {
  server: RedisServer;
  redis: Redis;
}

/** Call inside the file's `describe` (skipped when there is no redis-server). */
export function serverForFile(): ServerForFile {
  const own = {} as ServerForFile;
  beforeAll(async () => {
    own.server = await RedisServer.start({ appendonly: false });
    own.redis = new Redis(own.server.port, '127.0.0.1');
  });
  afterAll(async () => {
    own.redis?.disconnect();
    await own.server?.stop();
  });
  return own;
}

/**
 * A client of `port` whose commands fail at once while the server is down (no offline queue), and
 * that reconnects every 50 ms, its connection errors silenced; resolves once it is ready.
 */
export async function failFastClient(port: number): Promise<Redis> {
  const client = new Redis(port, '127.0.0.1', {
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  while (client.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 10));
  return client;
}
