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
