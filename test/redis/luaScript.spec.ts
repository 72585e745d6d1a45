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
if (version === undefined) console.warn(SKIP_MESSAGE);

describe.skipIf(version === undefined)('LuaScript (real redis-server)', () => {
  const shared = serverForFile();

  async function calls(command: 'eval' | 'evalsha'): Promise<number> {
    const stats = await shared.redis.info('commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  }

  it('is named by the SHA1 of its source, as Redis names it', async () => {
    const source = 'return ARGV[1]';
    const script = new LuaScript(source);
    expect(script.sha).toBe(createHash('sha1').update(source).digest('hex'));
    expect(await shared.redis.script('LOAD', source)).toBe(script.sha);
  });

  it('sends the source once, then only the SHA1, and again after the cache is flushed', async () => {
    const script = new LuaScript('return {KEYS[1], ARGV[1], ARGV[2]}');
    await shared.redis.script('FLUSH');
    await shared.redis.call('CONFIG', 'RESETSTAT');
    expect(await script.run(shared.redis, ['k'], ['a', 2])).toEqual(['k', 'a', '2']);
    expect([await calls('evalsha'), await calls('eval')]).toEqual([1, 1]);
    expect(await script.run(shared.redis, ['k'], ['b', 3])).toEqual(['k', 'b', '3']);
    expect([await calls('evalsha'), await calls('eval')]).toEqual([2, 1]);
    await shared.redis.script('FLUSH');
    expect(await script.run(shared.redis, ['k'], ['c', 4])).toEqual(['k', 'c', '4']);
    expect([await calls('evalsha'), await calls('eval')]).toEqual([3, 2]);
  });

  it("passes on the script's own errors, without sending the source", async () => {
    const script = new LuaScript("return redis.error_reply('NOSCRIPTS are not the point')");
    await script.run(shared.redis, [], []).catch(() => undefined);
    await shared.redis.call('CONFIG', 'RESETSTAT');
    await expect(script.run(shared.redis, [], [])).rejects.toThrow('NOSCRIPTS are not the point');
    expect([await calls('evalsha'), await calls('eval')]).toEqual([1, 0]);
  });

  it('takes hundreds of thousands of arguments (more than a spread call could pass)', async () => {
    const script = new LuaScript('return #ARGV');
    const args = Array.from({ length: 250_000 }, (_, i) => i);
    expect(await script.run(shared.redis, [], args)).toBe(250_000);
  });
});
