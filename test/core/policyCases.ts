import { coalesce, type OverflowPolicy } from '../../src/core/types.js';

/** Every policy the property tests try: coalesce both without and with a key function. */
export const POLICY_CASES = [
  'drop-oldest',
  'drop-incoming',
  'drop-progress',
  'error',
  'coalesce',
  'coalesce-keyed',
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
  return name;
}
