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
