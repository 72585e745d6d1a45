/**
 * A Lua script called by its SHA1 (EVALSHA), so that a call carries its arguments and not the
 * source. Redis answers NOSCRIPT when its script cache does not hold it (first use, a restart, a
 * SCRIPT FLUSH); the call is then sent once more with the source (EVAL), which caches it again.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  /** The SHA1 of the source, as Redis names the script in its cache. */
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `redis` with these keys and arguments: its reply, or Redis's error. */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    // One array, not spread into the call: spread, a few hundred thousand would overflow the stack.
    const call: Array<string | number> = [this.sha, keys.length, ...keys, ...args];
    try {
      return await redis.call('EVALSHA', call);
    } catch (error) {
      if (!/^NOSCRIPT /.test(String((error as Error | undefined)?.message))) throw error;
      call[0] = this.source;
      return redis.call('EVAL', call);
    }
  }
}
