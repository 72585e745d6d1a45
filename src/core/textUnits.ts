/**
 * Where text may be cut: the ends of its units (graphemes, words or lines), so that a chunk of
 * paced text never splits a surrogate pair, an emoji, a word or a line. No RxJS.
 *
 * @packageDocumentation
 */

/** What a chunk of text is counted in. */
export type TextUnit = 'grapheme' | 'word' | 'line';

/** The text units, for option checks. */
export const TEXT_UNITS: readonly TextUnit[] = ['grapheme', 'word', 'line'];

/** What the grapheme split uses of `Intl.Segmenter`. */
export interface GraphemeSegmenter {
  segment(text: string): Iterable<{ index: number }>;
}

/** `Intl.Segmenter` where the runtime has it (every current browser, Node 16+). */
// Stryker disable all: the runtime the tests run on has it; the fallback is tested on its own
const segmenter: GraphemeSegmenter | null =
  typeof Intl === 'object' && typeof Intl.Segmenter === 'function'
    ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
    : null;
// Stryker restore all

/**
 * Without `Intl.Segmenter`: a code point with what joins it (combining marks, variation
 * selectors, emoji modifiers, a zero-width joiner and the code point after it), or a pair of
 * regional indicators (a flag).
 */
const GRAPHEME_FALLBACK =
  /\p{RI}\p{RI}|[\s\S](?:\p{M}|\u{FE0E}|\u{FE0F}|[\u{1F3FB}-\u{1F3FF}]|[\u{E0020}-\u{E007F}]|\u200D[\s\S])*/gu;

/**
 * Characters that may join a neighbour into one grapheme: CR (of CR LF), combining and spacing
 * marks, format characters (zero-width joiners, prepended marks), Hangul jamo and syllables, the
 * few spacing marks outside the mark categories, and everything beyond the BMP (emoji, flags,
 * modifiers, tags). Text without any of them has one grapheme per UTF-16 code unit.
 */
const MAY_JOIN =
  /[\r\p{M}\p{Cf}\u1100-\u11FF\uA960-\uA97F\uAC00-\uD7FF\u0D4E\u0E33\u0EB3\uFF9E\uFF9F\u{10000}-\u{10FFFF}]/u;

/**
 * Whether each UTF-16 code unit of `text` is a grapheme of its own (most text of most languages):
 * then its units need no split.
 */
export function isOneGraphemePerChar(text: string): boolean {
  return !MAY_JOIN.test(text);
}

/** A word with the spaces after it, or the spaces that start the text. */
// Stryker disable next-line Regex: spaces after a word are taken with it, so only leading ones remain
const WORD = /^\s+|\S+\s*/g;

/** A line with its line break, or the last line without one. */
const LINE = /[^\n]*\n|[^\n]+/g;

/**
 * The end offset (in UTF-16 code units) of each unit of `text`, in order; the last is
 * `text.length`. Empty for empty text. `graphemes` is the runtime's `Intl.Segmenter` when it has one
 * (`null`: the regular-expression fallback).
 */
export function unitEnds(
  text: string,
  unit: TextUnit,
  graphemes: GraphemeSegmenter | null = segmenter,
): number[] {
  const ends: number[] = [];
  if (text.length === 0) return ends;
  if (unit === 'grapheme' && graphemes !== null) {
    let first = true;
    for (const { index } of graphemes.segment(text)) {
      // Each segment starts where the previous ends.
      if (first) first = false;
      else ends.push(index);
    }
    ends.push(text.length);
    return ends;
  }
  const pattern = unit === 'grapheme' ? GRAPHEME_FALLBACK : unit === 'word' ? WORD : LINE;
  // Stryker disable next-line all: every loop below runs until exec returns null, which resets
  // lastIndex; the reset only guards against a loop left early
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    ends.push(match.index + match[0].length);
  }
  return ends;
}
