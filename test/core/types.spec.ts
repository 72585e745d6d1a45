import { describe, expect, it } from 'vitest';
import { coalesce, QueueOverflowError } from '../../src/core/types.js';

/* The vocabulary's runtime parts: the overflow error and the coalesce policy builder. */

describe('QueueOverflowError', () => {
  const notice = {
    policy: 'error' as const,
    dropped: 1,
    merged: 0,
    first: 'x',
    last: 'x',
    terminalPreserved: true,
  };

  it('names the capacity when it is known', () => {
    const error = new QueueOverflowError(notice, 4);
    expect(error.message).toBe('Queue overflow: a value did not fit in a queue of capacity 4');
    expect(error.name).toBe('QueueOverflowError');
    expect(error.notice).toBe(notice);
    expect(error).toBeInstanceOf(Error);
  });

  it('says only that a value did not fit when the capacity is not known', () => {
    const error = new QueueOverflowError(notice);
    expect(error.message).toBe('Queue overflow: a value did not fit');
    expect(error.name).toBe('QueueOverflowError');
    expect(String(error)).toBe('QueueOverflowError: Queue overflow: a value did not fit');
  });
});

describe('coalesce', () => {
  const merge = (acc: number, next: number): number => acc + next;
  const key = (value: number): unknown => value % 2;

  it('builds a frozen policy holding its functions', () => {
    const policy = coalesce(merge, key);
    expect(policy).toStrictEqual({ kind: 'coalesce', merge, key, fallback: 'drop-progress' });
    expect(Object.isFrozen(policy)).toBe(true);
    const unkeyed = coalesce(merge);
    expect(unkeyed.kind).toBe('coalesce');
    expect(unkeyed.merge).toBe(merge);
    expect(unkeyed.key).toBeUndefined();
    expect(Object.isFrozen(unkeyed)).toBe(true);
  });

  it('requires merge, and refuses a key that is not a function', () => {
    expect(() => coalesce(undefined as never)).toThrow(
      new TypeError('coalesce: merge must be a function, got undefined'),
    );
    expect(() => coalesce(merge, 'id' as never)).toThrow(
      new TypeError('coalesce: key must be a function, got "id"'),
    );
    expect(() => coalesce(merge, undefined)).not.toThrow();
  });

  it("takes a fallback, 'drop-progress' by default, and refuses an unknown one", () => {
    for (const fallback of ['drop-progress', 'drop-oldest', 'drop-incoming', 'error'] as const) {
      expect(coalesce(merge, undefined, { fallback }).fallback).toBe(fallback);
    }
    expect(coalesce(merge, key, {}).fallback).toBe('drop-progress');
    expect(() => coalesce(merge, key, { fallback: 'backpressure' as never })).toThrow(
      new TypeError(
        `coalesce: fallback must be 'drop-progress', 'drop-oldest', 'drop-incoming' or 'error', got "backpressure"`,
      ),
    );
    expect(() => coalesce(merge, key, 'drop-oldest' as never)).toThrow(
      new TypeError('coalesce: options must be an object, got "drop-oldest"'),
    );
  });
});
