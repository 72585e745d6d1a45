/**
 * The transactions a worker of the work queue ends a job with: acknowledged (and deleted), moved
 * to the dead-letter stream, or put back at the end of its stream for other workers.
 */
import type { Redis } from 'ioredis';
import { deadKey, type WorkItem } from './workQueueEntries.js';

/** Where a worker writes: its client, group, queue name and consumer name. */
export interface WriteTarget {
  redis: Redis;
  group: string;
  name: string;
  consumer: string;
}

/**
 * The acknowledgements of one worker: XACK and XDEL of the jobs whose handlers succeeded, those
 * asked for in one turn of the event loop sent together (one transaction, one XACK and one XDEL
 * per stream, whatever the number of jobs). Each promise settles with its batch's reply: a batch
 * that failed rejects every job of it, and each is asked for again by itself. `sent` is told how
 * many jobs a batch holds once it is written: a command sent after it on the same client runs
 * after it in Redis.
 */
export class Acknowledger {
  private batch: Array<{ item: WorkItem<unknown>; settle: (error?: unknown) => void }> = [];

  constructor(
    private readonly target: WriteTarget,
    private readonly sent: (count: number) => void,
  ) {}

  acknowledge(item: WorkItem<unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) later(this.send);
      this.batch.push({
        item,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      });
    });
  }

  private readonly send = (): void => {
    const batch = this.batch;
    this.batch = [];
    const byKey = new Map<string, string[]>();
    for (const { item } of batch) {
      const ids = byKey.get(item.key);
      if (ids === undefined) byKey.set(item.key, [item.entryId]);
      else ids.push(item.entryId);
    }
    const { redis, group } = this.target;
    const transaction = redis.multi();
    for (const [key, ids] of byKey) transaction.xack(key, group, ...ids).xdel(key, ...ids);
    transaction.exec().then(
      (replies) => {
        let error: unknown;
        try {
          failedReply(replies);
        } catch (failure) {
          error = failure ?? new Error('RedisWorkQueue: an acknowledgement failed');
        }
        for (const { settle } of batch) settle(error);
      },
      (error: unknown) => {
        for (const { settle } of batch)
          settle(error ?? new Error('RedisWorkQueue: an acknowledgement failed'));
      },
    );
    this.sent(batch.length);
  };
}

/** Runs `task` once the callbacks of this turn of the event loop are done. */
const later: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => setImmediate(task) : (task) => setTimeout(task, 0);

/**
 * The job, with its last failure, appended to the dead-letter stream, and acknowledged and
 * deleted from its own, in one transaction.
 */
export async function moveToDeadLetters(
  target: WriteTarget,
  item: WorkItem<unknown>,
  error: unknown,
  attempts: number,
): Promise<void> {
  const { redis, group, name, consumer } = target;
  const fields = ['id', item.id, 'j', item.json, 'p', String(item.level), 'a', String(attempts)];
  fields.push('e', errorText(error), 'c', consumer);
  failedReply(
    await redis
      .multi()
      .xadd(deadKey(name), '*', ...fields)
      .xack(item.key, group, item.entryId)
      .xdel(item.key, item.entryId)
      .exec(),
  );
}

/**
 * Jobs a worker will not run put back at the end of their streams (new entries, marked as put
 * back), where other workers read them at once; the old entries acknowledged and deleted. When
 * Redis is unreachable they stay pending, and are taken over after the visibility timeout.
 */
export async function putBack(target: WriteTarget, items: WorkItem<unknown>[]): Promise<void> {
  if (items.length === 0) return;
  const { redis, group } = target;
  const batch = redis.multi();
  for (const item of items) {
    batch
      .xadd(item.key, '*', 'id', item.id, 'j', item.json, 'r', '1')
      .xack(item.key, group, item.entryId)
      .xdel(item.key, item.entryId);
  }
  try {
    failedReply(await batch.exec());
  } catch {
    // Left pending: see above.
  }
}

/** A job delivered more than `maxDeliveries` times: its workers died or stalled with it. */
export class DeliveryLimitError extends Error {
  constructor(item: WorkItem<unknown>, maxDeliveries: number) {
    super(
      `RedisWorkQueue: job ${JSON.stringify(item.id)} was delivered ${item.deliveries} times, over maxDeliveries (${maxDeliveries}): the workers that took it died or stalled`,
    );
    this.name = 'DeliveryLimitError';
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Throws the first error of a MULTI's replies (or when the transaction was refused). */
function failedReply(replies: Array<[Error | null, unknown]> | null): void {
  if (replies === null) throw new Error('RedisWorkQueue: a transaction was aborted');
  for (const [error] of replies) if (error !== null) throw error;
}
