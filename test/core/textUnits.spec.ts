import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEXT_UNITS, unitEnds } from '../../src/core/textUnits.js';

/** The units of `text`, cut where {@link unitEnds} says. */
function units(text: string, unit: 'grapheme' | 'word' | 'line', fallback = false): string[] {
  const ends = fallback ? unitEnds(text, unit, undefined) : unitEnds(text, unit);
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
