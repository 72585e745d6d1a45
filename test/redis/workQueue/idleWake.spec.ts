/**
 * How an idle worker of RedisWorkQueue learns that a job was added (a blocking XREAD from the
 * group's last delivered id, on a connection of its own), against a real redis-server: it wakes
 * for a job added before or during its wait, not for one another worker took, takes nothing
 * itself, and a wait that gets no answer is cut off.
 */
import { Redis } from 'ioredis';
import { asyncScheduler, firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { RedisWorkQueue } from '../../../src/redis/index.js';
import { deliveredUpTo, IdleWake } from '../../../src/redis/workQueueWake.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { failFastClient, serverForFile } from './serverForFile.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Longer than any of these tests may take: a worker that polled would never see its job. */
const NEVER_MS = 600_000;

describe.skipIf(version === undefined)('RedisWorkQueue: the idle wait (real redis-server)', () => {
  const shared = serverForFile();
  let n = 0;

  /** The clients blocked in XREAD now (the waits under way). */
  async function blockedReads(): Promise<number> {
    const list = (await shared.redis.call('CLIENT', 'LIST')) as string;
    return list.split('\n').filter((line) => /\bflags=b\b.*\bcmd=xread\b/.test(line)).length;
  }

  /** The clients connected now. */
  async function clients(): Promise<number> {
    const list = (await shared.redis.call('CLIENT', 'LIST')) as string;
    return list.trim().split('\n').length;
  }

  async function untilBlocked(count: number): Promise<void> {
    while ((await blockedReads()) !== count) await sleep(5);
  }

  /** A stream with the group made, as a worker's first read leaves it. */
  async function levelWithGroup(): Promise<{ name: string; key: string }> {
    const name = `wake${++n}`;
    const key = `${name}:p0`;
    await shared.redis.call('XGROUP', 'CREATE', key, 'workers', '0', 'MKSTREAM');
    return { name, key };
  }

  /** An IdleWake on `name`, and its wakes in order: `ended()` is the next one not yet taken. */
  function waitOn(name: string, levels = 1) {
    const ends: boolean[] = [];
    const unread: boolean[] = [];
    let reader: ((added: boolean) => void) | undefined;
    const wake = new IdleWake(
      { redis: shared.redis, name, group: 'workers', levels },
      asyncScheduler,
      (added) => {
        ends.push(added);
        if (reader === undefined) unread.push(added);
        else reader(added);
        reader = undefined;
      },
    );
    const ended = (): Promise<boolean> =>
      unread.length > 0
        ? Promise.resolve(unread.shift() as boolean)
        : new Promise((resolve) => (reader = resolve));
    return { wake, ends, ended };
  }

  it('an idle worker starts a job added to an empty queue at once, at any level, without polling', async () => {
    const queue = new RedisWorkQueue<number>({
      redis: shared.redis,
      name: `wake${++n}`,
      levels: 3,
    });
    const options = { concurrency: 2, pollMs: NEVER_MS, visibilityMs: NEVER_MS };
    const done = firstValueFrom(
      queue.process(async (job) => job * 2, options).pipe(take(2), toArray()),
    );
    await untilBlocked(1);
    await queue.add(1, { priority: 0 });
    await untilBlocked(1);
    await queue.add(2, { priority: 2 });
    expect((await done).map((outcome) => outcome.status === 'done' && outcome.result)).toEqual([
      2, 4,
    ]);
    await queue.close();
    await untilBlocked(0);
  });

  it('an idle worker keeps waiting across a Redis restart, and starts a job added after it', async () => {
    const own = await RedisServer.start();
    // The user's client fails commands at once while the server is down; the wait's own
    // connection waits through the outage and sends its read again.
    const client = await failFastClient(own.port);
    const admin = new Redis(own.port, '127.0.0.1', { retryStrategy: () => 50 });
    admin.on('error', () => undefined);
    // The wait's connection fails to reconnect while the server is down: quietly.
    const logged = vi.spyOn(console, 'error');
    try {
      const queue = new RedisWorkQueue<number>({ redis: client, name: 'restart' });
      const options = { pollMs: NEVER_MS, visibilityMs: NEVER_MS };
      const done = firstValueFrom(queue.process(async (job) => job + 1, options));
      const blocked = async () =>
        ((await admin.call('CLIENT', 'LIST')) as string).includes('flags=b');
      while (!(await blocked())) await sleep(5);
      await own.kill();
      await sleep(200);
      await own.restart();
      while (client.status !== 'ready') await sleep(10);
      while (!(await blocked().catch(() => false))) await sleep(5);
      await queue.add(41);
      expect(await done).toMatchObject({ status: 'done', result: 42 });
      await queue.close();
      expect(logged.mock.calls.flat().join(' ')).not.toMatch(/unhandled error/i);
    } finally {
      logged.mockRestore();
      client.disconnect();
      admin.disconnect();
      await own.stop();
    }
  });

  it('wakes at once for a job added before the wait began, which no worker took yet', async () => {
    const { name, key } = await levelWithGroup();
    await shared.redis.xadd(key, '*', 'id', 'early', 'j', '1');
    const { wake, ended } = waitOn(name);
    wake.start(NEVER_MS, 10);
    expect(await ended()).toBe(true);
    // It took nothing: the job is still there for a group read.
    expect(((await shared.redis.xpending(key, 'workers')) as [number])[0]).toBe(0);
    wake.close();
  });

  it('does not wake for jobs another worker took; ends with false when its block ends', async () => {
    const { name, key } = await levelWithGroup();
    await shared.redis.xadd(key, '*', 'id', 'taken', 'j', '1');
    await shared.redis.call(
      'XREADGROUP',
      'GROUP',
      'workers',
      'other',
      'COUNT',
      10,
      'STREAMS',
      key,
      '>',
    );
    const { wake, ended } = waitOn(name);
    wake.start(50, 10);
    expect(await ended()).toBe(false);
    // And a job added during a wait wakes it.
    wake.start(NEVER_MS, 10);
    await untilBlocked(1);
    await shared.redis.xadd(key, '*', 'id', 'new', 'j', '2');
    expect(await ended()).toBe(true);
    wake.close();
  });

  it('close ends the wait and its connection, waking nobody', async () => {
    const { name } = await levelWithGroup();
    const { wake, ends } = waitOn(name);
    wake.start(NEVER_MS, 10);
    await untilBlocked(1);
    expect(wake.isWaiting).toBe(true);
    wake.close();
    expect(wake.isWaiting).toBe(false);
    await untilBlocked(0);
    await sleep(20);
    expect(ends).toEqual([]);
  });

  it('a wait that gets no answer is cut off after its block, while Redis still answers nobody', async () => {
    const { name } = await levelWithGroup();
    const { wake, ended } = waitOn(name);
    const admin = new Redis(shared.server.port, '127.0.0.1');
    try {
      await admin.call('CLIENT', 'PAUSE', 4_000, 'ALL');
      let answered = false;
      const ping = shared.redis.ping().then(() => (answered = true));
      wake.start(10, 10);
      expect(await ended()).toBe(false);
      expect(answered).toBe(false);
      await ping;
      // A new connection serves the next wait.
      wake.start(20, 10);
      expect(await ended()).toBe(false);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
      wake.close();
    }
  }, 10_000);

  it('a job added during a short block wakes it before the block ends', async () => {
    const { name, key } = await levelWithGroup();
    const { wake, ended } = waitOn(name);
    wake.start(5_000, 10);
    await untilBlocked(1);
    await shared.redis.xadd(key, '*', 'id', 'soon', 'j', '1');
    expect(await ended()).toBe(true);
    wake.close();
  });

  it('one connection serves wait after wait; a wait started over another ends only once', async () => {
    const { name, key } = await levelWithGroup();
    const { wake, ended, ends } = waitOn(name);
    // The earlier tests' connections are closed: this file's client alone is left.
    while ((await clients()) !== 1) await sleep(5);
    for (let i = 0; i < 3; i++) {
      wake.start(10, 10);
      expect(await ended()).toBe(false);
    }
    expect(await clients()).toBe(2);
    // The first wait is abandoned for the second: its answer (the same entry) wakes nobody.
    wake.start(NEVER_MS, 10);
    await untilBlocked(1);
    wake.start(NEVER_MS, 10);
    await shared.redis.xadd(key, '*', 'id', 'one', 'j', '1');
    expect(await ended()).toBe(true);
    await sleep(50);
    expect(ends).toEqual([false, false, false, true]);
    wake.close();
  });

  it("reads the group's last delivered id from XINFO GROUPS, among other groups", () => {
    const group = (name: string, id?: string) => [
      'name',
      name,
      'consumers',
      0,
      'pending',
      0,
      ...(id === undefined ? [] : ['last-delivered-id', id]),
    ];
    const reply = (...groups: unknown[]): [Error | null, unknown] => [null, groups];
    expect(
      deliveredUpTo(reply(group('other', '9-0'), group('workers', '3-1')), 'workers', 'k'),
    ).toBe('3-1');
    expect(() => deliveredUpTo(reply(group('other', '9-0')), 'workers', 'k')).toThrow(
      'RedisWorkQueue: the stream k has no group workers',
    );
    expect(() => deliveredUpTo(reply(group('workers')), 'workers', 'k')).toThrow('no group');
    const refused = new Error('NOPERM');
    expect(() => deliveredUpTo([refused, null], 'workers', 'k')).toThrow(refused);
    expect(() => deliveredUpTo(undefined, 'workers', 'k')).toThrow(
      'RedisWorkQueue: no reply of XINFO GROUPS k',
    );
  });

  it('Redis refusing the wait (no group) ends it with false after retryMs', async () => {
    const { wake, ended } = waitOn(`wake${++n}-missing`);
    wake.start(NEVER_MS, 10);
    expect(await ended()).toBe(false);
    wake.close();
  });
});
