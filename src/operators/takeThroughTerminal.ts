import { type MonoTypeOperatorFunction, takeWhile } from 'rxjs';
import { type Classifier, describe } from '../queue/types.js';

/**
 * Emits values up to and including the first terminal value (by `classify`), then completes and
 * unsubscribes from the source. Progress and normal values pass through untouched; a source that
 * completes or errors before any terminal value completes or errors the result the same way.
 *
 * ```text
 * a, b normal; p progress; T terminal:
 * source:  -a-p-b-T-c-|
 * result:  -a-p-b-(T|)
 * ```
 *
 * A `classify` that throws, or answers anything but `'terminal'`, `'progress'` or `'normal'`,
 * errors the stream (and unsubscribes from the source).
 *
 * @example
 * ```ts
 * // One run's events, ending with its run.finished / run.error / run.cancelled.
 * bus.select({ runId }).pipe(takeThroughTerminal(classifyAgentEvent)).subscribe(render);
 * ```
 *
 * @throws TypeError at creation when `classify` is not a function.
 */
export function takeThroughTerminal<T>(classify: Classifier<T>): MonoTypeOperatorFunction<T> {
  if (typeof classify !== 'function') {
    throw new TypeError(
      `takeThroughTerminal: classify must be a function, got ${describe(classify)}`,
    );
  }
  return takeWhile((value: T) => {
    const valueClass: unknown = classify(value);
    if (valueClass === 'terminal') return false;
    if (valueClass === 'progress' || valueClass === 'normal') return true;
    throw new TypeError(
      `takeThroughTerminal: classify must return 'terminal', 'progress' or 'normal', got ${describe(valueClass)}`,
    );
  }, true);
}
