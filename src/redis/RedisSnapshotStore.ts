import type { Redis } from 'ioredis';
import { describeValue as describe, typeError } from '../core/checks.js';
import type { ProjectionSnapshot, SnapshotStore } from '../projection/types.js';

/** The options of {@link RedisSnapshotStore}. */
export interface RedisSnapshotStoreConfig {
  /** An ioredis client. The store never closes it. Required. */
  redis: Redis;
  /** Put before a projection's name to make its key. Default: `'projection:'`. */
  prefix?: string | undefined;
}

/**
 * Projection snapshots in Redis, one string key per projection name (`<prefix><name>`), written
 * with one `SET` of the JSON text: a snapshot is replaced whole or not at all, so a process
 * killed at any moment leaves the previous snapshot or the new one, never a part. The snapshot
 * is encoded when `save` is called (the projection goes on folding meanwhile), and the saves of
 * one client reach Redis in the order they were called. The state must therefore survive
 * `JSON.stringify` and `JSON.parse` (plain objects, arrays, strings, finite numbers, booleans,
 * null).
 *
 * @example
 * ```ts redis
 * import { Redis } from 'ioredis';
 * import { projection } from 'rxjs-backpressure';
 * import { createRedisBus, RedisSnapshotStore } from 'rxjs-backpressure/redis';
 *
 * const redis = new Redis();
 * const bus = await createRedisBus({ redis, stream: '{agents}:events' });
 * const store = new RedisSnapshotStore({ redis });
 * projection(bus, {
 *   name: 'finished-runs',
 *   initial: 0,
 *   reduce: (count) => count + 1,
 *   filter: { kinds: ['run.finished'] },
 *   snapshots: { store, every: 1000 },
 * }).subscribe(({ state }) => console.log(state));
 * ```
 */
export class RedisSnapshotStore implements SnapshotStore {
  readonly prefix: string;
  private readonly redis: Redis;

  /** @throws TypeError for a missing client or a prefix that is not a string. */
  constructor(config: RedisSnapshotStoreConfig) {
    const redis = config?.redis;
    if (redis === null || typeof redis !== 'object' || typeof redis.set !== 'function') {
      throw typeError('RedisSnapshotStore', 'redis', 'an ioredis client', redis);
    }
    const prefix = config.prefix ?? 'projection:';
    if (typeof prefix !== 'string') {
      throw typeError('RedisSnapshotStore', 'prefix', 'a string', prefix);
    }
    this.redis = redis;
    this.prefix = prefix;
  }

  /** The key the snapshot of `name` is stored under. */
  keyOf(name: string): string {
    return `${this.prefix}${name}`;
  }

  /**
   * The snapshot saved under `name`, or `undefined`. Rejects when Redis does, or when the key
   * holds something that is not a snapshot (the error names the key).
   */
  async load(name: string): Promise<ProjectionSnapshot | undefined> {
    const key = this.keyOf(name);
    const text = await this.redis.get(key);
    if (text === null) return undefined;
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(text);
    } catch (error) {
      throw new TypeError(`RedisSnapshotStore: the key ${JSON.stringify(key)} is not JSON`, {
        cause: error,
      });
    }
    if (snapshot === null || typeof snapshot !== 'object' || !('seq' in snapshot)) {
      throw new TypeError(
        `RedisSnapshotStore: the key ${JSON.stringify(key)} holds ${describe(snapshot)}, not a snapshot`,
      );
    }
    return snapshot as ProjectionSnapshot;
  }

  /**
   * Writes the snapshot (encoded now) with one `SET`. Throws at once when JSON cannot encode it
   * (a `BigInt`, a cycle); resolves once Redis has it.
   */
  save(snapshot: ProjectionSnapshot): Promise<void> {
    const text = JSON.stringify(snapshot);
    return this.redis.set(this.keyOf(snapshot.name), text).then(() => undefined);
  }

  /** Deletes the snapshot of `name`; resolves with whether there was one. */
  async delete(name: string): Promise<boolean> {
    return (await this.redis.del(this.keyOf(name))) > 0;
  }
}
