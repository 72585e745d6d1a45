import { type MonoTypeOperatorFunction, Observable } from 'rxjs';
import { checkFunction } from '../core/checks.js';
import { type Classifier, describe } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

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
 * The source is unsubscribed before the terminal value is delivered, so a value pushed back into
 * the source while the consumer handles the terminal is never emitted after it. A `classify` that
 * throws, or answers anything but `'terminal'`, `'progress'` or `'normal'`, errors the stream
 * (and unsubscribes from the source).
 *
 * Every case of marbles/takeThroughTerminal.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/takeThroughTerminal.md in the repository.
 *
 * @example
 * ```ts
 * // One run's events, ending with its run.finished / run.error / run.cancelled.
 * bus.select({ runId }).pipe(takeThroughTerminal(classifyAgentEvent)).subscribe(render);
 * ```
 *
 * The operator keeps the source's value type, even with a classifier typed more loosely
 * (`(event: { kind: string }) => EventClass`).
 *
 * @throws TypeError at creation when `classify` is not a function.
 */
export function takeThroughTerminal<T>(
  classify: Classifier<NoInfer<T>>,
): MonoTypeOperatorFunction<T>;
export function takeThroughTerminal<T>(classify: Classifier<T>): MonoTypeOperatorFunction<T>;
export function takeThroughTerminal<T>(classify: Classifier<T>): MonoTypeOperatorFunction<T> {
  checkFunction(classify, 'takeThroughTerminal', 'classify', true);
  return (source) =>
    new Observable<T>((subscriber) => {
      const sourceSubscriber = new OperatorSubscriber<T>(
        (value) => {
          let valueClass: unknown;
          try {
            valueClass = classify(value);
            if (valueClass !== 'terminal' && valueClass !== 'progress' && valueClass !== 'normal') {
              throw new TypeError(
                `takeThroughTerminal: classify must return 'terminal', 'progress' or 'normal', got ${describe(valueClass)}`,
              );
            }
          } catch (error) {
            sourceSubscriber.unsubscribe();
            subscriber.error(error);
            return;
          }
          if (valueClass !== 'terminal') {
            subscriber.next(value);
            return;
          }
          sourceSubscriber.unsubscribe();
          subscriber.next(value);
          subscriber.complete();
        },
        (error) => subscriber.error(error),
        () => subscriber.complete(),
      );
      // Added before subscribing, so that an unsubscribe during a synchronous source stops it.
      subscriber.add(sourceSubscriber);
      if (!subscriber.closed) source.subscribe(sourceSubscriber);
    });
}
