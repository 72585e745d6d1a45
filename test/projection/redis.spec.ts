/**
 * Projections over a real redis-server (started here as the Redis specs do): RedisSnapshotStore,
 * a projection on RedisEventBus resuming across bus instances, the resume property with random
 * crash points, and a projection process killed with SIGKILL and restarted while events flow.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { from, lastValueFrom, Subject, takeUntil, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame, ProjectionSnapshot, ProjectionState } from '../../src/index.js';
import { projection, StaleSnapshotError } from '../../src/index.js';
import { createRedisBus, type RedisEventBus, RedisSnapshotStore } from '../../src/redis/index.js';
import { RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redis/redisServer.js';
import { CrashableStore, type Folded, plainFold, scenario } from './crashModel.js';
import { type Tally, tally } from './fixtures/tally.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  check: () => boolean,
  what: string | (() => string),
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(5);
  }
}

/** Every frame in the stream, read from Redis (a bus's replay stops at the head it has seen). */
function streamOf(bus: RedisEventBus<unknown>): Promise<EventFrame[]> {
  return lastValueFrom(from(bus.archive.replay({ visibility: 'private' }, 0)).pipe(toArray()));
}

describe.skipIf(version === undefined)('projections on Redis (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let n = 0;
  const buses: RedisEventBus<unknown>[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  async function newBus<P = unknown>(stream: string): Promise<RedisEventBus<P>> {
    const bus = await createRedisBus<P>({ redis, stream, blockMs: 100, history: 4 });
    buses.push(bus as RedisEventBus<unknown>);
    return bus;
  }

  describe('RedisSnapshotStore', () => {
    const snapshot: ProjectionSnapshot = {
      name: 'p',
      version: 2,
      filterHash: 'h',
      epoch: 'e',
      seq: 7,
      state: { runs: { r1: 'done' } },
    };

    it('saves a snapshot with one SET under <prefix><name> and loads it back; a missing one is undefined', async () => {
      const store = new RedisSnapshotStore({ redis, prefix: 'spec:' });
      expect(await store.load('p')).toBeUndefined();
      await store.save(snapshot);
      expect(await redis.type('spec:p')).toBe('string');
      expect(await store.load('p')).toEqual(snapshot);
      expect(await store.delete('p')).toBe(true);
      expect(await store.delete('p')).toBe(false);
      expect(new RedisSnapshotStore({ redis }).keyOf('x')).toBe('projection:x');
    });

    it('encodes the snapshot when save is called, not later', async () => {
      const store = new RedisSnapshotStore({ redis, prefix: 'spec2:' });
      const state = { count: 1 };
      const saved = store.save({ ...snapshot, state });
      state.count = 2;
      await saved;
      expect((await store.load('p'))?.state).toEqual({ count: 1 });
    });

    it('refuses a bad client or prefix, and a key that does not hold a snapshot (naming it)', async () => {
      expect(() => new RedisSnapshotStore({ redis: undefined as never })).toThrow(
        'RedisSnapshotStore: redis must be an ioredis client, got undefined',
      );
      expect(() => new RedisSnapshotStore({ redis, prefix: 1 as never })).toThrow(
        'RedisSnapshotStore: prefix must be a string, got 1',
      );
      const store = new RedisSnapshotStore({ redis, prefix: 'spec3:' });
      await redis.set('spec3:bad', 'not json');
      await expect(store.load('bad')).rejects.toThrow(
        'RedisSnapshotStore: the key "spec3:bad" is not JSON',
      );
      await redis.set('spec3:num', '12');
      await expect(store.load('num')).rejects.toThrow(
        'RedisSnapshotStore: the key "spec3:num" holds 12, not a snapshot',
      );
    });
  });

  it('a projection on RedisEventBus catches up, follows live frames, and another bus instance resumes from its snapshot', async () => {
    const stream = `proj-${++n}`;
    const store = new RedisSnapshotStore({ redis, prefix: `${stream}:` });
    const first = await newBus<{ i: number }>(stream);
    for (let i = 1; i <= 10; i++) await first.publish({ kind: 'tick', payload: { i } });
    const config = {
      name: 'ticks',
      initial: { count: 0, sum: 0, chain: 0, last: 0 } as Tally,
      reduce: tally,
      snapshots: { store, every: 3 },
    };
    const states: ProjectionState<Tally>[] = [];
    const subscription = projection(first, config).subscribe((state) => states.push(state));
    await until(() => states.length > 0, 'the catch-up');
    expect(states[0]).toMatchObject({ seq: 10, caughtUp: true, state: { count: 10, sum: 55 } });
    await first.publish({ kind: 'tick', payload: { i: 11 } });
    await until(() => states[states.length - 1]?.seq === 11, 'a live frame');
    subscription.unsubscribe();
    await sleep(50);
    expect((await store.load('ticks'))?.seq).toBe(11);
    const second = await newBus<{ i: number }>(stream);
    await second.publish({ kind: 'tick', payload: { i: 12 } });
    const resumed: EventFrame[] = [];
    const again = projection(second, {
      ...config,
      reduce: (state: Tally, frame: EventFrame<{ i: number }>) => {
        resumed.push(frame);
        return tally(state, frame);
      },
    });
    const caughtUp = await new Promise<ProjectionState<Tally>>((resolve) => {
      const sub = again.subscribe((state) => {
        resolve(state);
        setTimeout(() => sub.unsubscribe());
      });
    });
    expect(resumed.map((frame) => frame.seq)).toEqual([12]);
    expect(caughtUp).toMatchObject({ seq: 12, state: { count: 12, sum: 78 }, epoch: second.epoch });
  });

  it("a snapshot from another stream's epoch is stale", async () => {
    const stream = `proj-${++n}`;
    const store = new RedisSnapshotStore({ redis, prefix: `${stream}:` });
    const bus = await newBus(stream);
    await bus.publish({ kind: 'tick' });
    await store.save({
      name: 'ticks',
      version: 1,
      filterHash: 'x',
      epoch: 'elsewhere',
      seq: 1,
      state: 0,
    });
    const run = projection(bus, {
      name: 'ticks',
      initial: 0,
      reduce: (c: number) => c + 1,
      snapshots: { store },
    });
    await expect(lastValueFrom(run)).rejects.toBeInstanceOf(StaleSnapshotError);
  });

  it('property: killed at random points (saves after the kill lost), restarted, it equals a plain fold', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(8, 3), async (plan) => {
        const stream = `prop-${++n}`;
        const bus = await newBus(stream);
        const durable = new RedisSnapshotStore({ redis, prefix: `${stream}:` });
        const config = { name: 'model', initial: [] as Folded, filter: plan.filter };
        const append = (state: Folded, frame: EventFrame): Folded => [...state, frame.seq];
        for (const event of plan.before) await bus.publish(event);
        for (const life of plan.lives) {
          const store = new CrashableStore(durable);
          const kill = new Subject<void>();
          let reduced = 0;
          let seen = -1;
          let failure: unknown;
          const subscription = projection(bus, {
            ...config,
            reduce: (state: Folded, frame: EventFrame) => {
              if (++reduced === life.crashAfter) {
                store.crash();
                kill.next();
              }
              return append(state, frame);
            },
            snapshots: { store, every: plan.every },
          })
            .pipe(takeUntil(kill))
            .subscribe({
              next: (state) => {
                seen = state.seq;
              },
              error: (error) => {
                failure = error;
              },
            });
          let head = bus.lastSeq;
          for (const event of life.events) head = (await bus.publish(event)).seq;
          // Until it crashed, or caught up with what was published (what does not match moves
          // no state: wait for the caught-up emission at least).
          const wanted = plainFold(await streamOf(bus), plan.filter);
          const lastMatching = wanted[wanted.length - 1] ?? 0;
          await until(
            () =>
              failure !== undefined ||
              store.crashed ||
              (seen >= 0 && seen >= Math.min(lastMatching, head)),
            () =>
              `the life to fold (seen ${seen}, head ${head}, last matching ${lastMatching}, reduced ${reduced})`,
            5000,
          );
          expect(failure).toBeUndefined();
          if (life.killedAtEnd) store.crash();
          subscription.unsubscribe();
          await store.settled();
        }
        for (const event of plan.after) await bus.publish(event);
        const frames = await streamOf(bus);
        const last = await new Promise<ProjectionState<Folded>>((resolve, reject) => {
          const sub = projection(bus, {
            ...config,
            reduce: append,
            snapshots: { store: durable, every: plan.every },
          }).subscribe({
            next: (state) => {
              resolve(state);
              setTimeout(() => sub.unsubscribe());
            },
            error: reject,
          });
        });
        expect(last.seq).toBe(frames.length);
        expect(last.state).toEqual(plainFold(frames, plan.filter));
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  /** A projector child process (fixtures/projector.ts) and the states it printed. */
  function startProjector(stream: string, every: number) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'projector.ts'),
        String(server.port),
        stream,
        String(every),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const handle = {
      child,
      output: '',
      states: () =>
        handle.output
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as ProjectionState<Tally> & { error?: string }),
      exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    };
    child.stdout?.on('data', (data) => {
      handle.output += data.toString();
    });
    child.stderr?.on('data', (data) => {
      handle.output += data.toString();
    });
    return handle;
  }

  it('a projection process killed with SIGKILL at random moments and restarted folds every frame once', async () => {
    const stream = `kill-${++n}`;
    const every = 25;
    const publisher = await newBus<{ i: number }>(stream);
    let sent = 0;
    let stop = false;
    // Frames flow (about 1,000 a second) while projectors come and go.
    const publishing = (async () => {
      // After the last kill, 100 more: the last life starts behind the head too.
      let more = 100;
      for (let i = 1; !stop || more-- > 0; i++) {
        // One frame in five is not a tick: the projection's filter skips it.
        await publisher.publish({ kind: i % 5 === 0 ? 'other' : 'tick', payload: { i } });
        sent = i;
        if (i % 10 === 0) await sleep(3);
      }
    })();
    const store = new RedisSnapshotStore({ redis, prefix: `${stream}:projection:` });
    const killedAt: number[] = [];
    const resumedFrom: number[] = [];
    for (let round = 0; round < 4; round++) {
      const projector = startProjector(stream, every);
      await until(() => projector.states().length > 0, 'the projector to catch up', 30_000);
      resumedFrom.push(projector.states()[0]?.seq ?? -1);
      await sleep(100 + Math.floor(Math.random() * 200));
      projector.child.kill('SIGKILL');
      await projector.exited;
      killedAt.push(sent);
      expect(projector.states().filter((state) => state.error !== undefined)).toEqual([]);
    }
    stop = true;
    await publishing;
    const total = sent;
    // Killed while frames were flowing, each life resuming from further on.
    expect(
      killedAt.every((count) => count < total),
      `${killedAt} of ${total}`,
    ).toBe(true);
    expect(resumedFrom).toEqual([...resumedFrom].sort((a, b) => a - b));
    expect((await store.load('ticks'))?.seq ?? 0).toBeGreaterThan(0);
    const last = startProjector(stream, every);
    await until(
      () => last.states().some((state) => state.seq === total),
      'the last projector to fold the whole stream',
      30_000,
    );
    const frames = await streamOf(publisher as RedisEventBus<unknown>);
    expect(frames).toHaveLength(total);
    const expected = (frames as EventFrame<{ i: number }>[])
      .filter((frame) => frame.kind === 'tick')
      .reduce(tally, { count: 0, sum: 0, chain: 0, last: 0 });
    const final = last.states().find((state) => state.seq === total);
    expect(final?.state).toEqual(expected);
    expect(expected.count).toBe(total - Math.floor(total / 5));
  }, 120_000);
});
