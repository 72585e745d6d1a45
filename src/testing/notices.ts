/**
 * Overflow notices as marble values: `withNotices` puts a pipeline's notices into its stream, at
 * the frame each was reported, and `notice` matches them by the fields a test cares about.
 */
import { from, Observable, type ObservableInput } from 'rxjs';
import type { OverflowNotice } from '../core/types.js';
import { type AsymmetricMatcher, deepEqual, show } from './equality.js';

/** The notices `withNotices` put into a stream, told apart from values that look like them. */
const reported = new WeakSet<object>();

/** Whether `item`, taken from a stream made by {@link withNotices}, is a notice (not a value). */
export function isNotice<T>(item: T | OverflowNotice<T>): item is OverflowNotice<T> {
  return typeof item === 'object' && item !== null && reported.has(item);
}

/** A frame of the bus, as far as notices go: its seq, and the gap reported on it. */
interface FrameLike {
  seq: number;
  overflow?: unknown;
}

function isFrameWithNotice(value: unknown): value is FrameLike & { overflow: object } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FrameLike).seq === 'number' &&
    typeof (value as FrameLike).overflow === 'object' &&
    (value as FrameLike).overflow !== null
  );
}

/**
 * A pipeline's values and its overflow notices as one stream: each notice is emitted at the
 * frame it was reported, just before the value it precedes, so an expected marble shows a gap as
 * a group: `(nc)` is notice `n` then value `c`. {@link isNotice} tells the two apart.
 *
 * Give either a function that builds the pipeline around the `onOverflow` it receives (for
 * `boundedQueue`, `drainWith`, `toAsyncIterable`, ...; it is called once per subscription), or a
 * stream of bus frames, whose notices ride on their `overflow` field.
 *
 * ```text
 * boundedQueue({ capacity: 1, overflow: 'drop-oldest', demand }):
 * source:  -a-b-c-----|
 * demand:  1------2
 * result:  -a-----(nc)|      n = notice({ dropped: 1, first: 'b' }): b was evicted by c
 * ```
 *
 * @example
 * ```ts
 * const noticed$ = withNotices((onOverflow) =>
 *   of(1, 2, 3).pipe(boundedQueue({ capacity: 1, overflow: 'drop-oldest', onOverflow })),
 * );
 * ```
 */
export function withNotices<T>(
  pipeline:
    | ((onOverflow: (notice: OverflowNotice<T>) => void) => ObservableInput<T>)
    | Observable<T>,
): Observable<T | OverflowNotice<T>> {
  return new Observable<T | OverflowNotice<T>>((subscriber) => {
    if (typeof pipeline === 'function') {
      const onOverflow = (notice: OverflowNotice<T>): void => {
        reported.add(notice);
        subscriber.next(notice);
      };
      return from(pipeline(onOverflow)).subscribe(subscriber);
    }
    return pipeline.subscribe({
      next: (value) => {
        if (isFrameWithNotice(value)) {
          reported.add(value.overflow);
          subscriber.next(value.overflow as OverflowNotice<T>);
        }
        subscriber.next(value);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
  });
}

/** The fields of a notice a test may state; every field left out matches anything. */
export type NoticeFields<T> = Partial<OverflowNotice<T>>;

/** What {@link notice} returns: matches any notice with the given fields. */
export interface NoticeMatcher<T = unknown> extends AsymmetricMatcher {
  /** The fields a matching notice must have. */
  readonly fields: NoticeFields<T>;
  /** `notice({...})`, as failure messages print it. */
  toString(): string;
}

const MATCHER_TAG = Symbol.for('jest.asymmetricMatcher');

/**
 * A partial matcher for an expected notice: `notice({ dropped: 2 })` matches every notice that
 * dropped two values, whatever its other fields. Use it as a value of an expected marble; the
 * kit's `createTestScheduler`, vitest's and jest's `toEqual` all understand it.
 *
 * @example
 * ```ts fragment
 * const expected = { n: notice({ policy: 'drop-oldest', dropped: 2 }), c: 'c' };
 * ```
 */
export function notice<T = unknown>(fields: NoticeFields<T> = {}): NoticeMatcher<T> {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  return {
    $$typeof: MATCHER_TAG,
    fields,
    asymmetricMatch(actual: unknown): boolean {
      if (typeof actual !== 'object' || actual === null) return false;
      const candidate = actual as Record<string, unknown>;
      if (typeof candidate.dropped !== 'number' || typeof candidate.merged !== 'number') {
        return false;
      }
      return entries.every(([key, value]) => deepEqual(candidate[key], value));
    },
    toString: () => `notice(${show(Object.fromEntries(entries))})`,
    toAsymmetricMatcher: () => `notice(${show(Object.fromEntries(entries))})`,
  } as NoticeMatcher<T>;
}
