import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PaceBoard, type PaceBoardConfig } from '../../src/core/PaceBoard.js';

/** A board on a clock the test moves by hand; lanes by the text before `:`. */
function board(overrides: Partial<PaceBoardConfig<string>> = {}) {
  const clock = { time: 0, now: () => clock.time };
  const paced = new PaceBoard<string>({
    text: (value) => (value.startsWith('!') ? undefined : value.slice(value.indexOf(':') + 1)),
    key: (value) => value.slice(0, value.indexOf(':')),
    unit: 'grapheme',
    maxLag: 250,
    interval: 100,
    fixedInterval: true,
    clock,
    owner: 'test',
    ...overrides,
  });
  const take = () => {
    const items: string[] = [];
    while (!paced.isEmpty) {
      const item = paced.shift();
      items.push(
        item.chunk === undefined ? item.value : `${item.value.split(':')[0]}:${item.chunk}`,
      );
    }
    return items;
  };
  return { paced, clock, take };
}

describe('PaceBoard', () => {
  it('a throwing callback leaves the board as it was', () => {
    const { paced, take } = board({
      text: (value) => {
        if (value.endsWith('boom')) throw new Error('text failed');
        return value.slice(2);
      },
    });
    paced.push('1:abcdef');
    expect(take()).toEqual(['1:ab']);
    expect(() => paced.push('1:boom')).toThrow('text failed');
    expect([paced.hasBacklog, paced.size]).toEqual([true, 0]);
    paced.flushAll();
    expect(take()).toEqual(['1:cdef']);
    expect(paced.hasBacklog).toBe(false);
  });

  it('never reports a gap: pacing loses nothing', () => {
    const { paced } = board();
    paced.push('1:ab');
    expect(paced.takeNotice()).toBeUndefined();
  });

  it('spreads a burst over the time since the lane’s previous burst, and forgets lanes idle for maxLag', () => {
    const { paced, clock, take } = board();
    const remembers = (lane: string) =>
      (paced as unknown as { idle: Map<unknown, unknown> }).idle.has(lane);
    paced.push('1:a');
    expect(take()).toEqual(['1:a']);
    expect(remembers('1')).toBe(true);
    // 120 ms after its previous burst: spread over 120 ms, two ticks, so 3 of 6 now.
    clock.time = 120;
    paced.push('1:abcdef');
    expect(take()).toEqual(['1:abc']);
    paced.flushAll();
    take();
    // Idle since 120; at 370 (maxLag later) it is forgotten, and a new burst is spread over
    // maxLag: three ticks, so 2 of 6 now.
    clock.time = 370;
    paced.push('2:x');
    expect(remembers('1')).toBe(false);
    paced.push('1:abcdef');
    expect(take()).toEqual(['2:x', '1:ab']);
  });

  it('clear forgets every lane and every ready item', () => {
    const { paced, take } = board();
    paced.push('1:abcdef');
    paced.push('2:abcdef');
    paced.clear();
    expect([paced.hasBacklog, paced.isEmpty, take()]).toEqual([false, true, []]);
  });

  it('a notifier cadence is measured from the ticks: the chunks follow the real interval', () => {
    const { paced, clock, take } = board({ fixedInterval: false, interval: 16 });
    paced.push('1:abcdefghij');
    expect(take()).toEqual(['1:a']);
    expect(paced.cadence).toBe(16);
    clock.time = 100;
    paced.tick();
    clock.time = 200;
    paced.tick();
    expect(paced.cadence).toBe(100);
    // At 100 the cadence is still taken as 16 ms: one unit. At 200 it is known to be 100 ms, so
    // the burst due at 250 has this tick only: everything left is shown.
    expect(take().join('')).toBe('1:b1:cdefghij');
  });
});

