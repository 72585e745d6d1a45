/**
 * How a worker with free slots and nothing to read learns that a job was added, without asking
 * Redis again and again: a blocking XREAD, on a connection of its own, from the id up to which the
 * group has delivered each level (XINFO GROUPS). XREAD is not a group read: it takes nothing, so a
 * wait may end, time out or be cut off at any moment with no job held by the worker. The worker
 * then reads with XREADGROUP as it always does, highest level first, at most its free slots.
 */
import type { Redis } from 'ioredis';
import type { SchedulerLike, Subscription } from 'rxjs';
import { closeNow } from './config.js';
import { levelKey } from './workQueueEntries.js';

/** The queue a worker waits on: its client (to duplicate), name, group and levels. */
export interface WakeTarget {
  redis: Redis;
  name: string;
  group: string;
  levels: number;
}

/**
 * The idle wait of one worker. `start` begins a wait that calls `wake` once: when some level holds
 * a job the group has not delivered (at once if one does already), when the block ends, or
 * `retryMs` after Redis failed. A wait whose reply is more than {@link LATE_MS} late (a socket that
 * died without a word) gets its connection replaced.
 */
export class IdleWake {
  private connection: Redis | undefined = undefined;
  /** Counts the waits, so that the end of an abandoned one wakes nobody. */
  private turn = 0;
  private timer: Subscription | undefined = undefined;
  private waiting = false;

  constructor(
    private readonly target: WakeTarget,
    private readonly scheduler: SchedulerLike,
    /** Called at the end of each wait: `true` when a job was added, else `false`. */
    private readonly wake: (added: boolean) => void,
  ) {}

  /** Whether a wait is under way. */
  get isWaiting(): boolean {
    return this.waiting;
  }

  /** Waits for a job for at most `blockMs` (rounded up to a whole ms, at least 1). */
  start(blockMs: number, retryMs: number): void {
    this.cancel();
    const turn = this.turn;
    this.waiting = true;
    const block = Math.max(1, Math.ceil(blockMs));
    this.timer = this.scheduler.schedule(() => {
      if (turn !== this.turn) return;
      this.drop();
      this.end(false);
    }, block + LATE_MS);
    this.waitForJob(block).then(
      (added) => {
        if (turn === this.turn) this.end(added);
      },
      () => {
        if (turn !== this.turn) return;
        this.timer?.unsubscribe();
        this.timer = this.scheduler.schedule(() => {
          if (turn === this.turn) this.end(false);
        }, retryMs);
      },
    );
  }

  /** Abandons the wait under way, if any, without waking. */
  cancel(): void {
    this.turn++;
    this.waiting = false;
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  /** Abandons the wait and closes the connection (a later `start` opens a new one). */
  close(): void {
    this.cancel();
    this.drop();
  }

  private end(added: boolean): void {
    this.cancel();
    this.wake(added);
  }

  private drop(): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) closeNow(connection);
  }

  /**
   * Resolves `true` once a level holds an entry past the group's last delivered id, `false` after
   * `blockMs` without one. Rejects when Redis fails or a level has no group.
   */
  private async waitForJob(blockMs: number): Promise<boolean> {
    const connection = this.open();
    const { group, levels, name } = this.target;
    const keys = Array.from({ length: levels }, (_, level) => levelKey(name, level));
    const infos = await connection.pipeline(keys.map((key) => ['xinfo', 'groups', key])).exec();
    const ids = keys.map((key, index) => deliveredUpTo(infos?.[index], group, key));
    const reply = await connection.call(
      'XREAD',
      'COUNT',
      1,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...keys,
      ...ids,
    );
    return reply !== null;
  }

  private open(): Redis {
    if (this.connection !== undefined) return this.connection;
    // Its commands wait through a reconnection rather than fail; a wait that takes too long is
    // cut off by the timer above. Errors reach the wait's promise; the events need a listener.
    const connection = this.target.redis.duplicate({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      commandTimeout: undefined,
    });
    connection.on('error', () => undefined);
    this.connection = connection;
    return connection;
  }
}

/**
 * How long an idle worker's wait blocks before it is renewed. Redis ends a blocking command that
 * timed out at its next cron tick (every 100 ms at its default `hz`), so a block is a bound, not
 * a clock: jobs to take over are looked for on the worker's own timer.
 */
export const IDLE_WAIT_MS = 2_000;

/** How late past its block a wait's reply may be before its connection is replaced. */
export const LATE_MS = 1_000;

/** The `last-delivered-id` of `group` in a reply of `XINFO GROUPS key`. */
export function deliveredUpTo(
  reply: [Error | null, unknown] | undefined,
  group: string,
  key: string,
): string {
  if (reply === undefined) throw new Error(`RedisWorkQueue: no reply of XINFO GROUPS ${key}`);
  const [error, groups] = reply;
  if (error !== null) throw error;
  for (const fields of groups as unknown[][]) {
    let found = false;
    let id: string | undefined;
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const field = String(fields[index]);
      if (field === 'name') found = String(fields[index + 1]) === group;
      else if (field === 'last-delivered-id') id = String(fields[index + 1]);
    }
    if (found && id !== undefined) return id;
  }
  throw new Error(`RedisWorkQueue: the stream ${key} has no group ${group}`);
}
