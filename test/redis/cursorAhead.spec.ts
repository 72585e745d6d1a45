import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, FaultWorld, sleep, until } from './faults/harness.js';
import { redisServerVersion, SKIP_MESSAGE } from './redisServer.js';

const version = redisServerVersion();
if (version === undefined) console.warn(SKIP_MESSAGE);

/**
 * A process's head moves only while someone there listens. A cursor saved elsewhere (another
 * process, or this one before a quiet spell) may be beyond it and still be a good cursor: the
 * bus reads the stream's end before judging it.
 */
describe.skipIf(version === undefined)('a cursor beyond this process head', () => {
  const world = new FaultWorld();
  beforeAll(() => world.start());
  afterEach(() => world.reset());
  afterAll(() => world.stop());

  async function quietBusBehind(frames: number) {
    const stream = world.stream();
    const writer = await world.bus(stream);
    const reader = await world.bus(stream);
    for (let i = 1; i <= frames; i++) await writer.publish({ kind: 'k', payload: i });
    await sleep(50);
    // Nobody listens in reader: its head never moved.
    expect(reader.lastSeq).toBe(0);
    return { writer, reader };
  }

  it('select from it reads what follows, then live frames, with no gap and no duplicate', async () => {
    const { writer, reader } = await quietBusBehind(10);
    const seen = collect(reader.select({}, { after: 6, epoch: writer.epoch }));
    await until(() => seen.values.length === 4, 'the frames after the cursor');
    await writer.publish({ kind: 'k', payload: 11 });
    await until(() => seen.values.length === 5, 'a live frame');
    expect(seen.values.map((f) => f.seq)).toEqual([7, 8, 9, 10, 11]);
    expect(seen.values.every((f) => f.overflow === undefined)).toBe(true);
    expect(seen.error()).toBeUndefined();
  });

  it('through a queue driven by demand: credit granted while the cursor is reached is kept', async () => {
    const { reader } = await quietBusBehind(10);
    const got: number[] = [];
    for await (const frame of reader.iterate({}, { after: 8 })) {
      got.push(frame.seq);
      if (frame.seq === 10) break;
    }
    expect(got).toEqual([9, 10]);
  });

  it('replay from it gives what the stream holds after it, then completes', async () => {
    const { reader } = await quietBusBehind(5);
    const frames = await lastValueFrom(reader.replay({}, 3).pipe(toArray()));
    expect(frames.map((f) => f.seq)).toEqual([4, 5]);
  });

  it('while the tail runs, waits for the tail to bring the head up to it', async () => {
    const stream = world.stream();
    const writer = await world.bus(stream);
    const reader = await world.bus(stream, { blockMs: 1000 });
    const live = collect(reader.events$);
    await writer.publish({ kind: 'k' });
    await until(() => live.values.length === 1, 'the first frame');
    const frames = await writer.publishAll(Array.from({ length: 5 }, () => ({ kind: 'k' })));
    // Right after the writer's publish, before the reader's tail has read it back.
    const seen = collect(reader.select({}, { after: frames[2]?.seq }));
    await until(() => seen.values.length === 2, 'the frames after the cursor');
    expect(seen.values.map((f) => f.seq)).toEqual([5, 6]);
    expect(live.values.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a cursor beyond the end of the stream itself is still refused, naming the head', async () => {
    const { reader } = await quietBusBehind(3);
    const seen = collect(reader.select({}, { after: 40 }));
    await until(() => seen.error() !== undefined, 'the refusal');
    expect(seen.error()).toBeInstanceOf(RangeError);
    expect(String(seen.error())).toMatch(/after 40 is beyond the head/);
    expect(seen.values).toEqual([]);
  });
});