describe('PaceBoard against a reference (property)', () => {
  interface Arrival {
    at: number;
    lane: string;
    kind: 'text' | 'tool' | 'end';
    text: string;
  }

  /**
   * Drives a board as paceText does: each arrival pushed at its time, a tick every `interval` ms
   * from the moment a lane got busy while any lane is busy; records what is shown, and when.
   */
  function drive(
    arrivals: Arrival[],
    interval: number,
    maxLag: number,
    unit: 'grapheme' | 'word' | 'line',
  ) {
    const clock = { time: 0, now: () => clock.time };
    const paced = new PaceBoard<string>({
      text: (value) =>
        value.startsWith('!') || value.startsWith('.') ? undefined : value.slice(2),
      key: (value) =>
        value.startsWith('!') || value.startsWith('.') ? value.slice(1, 2) : value.slice(0, 1),
      classify: (value) =>
        value.startsWith('.') ? 'terminal' : value.startsWith('!') ? 'normal' : 'progress',
      unit,
      maxLag,
      interval,
      fixedInterval: true,
      clock,
      owner: 'test',
    });
    const shown: Array<{ at: number; value: string; chunk: string | undefined }> = [];
    const drain = () => {
      while (!paced.isEmpty) shown.push({ at: clock.time, ...paced.shift() });
    };
    let nextTick: number | undefined;
    const tickUntil = (time: number) => {
      while (nextTick !== undefined && nextTick <= time) {
        clock.time = nextTick;
        paced.tick();
        drain();
        nextTick = paced.hasBacklog ? nextTick + interval : undefined;
      }
    };
    arrivals.forEach((arrival, index) => {
      tickUntil(arrival.at);
      clock.time = arrival.at;
      const value =
        arrival.kind === 'text'
          ? `${arrival.lane}:${arrival.text}`
          : `${arrival.kind === 'tool' ? '!' : '.'}${arrival.lane}#${index}`;
      paced.push(value);
      drain();
      if (paced.hasBacklog && nextTick === undefined) nextTick = clock.time + interval;
    });
    tickUntil(Number.POSITIVE_INFINITY);
    return { shown, paced };
  }

  const arrival = fc.record({
    at: fc.integer({ min: 0, max: 500 }),
    lane: fc.constantFrom('1', '2'),
    kind: fc.constantFrom('text', 'text', 'text', 'tool', 'end') as fc.Arbitrary<Arrival['kind']>,
    text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
  });

  it('shows each lane exactly, in order, within maxLag, tool calls and ends in place, ends at once', () => {
    fc.assert(
      fc.property(
        fc.array(arrival, { maxLength: 30 }),
        fc.constantFrom(10, 16, 40),
        fc.constantFrom(50, 120, 250),
        fc.constantFrom('grapheme', 'word', 'line') as fc.Arbitrary<'grapheme' | 'word' | 'line'>,
        (unsorted, interval, maxLag, unit) => {
          const arrivals = [...unsorted].sort((a, b) => a.at - b.at);
          const { shown, paced } = drive(arrivals, interval, maxLag, unit);
          expect(paced.hasBacklog).toBe(false);
          expect(paced.takeNotice()).toBeUndefined();
          for (const lane of ['1', '2']) {
            // The reference: the lane's characters and markers, in arrival order, with arrival times.
            const expected: Array<{ piece: string; at: number }> = [];
            arrivals.forEach((item, index) => {
              if (item.lane !== lane) return;
              if (item.kind === 'text')
                for (const char of item.text) expected.push({ piece: char, at: item.at });
              else
                expected.push({
                  piece: `${item.kind === 'tool' ? '!' : '.'}${lane}#${index}`,
                  at: item.at,
                });
            });
            const got: Array<{ piece: string; at: number }> = [];
            for (const { at, value, chunk } of shown) {
              if (chunk === undefined) {
                if (value.slice(1, 2) === lane) got.push({ piece: value, at });
              } else if (value.slice(0, 1) === lane) {
                expect(chunk.length).toBeGreaterThan(0);
                for (const char of chunk) got.push({ piece: char, at });
              }
            }
            expect(got.map((item) => item.piece)).toEqual(expected.map((item) => item.piece));
            got.forEach((item, index) => {
              const came = (expected[index] as { at: number }).at;
              expect(item.at - came).toBeGreaterThanOrEqual(0);
              expect(item.at - came).toBeLessThanOrEqual(maxLag);
              if (/^\.\d#\d+$/.test(item.piece)) expect(item.at).toBe(came);
            });
          }
          // One chunk per lane a tick, besides the chunks cut around a value without text, the
          // first chunk of a lane shown at once, and the flush of an end.
          const counts = new Map<string, number>();
          for (const { at, value, chunk } of shown) {
            const key = `${at}/${chunk === undefined ? value.slice(1, 2) : value.slice(0, 1)}`;
            counts.set(key, (counts.get(key) ?? 0) + (chunk === undefined ? -1 : 1));
          }
          for (const count of counts.values()) expect(count).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 300 },
    );
  });

  const text = (at: number, lane: string, body: string): Arrival => ({
    at,
    lane,
    kind: 'text',
    text: body,
  });
  const seen = (shown: Array<{ at: number; value: string; chunk: string | undefined }>) =>
    shown.map(({ at, value, chunk }) => `${at}:${chunk ?? value}`);

  it('a burst after a pause: spread over maxLag, the first chunk at once', () => {
    expect(seen(drive([text(0, '1', 'abcdef')], 100, 250, 'grapheme').shown)).toEqual([
      '0:ab',
      '100:cd',
      '200:ef',
    ]);
  });

  it('a steady stream: each burst spread over the time since the previous one, about a tick', () => {
    const arrivals = ['ab', 'cd', 'ef', 'gh', 'ij'].map((body, index) =>
      text(index * 20, '1', body),
    );
    expect(seen(drive(arrivals, 16, 250, 'grapheme').shown)).toEqual([
      '0:a',
      '16:b',
      '36:cd',
      '56:ef',
      '76:gh',
      '96:ij',
    ]);
  });

  it('text arriving before the next tick joins the open burst and its deadline', () => {
    const arrivals = [text(0, '1', 'abc'), text(5, '1', 'def')];
    // One burst (0 and 5, no tick between), due by 250: 'a' at once, then 5 more over 3 ticks.
    expect(seen(drive(arrivals, 100, 250, 'grapheme').shown)).toEqual(['0:a', '100:bcd', '200:ef']);
  });

  it('a value without text waits behind its lane; an end flushes the lane at once', () => {
    const arrivals: Arrival[] = [
      text(0, '1', 'abcdef'),
      { at: 1, lane: '1', kind: 'tool', text: '' },
      { at: 2, lane: '1', kind: 'end', text: '' },
    ];
    expect(seen(drive(arrivals, 100, 250, 'grapheme').shown)).toEqual([
      '0:ab',
      '2:cdef',
      '2:!1#1',
      '2:.1#2',
    ]);
  });

  it("unit 'word' counts words, also in plain ASCII", () => {
    expect(
      seen(drive([text(0, '1', 'one two three four five six')], 100, 250, 'word').shown),
    ).toEqual(['0:one two ', '100:three four ', '200:five six']);
  });

  it('a fixed interval is kept whatever the spacing of the ticks', () => {
    const clock = { time: 0, now: () => clock.time };
    const paced = new PaceBoard<string>({
      text: (value) => value,
      unit: 'grapheme',
      maxLag: 250,
      interval: 100,
      fixedInterval: true,
      clock,
      owner: 'test',
    });
    paced.push('abcdefghijkl');
    const out: string[] = [];
    const take = () => {
      while (!paced.isEmpty) out.push(paced.shift().chunk ?? '');
    };
    take();
    for (const time of [10, 20]) {
      clock.time = time;
      paced.tick();
      take();
    }
    // Counted with 100 ms ticks (not the 10 ms they came at): 3 ticks left at 10 and at 20.
    expect(out).toEqual(['abcd', 'efg', 'hi']);
    expect(paced.cadence).toBe(100);
  });

  it('a burst is spread over the ticks before its deadline, in even chunks', () => {
    const { shown } = drive(
      [{ at: 0, lane: '1', kind: 'text', text: 'x'.repeat(100) }],
      10,
      95,
      'grapheme',
    );
    // Ten ticks by 95 ms (0, 10, ..., 90): ten chunks of ten.
    expect(shown.map(({ at, chunk }) => `${at}:${chunk?.length}`)).toEqual(
      Array.from({ length: 10 }, (_, index) => `${index * 10}:10`),
    );
  });

  it('refuses a class that is not one, and a text that is not a string, naming the owner', () => {
    const clock = { now: () => 0 };
    const make = (overrides: Partial<PaceBoardConfig<string>>) =>
      new PaceBoard<string>({
        text: (value) => value,
        unit: 'grapheme',
        maxLag: 250,
        interval: 16,
        fixedInterval: false,
        clock,
        owner: 'pacer',
        ...overrides,
      });
    expect(() => make({ classify: () => 'bogus' as never }).push('a')).toThrow(
      new TypeError(
        "pacer: classify must return 'terminal', 'progress' or 'normal', got \"bogus\"",
      ),
    );
    for (const valueClass of ['normal', 'progress', 'terminal'] as const) {
      expect(() => make({ classify: () => valueClass }).push('a')).not.toThrow();
    }
    expect(() => make({ text: () => 7 as never }).push('a')).toThrow(
      new TypeError('pacer: text must return a string or undefined, got 7'),
    );
    const empty = make({});
    empty.push('');
    expect([empty.hasBacklog, empty.size, empty.shift()]).toEqual([
      false,
      1,
      { value: '', chunk: undefined },
    ]);
  });
});

describe('PaceBoard edges', () => {
  function manual(overrides: Partial<PaceBoardConfig<string>> = {}) {
    const clock = { time: 0, now: () => clock.time };
    const paced = new PaceBoard<string>({
      text: (value) => (value.startsWith('!') ? undefined : value),
      classify: (value) => (value.startsWith('T') ? 'terminal' : 'normal'),
      unit: 'grapheme',
      maxLag: 250,
      interval: 100,
      fixedInterval: true,
      clock,
      owner: 'test',
      ...overrides,
    });
    const at = (time: number) => {
      clock.time = time;
    };
    const take = () => {
      const out: string[] = [];
      while (!paced.isEmpty) {
        const { value, chunk } = paced.shift();
        out.push(chunk === undefined ? `=${value}` : chunk);
      }
      return out;
    };
    return { paced, at, take };
  }

  it('a terminal value passes as is, its own text not paced', () => {
    const { paced, take } = manual();
    paced.push('abcdef');
    paced.push('Tthe end');
    expect(take()).toEqual(['ab', 'cdef', '=Tthe end']);
    expect(paced.hasBacklog).toBe(false);
  });

  it('text for a busy lane is never shown at once, however long since its last chunk', () => {
    const { paced, at, take } = manual();
    paced.push('abcdef');
    expect(take()).toEqual(['ab']);
    at(150);
    paced.push('gh');
    expect(take()).toEqual([]);
  });

  it('a lane idle for exactly one interval shows new text at once', () => {
    const { paced, at, take } = manual();
    paced.push('a');
    expect(take()).toEqual(['a']);
    at(100);
    paced.push('b');
    expect(take()).toEqual(['b']);
    at(150);
    paced.push('c');
    expect(take()).toEqual([]);
  });

  it('two values without text in a row pass without an empty chunk between them', () => {
    const { paced, at, take } = manual();
    paced.push('abcdef');
    paced.push('!one');
    paced.push('!two');
    paced.push('gh');
    expect(take()).toEqual(['ab']);
    for (const time of [100, 200]) {
      at(time);
      paced.tick();
    }
    expect(take()).toEqual(['cde', 'f', '=!one', '=!two', 'gh']);
  });

  it('each tick closes the open burst: later text has a deadline of its own', () => {
    const { paced, at, take } = manual();
    paced.push('abcdef');
    expect(take()).toEqual(['ab']);
    at(100);
    paced.tick();
    expect(take()).toEqual(['cd']);
    at(150);
    paced.push('gh');
    at(200);
    paced.tick();
    // 'ef' is due by 250, 'gh' by 300: two now, two at 300.
    expect(take()).toEqual(['ef']);
    at(300);
    paced.tick();
    expect(take()).toEqual(['gh']);
  });

  it('a late tick shows everything overdue', () => {
    const { paced, at, take } = manual();
    paced.push('abcdef');
    expect(take()).toEqual(['ab']);
    at(400);
    paced.tick();
    expect(take()).toEqual(['cdef']);
  });

  it('a measured cadence restarts after an idle spell, and ignores two ticks at one instant', () => {
    const { paced, at, take } = manual({ interval: 16, fixedInterval: false });
    paced.push('abcdefghij');
    expect(take()).toEqual(['a']);
    for (let time = 16; paced.hasBacklog; time += 16) {
      at(time);
      paced.tick();
    }
    take();
    at(1000);
    paced.push('abcdefghij');
    expect(take()).toEqual(['a']);
    at(1016);
    paced.tick();
    // Still 16 ms ticks (not the 1,000 ms since the last one): one grapheme.
    expect(take()).toEqual(['b']);
    expect(paced.cadence).toBe(16);
    paced.tick();
    expect(paced.cadence).toBe(16);
    expect(take()).toEqual(['c']);
  });
});
