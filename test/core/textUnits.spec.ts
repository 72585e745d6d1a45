import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOneGraphemePerChar, TEXT_UNITS, unitEnds } from '../../src/core/textUnits.js';

/** The units of `text`, cut where {@link unitEnds} says. */
function units(text: string, unit: 'grapheme' | 'word' | 'line', fallback = false): string[] {
  const ends = fallback ? unitEnds(text, unit, null) : unitEnds(text, unit);
  return ends.map((end, index) => text.slice(index === 0 ? 0 : ends[index - 1], end));
}

describe('unitEnds', () => {
  it('lists the three units', () => {
    expect(TEXT_UNITS).toEqual(['grapheme', 'word', 'line']);
  });

  it.each([false, true])(
    'graphemes (fallback %s) never split a surrogate pair, an emoji sequence or a flag',
    (fallback) => {
      expect(units('a👍🏽b👨‍👩‍👧c🇫🇷é', 'grapheme', fallback)).toEqual([
        'a',
        '👍🏽',
        'b',
        '👨‍👩‍👧',
        'c',
        '🇫🇷',
        'é',
      ]);
      expect(units('😀😀', 'grapheme', fallback)).toEqual(['😀', '😀']);
    },
  );

  it("graphemes are the runtime's Intl.Segmenter's where it has one (the fallback is simpler)", () => {
    // A Hangul syllable written as two jamo: one grapheme for Intl.Segmenter, two for the fallback.
    expect(units('\u1100\u1161', 'grapheme')).toEqual(['\u1100\u1161']);
    expect(units('\u1100\u1161', 'grapheme', true)).toEqual(['\u1100', '\u1161']);
  });

  it('the fallback keeps spaces as units, and joins a zero-width joiner to what follows', () => {
    expect(units('a b', 'grapheme', true)).toEqual(['a', ' ', 'b']);
    expect(units('a\u200D b', 'grapheme', true)).toEqual(['a\u200D ', 'b']);
  });

  it('words keep the spaces after them; spaces that start the text are a unit', () => {
    expect(units('  one two\tthree  ', 'word')).toEqual(['  ', 'one ', 'two\t', 'three  ']);
  });

  it('lines keep their line break; the last line may have none', () => {
    expect(units('a\n\nb\nc', 'line')).toEqual(['a\n', '\n', 'b\n', 'c']);
  });

  it('empty text has no unit', () => {
    for (const unit of TEXT_UNITS) expect(unitEnds('', unit)).toEqual([]);
  });

  it('the units of any text spell it exactly, each non-empty (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom(...TEXT_UNITS),
        fc.boolean(),
        (text, unit, fallback) => {
          const parts = units(text, unit, fallback);
          expect(parts.join('')).toBe(text);
          for (const part of parts) expect(part.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('isOneGraphemePerChar', () => {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const graphemes = (text: string) => [...segmenter.segment(text)].length;

  it('is true of most text and false where characters may join', () => {
    expect(isOneGraphemePerChar('Hello, wörld! Привет мир. 你好 ¿qué?\n\t')).toBe(true);
    for (const text of ['a\r\n', 'e\u0301', '👍', 'a\u200Db', '한', '\u1100\u1161', 'ำ']) {
      expect(isOneGraphemePerChar(text), text).toBe(false);
    }
  });

  it('when it says so, Intl.Segmenter agrees: one grapheme per code unit (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 12 }),
          fc.string({ unit: 'grapheme', maxLength: 12 }),
          fc.string({
            unit: fc.integer({ min: 0, max: 0x2fff }).map((code) => String.fromCharCode(code)),
            maxLength: 12,
          }),
        ),
        (text) => {
          if (isOneGraphemePerChar(text)) expect(graphemes(text)).toBe(text.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isOneGraphemePerChar, over the whole BMP', () => {
  it('every BMP character it accepts stays one grapheme beside a letter and beside itself', () => {
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    // Every accepted character after a letter, twice, then a letter; segmented 256 at a time.
    const parts: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      if (isOneGraphemePerChar(char)) parts.push(`a${char}${char}`);
    }
    expect(parts.length).toBeGreaterThan(50_000);
    const wrong: string[] = [];
    for (let at = 0; at < parts.length; at += 256) {
      const text = `${parts.slice(at, at + 256).join('')}a`;
      let graphemes = 0;
      for (const _ of segmenter.segment(text)) graphemes++;
      if (graphemes !== text.length) wrong.push(text.slice(1, 2));
    }
    expect(wrong).toEqual([]);
  });
});
