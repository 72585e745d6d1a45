/**
 * A Lua script called by its SHA1 (EVALSHA), so that a call carries its arguments and not the
 * source. The first call on a client loads it (SCRIPT LOAD), and every call on that client waits
 * for that load: calls made one after the other then reach Redis in that order. Without it, a
 * first call refused with NOSCRIPT and sent again with its source could land after a later call
 * that found the script loaded meanwhile (by another client), and scripts that fence late calls
 * (the publish script does) would refuse it. A call whose connection fails makes the next call
 * load it again (the server may have restarted). Redis answers NOSCRIPT when its cache lost the
 * script otherwise (a SCRIPT FLUSH): the call is sent once more with the source (EVAL), which
 * caches it again.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  /** The SHA1 of the source, as Redis names the script in its cache. */
  readonly sha: string;
  /** The load of the script on each client: its first call's, until a call's connection fails. */
  private readonly loads = new WeakMap<Redis, Promise<unknown>>();

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `redis` with these keys and arguments: its reply, or Redis's error. */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    const load = this.loaded(redis);
    await load;
    // One array, not spread into the call: spread, a few hundred thousand would overflow the stack.
    const call: Array<string | number> = [this.sha, keys.length, ...keys, ...args];
    try {
      return await redis.call('EVALSHA', call);
    } catch (error) {
      if (!/^NOSCRIPT /.test(String((error as Error | undefined)?.message))) {
        // Not Redis's answer but the connection's failure: the client may reconnect to a server
        // restarted with an empty cache, so the next call loads the script first, in order.
        if ((error as Error | undefined)?.name !== 'ReplyError' && this.loads.get(redis) === load) {
          this.loads.delete(redis);
        }
        throw error;
      }
      call[0] = this.source;
      return redis.call('EVAL', call);
    }
  }

  private loaded(redis: Redis): Promise<unknown> {
    let load = this.loads.get(redis);
    if (load === undefined) {
      load = redis.call('SCRIPT', 'LOAD', this.source);
      this.loads.set(redis, load);
      // A load that failed (Redis unreachable) is tried again by the next call.
      const failed = load;
      failed.catch(() => {
        if (this.loads.get(redis) === failed) this.loads.delete(redis);
      });
    }
    return load;
  }
}
