import { describe, expect, expectTypeOf, it } from 'vitest';
import type { OverflowNotice } from '../../src/index.js';
import {
  assertMarbles,
  createTestScheduler,
  drawMarble,
  ExpectationError,
  notice,
  parseMarble,
} from '../../src/testing/index.js';

describe('marbles in and out', () => {
  it('parses one frame per character, spaces aside, groups spanning their characters', () => {
    expect(parseMarble('  -a-(bc)-|', { a: 1, b: 2, c: 3 })).toEqual([
      { frame: 1, notification: { kind: 'N', value: 1, error: undefined } },
      { frame: 3, notification: { kind: 'N', value: 2, error: undefined } },
      { frame: 3, notification: { kind: 'N', value: 3, error: undefined } },
      { frame: 8, notification: { kind: 'C', value: undefined, error: undefined } },
    ]);
  });

  it('draws recorded messages back as the marble they were parsed from', () => {
    for (const marble of ['-a-(bc)-|', 'a--#', '--(ab|)', '']) {
      expect(drawMarble(parseMarble(marble))).toBe(marble);
    }
    expect(drawMarble(parseMarble('-x-y', { x: 10, y: 20 }), { x: 10 })).toBe('-x-A');
  });
});

describe('assertMarbles and createTestScheduler', () => {
  it('fails with both marbles aligned column by column, the first differing frame marked', () => {
    let message = '';
    try {
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-(bc)-d|')).toBe('-a-(bc)-e|');
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ExpectationError);
      message = (error as Error).message;
    }
    expect(message).toBe(
      [
        'marbles differ at frame 8:',
        '  expected  -a-(bc)-e|',
        '  actual    -a-(bc)-d|',
        '                    ^ expected "e", got "d"',
      ].join('\n'),
    );
  });

  it('aligns a group against single values, and names values with a legend', () => {
    const gap: OverflowNotice<string> = {
      policy: 'drop-oldest',
      dropped: 1,
      merged: 0,
      terminalPreserved: true,
    };
    expect(() =>
      assertMarbles(
        parseMarble('-(nb)|', { n: gap, b: 'b' }),
        parseMarble('-(nc)|', { n: notice({ dropped: 2 }), c: 'c' }),
      ),
    ).toThrow(
      [
        'marbles differ at frame 1:',
        '  expected  -(nc)|',
        '  actual    -(Ab)|',
        '             ^ expected notice({"dropped":2}), got {"policy":"drop-oldest","dropped":1,"merged":0,"terminalPreserved":true}',
        '  where n = notice({"dropped":2}), A = {"policy":"drop-oldest","dropped":1,"merged":0,"terminalPreserved":true}',
      ].join('\n'),
    );
  });

  it('says when the same event comes at another frame', () => {
    expect(() => assertMarbles(parseMarble('--|'), parseMarble('-|'))).toThrow(
      'expected complete at frame 1, got complete at frame 2',
    );
  });

  it('passes equal marbles, notice matchers included, and compares other values deeply', () => {
    const gap = { policy: 'drop-oldest', dropped: 2, merged: 0, terminalPreserved: true };
    expect(() =>
      assertMarbles(
        parseMarble('-n|', { n: gap }),
        parseMarble('-n|', { n: notice({ dropped: 2 }) }),
      ),
    ).not.toThrow();
    expect(() => assertMarbles([{ a: 1 }], [{ a: 1 }])).not.toThrow();
    expect(() => assertMarbles([{ a: 1 }], [{ a: 2 }])).toThrow(
      'expected [{"a":2}]\n     got [{"a":1}]',
    );
  });

  it('types', () => {
    expectTypeOf(assertMarbles).toEqualTypeOf<(actual: unknown, expected: unknown) => void>();
    expectTypeOf(drawMarble).parameter(0).toExtend<readonly { frame: number }[]>();
  });
});
