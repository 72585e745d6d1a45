import type { EventClass } from '../src/core/types.js';

/**
 * The classifier every marble case uses for letters: an upper-case letter is terminal (it ends a
 * run), `p`, `q`, `r` and `s` are progress (think token deltas), any other value is normal.
 */
export function classifyLetter(value: unknown): EventClass {
  if (typeof value !== 'string') return 'normal';
  const head = value.charAt(0);
  if (head >= 'A' && head <= 'Z') return 'terminal';
  if (head >= 'p' && head <= 's') return 'progress';
  return 'normal';
}

/** The legend that goes with {@link classifyLetter}. */
export const LETTER_LEGEND =
  'Upper-case letters are terminal values, p q r s are progress values, other letters are normal.';

/** Merges progress strings by concatenation, as text deltas are. */
export const concatText = (acc: unknown, next: unknown): unknown => `${acc}${next}`;

/** Demand marbles: a digit grants that many credits, `i` grants Infinity, `v` grants one (void). */
export const CREDITS: Record<string, number | undefined> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  i: Number.POSITIVE_INFINITY,
  v: undefined,
};
