/**
 * LuaScript against a real redis-server: called by its SHA1, the source sent only when Redis's
 * script cache lacks it, and every other error passed on as Redis gave it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LuaScript } from '../../src/redis/luaScript.js';
import { redisServerVersion, SKIP_MESSAGE } from './redisServer.js';
import { serverForFile } from './workQueue/serverForFile.js';

const version = redisServerVersion();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
if (version === undefined) console.warn(SKIP_MESSAGE);

describe.skipIf(version === undefined)('LuaScript (real redis-server)', () => {
  const shared = serverForFile();

  async function calls(command: 'eval' | 'evalsha' | 'script\\|load'): Promise<number> {
    const stats = await shared.redis.info('commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  }

  /** Calls of EVALSHA, EVAL and SCRIPT LOAD since the stats were reset. */
  async function sent(): Promise<number[]> {
    return [await calls('evalsha'), await calls('eval'), await calls('script\\|load')];
  }

  it('is named by the SHA1 of its source, as Redis names it', async () => {
    const source = 'return ARGV[1]';
    const script = new LuaScript(source);
    expect(script.sha).toBe(createHash('sha1').update(source).digest('hex'));
    expect(await shared.redis.script('LOAD', source)).toBe(script.sha);
  });

  it('loads itself once per client, then sends only the SHA1; the source again after a flush', async () => {
    const script = new LuaScript('return {KEYS[1], ARGV[1], ARGV[2]}');
    await shared.redis.script('FLUSH');
    await shared.redis.call('CONFIG', 'RESETSTAT');
    expect(await script.run(shared.redis, ['k'], ['a', 2])).toEqual(['k', 'a', '2']);
    expect(await script.run(shared.redis, ['k'], ['b', 3])).toEqual(['k', 'b', '3']);
    expect(await sent()).toEqual([2, 0, 1]);
    await shared.redis.script('FLUSH');
    expect(await script.run(shared.redis, ['k'], ['c', 4])).toEqual(['k', 'c', '4']);
    expect(await sent()).toEqual([3, 1, 1]);
  });

  it('runs calls made one after the other in that order, even when the script is loaded between them', async () => {
    const source = "return redis.call('RPUSH', KEYS[1], ARGV[1])";
    const script = new LuaScript(source);
    const client = shared.redis.duplicate();
    await shared.redis.script('FLUSH');
    // The second call must not overtake the first: sent before the first's NOSCRIPT came back,
    // it would find the script loaded and run, and the first's retry would come after it.
    const first = script.run(client, ['order'], ['first']);
    const loadedMeanwhile = client.script('LOAD', source);
    const second = script.run(client, ['order'], ['second']);
    await Promise.all([first, loadedMeanwhile, second]);
    expect(await shared.redis.lrange('order', 0, -1)).toEqual(['first', 'second']);
    client.disconnect();
  });

  it("passes on the script's own errors, without sending the source", async () => {
    const script = new LuaScript("return redis.error_reply('NOSCRIPTS are not the point')");
    await script.run(shared.redis, [], []).catch(() => undefined);
    await shared.redis.call('CONFIG', 'RESETSTAT');
    await expect(script.run(shared.redis, [], [])).rejects.toThrow('NOSCRIPTS are not the point');
    expect(await sent()).toEqual([1, 0, 0]);
    // Only Redis's own NOSCRIPT, at the start of the message, means the cache lacks it.
    const inside = new LuaScript("return redis.error_reply('refused: NOSCRIPT is a word here')");
    await inside.run(shared.redis, [], []).catch(() => undefined);
    await shared.redis.call('CONFIG', 'RESETSTAT');
    await expect(inside.run(shared.redis, [], [])).rejects.toThrow('NOSCRIPT is a word here');
    expect(await sent()).toEqual([1, 0, 0]);
  });

  it('loads itself again on the next call when its load failed', async () => {
    const script = new LuaScript('return 7');
    const client = shared.redis.duplicate({ enableOfflineQueue: false, lazyConnect: true });
    // Not connected yet, and no offline queue: the load fails.
    await expect(script.run(client, [], [])).rejects.toThrow();
    while (client.status !== 'ready') await sleep(10);
    expect(await script.run(client, [], [])).toBe(7);
    client.disconnect();
  });

  it('loads itself again after a call whose connection failed (the server may have restarted)', async () => {
    const script = new LuaScript('return 8');
    const client = shared.redis.duplicate({ enableOfflineQueue: false });
    while (client.status !== 'ready') await sleep(10);
    expect(await script.run(client, [], [])).toBe(8);
    client.disconnect();
    // Still 'ready' right after disconnect(): the socket closes a moment later.
    while ((client.status as string) !== 'end') await sleep(10);
    await expect(script.run(client, [], [])).rejects.toThrow('Connection is closed');
    await shared.redis.script('FLUSH');
    await client.connect();
    await shared.redis.call('CONFIG', 'RESETSTAT');
    expect(await script.run(client, [], [])).toBe(8);
    // Loaded before the call, not sent again after a NOSCRIPT.
    expect(await sent()).toEqual([1, 0, 1]);
    client.disconnect();
  });

  it('takes hundreds of thousands of arguments (more than a spread call could pass)', async () => {
    const script = new LuaScript('return #ARGV');
    const args = Array.from({ length: 250_000 }, (_, i) => i);
    expect(await script.run(shared.redis, [], args)).toBe(250_000);
  });
});
