/**
 * How a worker of the work queue takes jobs: its consumer group made on each level's stream, and
 * one read of at most its free slots (jobs to take over first, then new ones, highest level first).
 */
import type { Redis } from 'ioredis';
import { claimIdle, forgetIdleConsumers } from './workQueueClaims.js';
import { itemOf, levelKey, type RawEntry, type WorkItem } from './workQueueEntries.js';

/** Where a worker reads: its client, queue, group, consumer name and visibility timeout. */
export interface ReadTarget {
  redis: Redis;
  name: string;
  group: string;
  consumer: string;
  levels: number;
  visibilityMs: number;
}

/** Makes the consumer group on every level's stream (and the streams), unless it exists. */
export async function createGroups(target: ReadTarget): Promise<void> {
  const { redis, group, levels, name } = target;
  for (let level = 0; level < levels; level++) {
    try {
      await redis.call('XGROUP', 'CREATE', levelKey(name, level), group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }
}

/**
 * At most `free` jobs: with `takeOver`, first those of other workers idle for `visibilityMs`
 * (`XAUTOCLAIM`, each level's whole pending list, a few entries per call; consumers that hold
 * nothing and were idle for twice that are removed meanwhile), then new ones
 * (`XREADGROUP`), each from the highest level down, going down a level only for the slots still
 * free. `held` are the jobs this worker holds (by `<stream> <entry id>`), never taken over again.
 */
export async function readJobs<J>(
  target: ReadTarget,
  free: number,
  takeOver: boolean,
  held: ReadonlyMap<string, unknown>,
): Promise<WorkItem<J>[]> {
  const { redis, group, consumer, levels, name } = target;
  const items: WorkItem<J>[] = [];
  if (takeOver) {
    // Beside the takeover, on the same connection, without waiting for it: the consumers of
    // workers gone for twice the visibility timeout (their jobs were taken over long since).
    const keys = Array.from({ length: levels }, (_, level) => levelKey(name, level));
    forgetIdleConsumers(target, keys, 2 * target.visibilityMs).catch(() => undefined);
    for (let level = levels - 1; level >= 0 && items.length < free; level--) {
      // The whole pending list of the level, a few entries per call (XAUTOCLAIM looks at ten
      // times its COUNT), until it wraps round or the free slots are filled.
      const key = levelKey(name, level);
      let cursor = '0-0';
      for (let calls = 0; calls < MAX_CLAIM_CALLS && items.length < free; calls++) {
        const claimed = await claimIdle<J>(
          target,
          key,
          level,
          target.visibilityMs,
          cursor,
          free - items.length,
          (entryId) => held.has(`${key} ${entryId}`),
          held.size,
        );
        items.push(...claimed.items);
        cursor = claimed.cursor;
        if (cursor === '0-0') break;
      }
    }
  }
  for (let level = levels - 1; level >= 0 && items.length < free; level--) {
    const key = levelKey(name, level);
    const reply = (await redis.call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      free - items.length,
      'STREAMS',
      key,
      '>',
    )) as Array<[string, RawEntry[]]> | null;
    for (const entry of reply?.[0]?.[1] ?? []) {
      const item = itemOf<J>(entry, level, key, false);
      if (item !== undefined) items.push(item);
    }
  }
  return items;
}

/** Calls of XAUTOCLAIM per level and takeover round, at most. */
const MAX_CLAIM_CALLS = 16;
