/**
 * The comparison the kit's expectations use: deep equality that honours asymmetric matchers (an
 * object with an `asymmetricMatch` method, as `notice()` returns and as vitest's and jest's
 * `expect.objectContaining` are), and a short printer for failure messages.
 */

/** An object that decides by itself whether a value matches it. */
export interface AsymmetricMatcher {
  asymmetricMatch(actual: unknown): boolean;
}

/** The error every failed expectation of the kit throws, with a message a person can act on. */
export class ExpectationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpectationError';
  }
}

/** Whether `value` is an asymmetric matcher. */
export function isMatcher(value: unknown): value is AsymmetricMatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function'
  );
}

/**
 * Deep equality as `toEqual` reads it: matchers decide for themselves, arrays and plain objects
 * compare member by member (a property holding `undefined` is as good as an absent one), errors
 * by name and message, everything else by `Object.is`.
 */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (isMatcher(expected)) return expected.asymmetricMatch(actual);
  if (isMatcher(actual)) return actual.asymmetricMatch(expected);
  if (Object.is(actual, expected)) return true;
  if (typeof actual !== 'object' || typeof expected !== 'object') return false;
  if (actual === null || expected === null) return false;
  if (actual instanceof Error || expected instanceof Error) {
    return (
      actual instanceof Error &&
      expected instanceof Error &&
      actual.name === expected.name &&
      actual.message === expected.message
    );
  }
  if (Array.isArray(actual) !== Array.isArray(expected)) return false;
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return (
      actual.length === expected.length &&
      actual.every((item, index) => deepEqual(item, expected[index]))
    );
  }
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
  for (const key of keys) {
    if (!deepEqual(a[key], e[key])) return false;
  }
  return true;
}

/** A value printed on one line for a failure message (long values are cut). */
export function show(value: unknown): string {
  let text: string;
  if (isMatcher(value)) text = String(value);
  else if (value instanceof Error) text = `${value.name}: ${value.message}`;
  else if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`;
  else if (typeof value === 'object' && value !== null) {
    try {
      text = JSON.stringify(value, (_key, item: unknown) =>
        item === undefined
          ? undefined
          : isMatcher(item)
            ? String(item)
            : typeof item === 'number' && !Number.isFinite(item)
              ? String(item)
              : item,
      );
    } catch {
      text = Object.prototype.toString.call(value);
    }
  } else text = String(value);
  // An error's message is what a person acts on: never cut.
  if (value instanceof Error) return text;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
