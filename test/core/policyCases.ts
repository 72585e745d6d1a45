import { coalesce, type OverflowPolicy } from '../../src/core/types.js';

/**
 * Every policy the property tests try: coalesce both without and with a key function, and with
 * each fallback other than the default.
 */
export const POLICY_CASES = [
  'drop-oldest',
  'drop-incoming',
  'drop-progress',
  'error',
  'coalesce',
  'coalesce-keyed',
  'coalesce-drop-oldest',
  'coalesce-keyed-drop-incoming',
  'coalesce-error',
] as const;

export type PolicyCase = (typeof POLICY_CASES)[number];

/** The policy a case names, coalescing with `merge` (and `key` for `'coalesce-keyed'`). */
export function policyOfCase<T>(
  name: PolicyCase,
  merge: (acc: T, next: T) => T,
  key: (value: T) => unknown,
): OverflowPolicy<T> {
  if (name === 'coalesce') return coalesce(merge);
  if (name === 'coalesce-keyed') return coalesce(merge, key);
  if (name === 'coalesce-drop-oldest')
    return coalesce(merge, undefined, { fallback: 'drop-oldest' });
  if (name === 'coalesce-keyed-drop-incoming') {
    return coalesce(merge, key, { fallback: 'drop-incoming' });
  }
  if (name === 'coalesce-error') return coalesce(merge, undefined, { fallback: 'error' });
  return name;
}

/** Whether a case needs a classifier (queues refuse drop-progress and coalesce without one). */
export function needsClassifier(name: PolicyCase): boolean {
  return name === 'drop-progress' || name.startsWith('coalesce');
}
