/**
 * Gaps reported together: the one place where two overflow notices become one.
 *
 * @packageDocumentation
 */
import type { OverflowNotice } from './types.js';

/**
 * Two gaps reported as one (`older` happened first): the counts add up, the lost values and the
 * seq range span both (the first from the older gap, the last from the newer, each falling back
 * on the other gap when it has none), the policy is the newer gap's, and terminals count as
 * preserved only when both gaps preserved them.
 */
export function combineNotices<T>(
  older: OverflowNotice<T>,
  newer: OverflowNotice<T>,
): OverflowNotice<T> {
  const combined: OverflowNotice<T> = {
    policy: newer.policy,
    dropped: older.dropped + newer.dropped,
    merged: older.merged + newer.merged,
    terminalPreserved: older.terminalPreserved && newer.terminalPreserved,
  };
  const first = older.first ?? newer.first;
  const last = newer.last ?? older.last;
  const fromSeq = older.fromSeq ?? newer.fromSeq;
  const toSeq = newer.toSeq ?? older.toSeq;
  if (first !== undefined) combined.first = first;
  if (last !== undefined) combined.last = last;
  if (fromSeq !== undefined) combined.fromSeq = fromSeq;
  if (toSeq !== undefined) combined.toSeq = toSeq;
  return combined;
}
