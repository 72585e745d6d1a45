/**
 * The commands a worker of the work queue uses on jobs that are already pending in the group:
 * taking over those idle past the visibility timeout (with how often Redis delivered each),
 * keeping its own running jobs from looking idle, and removing the consumers of workers that are
 * gone once they hold nothing.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from './luaScript.js';
import { itemOf, type RawEntry, type WorkItem } from './workQueueEntries.js';

/** Where a worker takes jobs over: its stream, group and consumer name. */
export interface ClaimTarget {
  redis: Redis;
  group: string;
  consumer: string;
}

/** What one takeover read. */
export interface Claimed<J> {
  /** Where the next takeover of this stream starts. */
  cursor: string;
  /** The jobs taken over, each with how many times Redis has delivered it. */
  items: WorkItem<J>[];
}

/**
 * Takes over at most `count` jobs of `key` idle for `minIdleMs` or more (XAUTOCLAIM from `cursor`),
 * except those `isHeld` says this worker already runs, and reads how many times each was
 * delivered (XPENDING over the range taken, this consumer only: the jobs taken, and at most
 * `heldCount` others this worker holds in that range).
 */
export async function claimIdle<J>(
  target: ClaimTarget,
  key: string,
  level: number,
  minIdleMs: number,
  cursor: string,
  count: number,
  isHeld: (entryId: string) => boolean,
  heldCount: number,
): Promise<Claimed<J>> {
  const { redis, group, consumer } = target;
  const [next, entries] = (await redis.call(
    'XAUTOCLAIM',
    key,
    group,
    consumer,
    // Redis takes whole ms only (a fraction is refused as a syntax error).
    Math.ceil(minIdleMs),
    cursor,
    'COUNT',
    count,
  )) as [string, RawEntry[]];
  const items: WorkItem<J>[] = [];
  for (const entry of entries) {
    // A job of this worker's own that ran past the visibility timeout stays where it is.
    if (isHeld(entry[0])) continue;
    const item = itemOf<J>(entry, level, key, true);
    if (item !== undefined) items.push(item);
  }
  if (items.length > 0) {
    const first = (items[0] as WorkItem<J>).entryId;
    const last = (items[items.length - 1] as WorkItem<J>).entryId;
    const pending = (await redis.call(
      'XPENDING',
      key,
      group,
      first,
      last,
      entries.length + heldCount,
      consumer,
    )) as Array<[string, string, number, number]>;
    const deliveries = new Map(pending.map(([id, , , times]) => [id, Number(times)]));
    for (const item of items) item.deliveries = deliveries.get(item.entryId) ?? item.deliveries;
  }
  return { cursor: next, items };
}

/**
 * Resets the idle time of jobs this worker still runs (XCLAIM … JUSTID to itself), so that no
 * other worker takes them over while they run. Only jobs idle for `minIdleMs` or more are
 * claimed: a job another worker took over just now (this one stalled past the visibility
 * timeout) is left to it.
 */
export async function keepHeld(
  target: ClaimTarget,
  held: Iterable<WorkItem<unknown>>,
  minIdleMs: number,
): Promise<void> {
  const { redis, group, consumer } = target;
  const byKey = new Map<string, string[]>();
  for (const item of held) {
    const ids = byKey.get(item.key);
    if (ids === undefined) byKey.set(item.key, [item.entryId]);
    else ids.push(item.entryId);
  }
  if (byKey.size === 0) return;
  const batch = redis.pipeline();
  for (const [key, ids] of byKey) {
    batch.call('XCLAIM', key, group, consumer, Math.floor(minIdleMs), ...ids, 'JUSTID');
  }
  // A reply that is an error (a pipeline resolves with them) fails the beat: not silently lost.
  for (const [error] of (await batch.exec()) ?? []) if (error !== null) throw error;
}

/**
 * Removes from the group of `key` the consumers that hold no job and have done nothing for
 * `minIdleMs` or more (workers that died, once their jobs were taken over, and workers that
 * closed), except `consumer`. One script, so that no consumer can take a job between the check and
 * its removal (XGROUP DELCONSUMER drops whatever a consumer holds). A live worker removed this way
 * held nothing, and its next read makes it again. Replies the names removed.
 * KEYS: the stream. ARGV: group, minIdleMs, the consumer to keep.
 */
const forgetIdleConsumersScript = new LuaScript(`
local removed = {}
for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #fields, 2 do info[fields[i]] = fields[i + 1] end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) and info['name'] ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed[#removed + 1] = info['name']
  end
end
return removed
`);

/** Runs {@link forgetIdleConsumersScript} on each of `keys`; resolves with the names removed. */
export async function forgetIdleConsumers(
  target: ClaimTarget,
  keys: readonly string[],
  minIdleMs: number,
): Promise<string[]> {
  const { redis, group, consumer } = target;
  const args = [group, Math.ceil(minIdleMs), consumer];
  const replies = await Promise.all(
    keys.map((key) => forgetIdleConsumersScript.run(redis, [key], args)),
  );
  return (replies as string[][]).flat();
}
