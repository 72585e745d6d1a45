/**
 * Fault spec: a subscriber held back (a 'backpressure' queue whose consumer is slow) while
 * `maxLen` trims the stream under it. Every gap it meets must be announced on exactly the first
 * frame after the gap (not on a frame it had queued before it), and every later gap too.
 */
import { Subject } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame, SubscriberQueue } from '../../../src/bus/types.js';
import { redisServerVersion, SKIP_MESSAGE } from '../redisServer.js';
import { checkRun, streamFrames } from './checker.js';
import { collect, event, FaultWorld, sleep, until } from './harness.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

/**
 * Where a subscriber's log and its notices disagree: a seq jump whose frame does not carry a
 * notice of exactly the seqs jumped over, or a notice on a frame that follows its predecessor
 * with no jump (a notice placed early).
 */
function misplacedNotices(frames: readonly EventFrame[], after: number): string[] {
  const problems: string[] = [];
  let previous = after;
  for (const frame of frames) {
    const notice = frame.overflow;
    const jumped = frame.seq !== previous + 1;
    if (jumped && (notice?.fromSeq !== previous + 1 || notice.toSeq !== frame.seq - 1)) {
      problems.push(
        `seq ${frame.seq} after ${previous}: notice ${notice === undefined ? 'missing' : `${notice.fromSeq}..${notice.toSeq}`}`,
      );
    }
    if (!jumped && notice !== undefined) {
      problems.push(
        `seq ${frame.seq} after ${previous}: a notice of ${notice.fromSeq}..${notice.toSeq} on a frame with no gap before it`,
      );
    }
    previous = frame.seq;
  }
  return problems;
}

describe.skipIf(version === undefined)('a held-back subscriber while maxLen trims', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  it.each([
    ['live', undefined, 500],
    ['from a cursor (reading the log first)', 0, 500],
    ['live, the tail reading 7 entries at a time', undefined, 7],
  ] as const)(
    '%s: each gap is announced on exactly the first frame after it, every time',
    async (_, after, readCount) => {
      const stream = world.stream();
      const writer = await world.bus(stream, { maxLen: 20, exactTrim: true });
      const reader = await world.bus(stream, { readCount, history: 50 });
      const demand = new Subject<number>();
      const queue: SubscriberQueue<unknown> = { capacity: 16, overflow: 'backpressure', demand };
      const held = collect(reader.select({}, { after, queue }));
      // One unheld subscriber of the same process, as a witness of what the tail read.
      const witness = collect(reader.select());
      const acknowledged: EventFrame[] = [];
      let next = 0;
      const publish = async (count: number) => {
        for (let i = 0; i < count; i += 10) {
          acknowledged.push(
            ...(await writer.publishAll(Array.from({ length: 10 }, () => event(++next)))),
          );
        }
      };
      const drain = async (upTo: number) => {
        for (let i = 0; i < 400 && (held.values.at(-1)?.seq ?? 0) < upTo; i++) {
          demand.next(3);
          await sleep(2);
        }
        await until(() => held.values.at(-1)?.seq === upTo, `the held subscriber to reach ${upTo}`);
      };
      // Three rounds: held while 100 frames are published (80 of them trimmed before it gets
      // there), then let through to the head.
      for (let round = 1; round <= 3; round++) {
        await publish(100);
        await sleep(150);
        expect(held.values.length).toBeLessThan(round * 100);
        await drain(next);
      }
      expect(held.error()).toBeUndefined();
      expect(misplacedNotices(held.values, after ?? 0)).toEqual([]);
      const notices = held.values.filter((f) => f.overflow !== undefined);
      expect(notices.length).toBeGreaterThanOrEqual(3);
      // Counted once each in the metrics.
      const dropped = notices.reduce((sum, f) => sum + (f.overflow?.dropped ?? 0), 0);
      expect(reader.metrics().subscribers[0]).toMatchObject({
        delivered: held.values.length,
        dropped,
      });
      expect(held.values.length + dropped).toBe(300);
      expect(held.values.at(-1)?.seq).toBe(300);
      expect(
        checkRun({
          stream: await streamFrames(world.client(), stream),
          acknowledged: acknowledged.slice(-20),
          subscribers: [
            { name: 'held', after: 0, frames: held.values },
            { name: 'witness', after: 0, frames: witness.values },
          ],
        }),
      ).toEqual([]);
    },
  );

  it('reading the log (behind the head) while the tail jumps over trimmed entries: the gap is announced once, on the frame after it, and counted', async () => {
    const stream = world.stream();
    const writer = await world.bus(stream, { maxLen: 20, exactTrim: true });
    const reader = await world.bus(stream, { history: 50 });
    const witness = collect(reader.select());
    const gaps: Array<[number | undefined, number | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      await writer.publishAll(Array.from({ length: 10 }, (_, j) => event(i * 10 + j)));
    }
    await until(() => reader.lastSeq === 30, 'the tail to read 30');
    const demand = new Subject<number>();
    const held = collect(
      reader.select(
        {},
        {
          after: 5,
          queue: {
            capacity: 16,
            overflow: 'backpressure',
            demand,
            onOverflow: (notice) => gaps.push([notice.fromSeq, notice.toSeq]),
          },
        },
      ),
    );
    for (let i = 3; i < 13; i++) {
      await writer.publishAll(Array.from({ length: 10 }, (_, j) => event(i * 10 + j)));
    }
    await sleep(150);
    expect(reader.metrics().subscribers[1]).toMatchObject({ replaying: true });
    for (let i = 0; i < 400 && (held.values.at(-1)?.seq ?? 0) < 130; i++) {
      demand.next(3);
      await sleep(2);
    }
    await until(() => held.values.at(-1)?.seq === 130, 'the held subscriber to reach 130');
    expect(misplacedNotices(held.values, 5)).toEqual([]);
    const notices = held.values.filter((f) => f.overflow !== undefined);
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(gaps).toEqual(notices.map((f) => [f.overflow?.fromSeq, f.overflow?.toSeq]));
    const dropped = notices.reduce((sum, f) => sum + (f.overflow?.dropped ?? 0), 0);
    expect(reader.metrics().subscribers[1]).toMatchObject({ dropped });
    expect(held.values.length + dropped).toBe(125);
    // The unheld subscriber of the same process met the same jump of the tail.
    expect(misplacedNotices(witness.values, 0)).toEqual([]);
    expect(witness.values.at(-1)?.seq).toBe(130);
  });
});
