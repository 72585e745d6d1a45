/**
 * How a worker of the work queue takes jobs: its consumer group made on each level's stream, and
 * one read of at most its free slots (jobs to take over first, then new ones, highest level first).
 */
import type { Redis } from 'ioredis';
import { LuaScript } from './luaScript.js';
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
 * nothing and were idle for twice that are removed meanwhile), then new ones ({@link takeNew}),
 * each from the highest level down. `held` are the jobs this worker holds (by
 * `<stream> <entry id>`), never taken over again.
 */
export async function readJobs<J>(
  target: ReadTarget,
  free: number,
  takeOver: boolean,
  held: ReadonlyMap<string, unknown>,
): Promise<WorkItem<J>[]> {
  const { levels, name } = target;
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
  if (items.length < free) items.push(...(await takeNew<J>(target, free - items.length)));
  return items;
}

/** Calls of XAUTOCLAIM per level and takeover round, at most. */
const MAX_CLAIM_CALLS = 16;

/**
 * At most `free` new jobs (XREADGROUP), from the highest level down, going down a level only for
 * the slots still free. With more than one level, in one script: one round trip whatever the
 * levels, where reading level by level would wait for a reply per empty level above the jobs. A
 * queue of one level reads without it (a script costs Redis more than the read it makes: about a
 * fifth of a worker's throughput with no-op jobs).
 */
export async function takeNew<J>(
  target: Omit<ReadTarget, 'visibilityMs'>,
  free: number,
): Promise<WorkItem<J>[]> {
  const { redis, group, consumer, levels, name } = target;
  const keys = Array.from({ length: levels }, (_, level) => levelKey(name, level));
  const reply = (
    levels === 1
      ? levelsRead(
          await redis.call(
            'XREADGROUP',
            'GROUP',
            group,
            consumer,
            'COUNT',
            free,
            'STREAMS',
            keys[0] as string,
            '>',
          ),
        )
      : await takeNewScript.run(redis, keys, [group, consumer, free])
  ) as LevelsRead;
  const items: WorkItem<J>[] = [];
  for (let k = 0; k + 1 < reply.length; k += 2) {
    const level = reply[k] as number;
    for (const entry of reply[k + 1] as RawEntry[]) {
      const item = itemOf<J>(entry, level, keys[level] as string, false);
      if (item !== undefined) items.push(item);
    }
  }
  return items;
}

/** `[level, entries, …]`, highest level first: what {@link takeNewScript} replies. */
type LevelsRead = Array<number | RawEntry[]>;

/** The reply of XREADGROUP on level 0's stream, as the script's. */
function levelsRead(reply: unknown): LevelsRead {
  const entries = (reply as Array<[string, RawEntry[]]> | null)?.[0]?.[1];
  return entries === undefined ? [] : [0, entries];
}

/**
 * KEYS: the levels' streams, level 0 first. ARGV: group, consumer, free slots. Replies
 * `[level, entries, …]` for the levels that had jobs, highest first.
 */
export const takeNewScript = new LuaScript(`
local group, consumer, free = ARGV[1], ARGV[2], tonumber(ARGV[3])
local taken = {}
for level = #KEYS, 1, -1 do
  if free <= 0 then break end
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', free, 'STREAMS', KEYS[level], '>')
  if reply then
    local entries = reply[1][2]
    taken[#taken + 1] = level - 1
    taken[#taken + 1] = entries
    free = free - #entries
  end
end
return taken
`);
