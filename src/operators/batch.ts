import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import {
  checkFunction,
  checkNonNegative,
  checkOptions,
  checkPositiveInteger,
  checkScheduler,
} from '../core/checks.js';
import { type Classifier, describe } from '../core/types.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';

/** The options of {@link batch}. */
export interface BatchConfig<T> {
  /** A batch is emitted as soon as it holds this many values: a positive integer. No default. */
  maxSize: number;
  /**
   * Milliseconds (on `scheduler`) from a batch's first value until the batch is emitted, however
   * few values it holds: a non-negative number, or `Infinity` to close batches only by size,
   * terminal value or completion. No default: the latency bound is always stated.
   */
  maxWait: number;
  /**
   * A terminal value (by this classifier) closes the batch it joins: the batch is emitted at once,
   * the terminal value last in it. A throw, or an answer other than the three classes, errors the
   * stream after the values already batched. Default: no value closes a batch.
   */
  classify?: Classifier<T> | undefined;
  /** Where `maxWait` is measured. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Collects values into arrays: a batch is emitted when it holds `maxSize` values, when `maxWait`
 * ms have passed since its first value, when a terminal value (by `classify`) joins it, or when
 * the source completes. Nothing is emitted while the source is idle: never an empty array.
 *
 * ```text
 * maxSize 3, maxWait 5 (one dash is 1 ms); T terminal:
 * source:  -a-b-c-d------e-T--|
 * result:  -----x------y---z--|      x = [a, b, c] (size), y = [d] (maxWait), z = [e, T] (terminal)
 * ```
 *
 * An error of the source is delivered after the batch pending at that moment, so no value
 * accepted before it is lost. The batch being emitted is detached first: a value the consumer
 * pushes back into the source while receiving a batch starts the next one. Unsubscribing drops
 * the pending batch and cancels its timer.
 *
 * Every case of marbles/batch.ts, drawn: docs/marbles/batch.md in the repository.
 *
 * @example
 * ```ts
 * // Write rows in batches of at most 500, at most 200 ms after the first row of a batch.
 * rows$.pipe(batch({ maxSize: 500, maxWait: 200 }), concatMap((rows) => db.insert(rows)));
 * ```
 *
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function batch<T>(config: BatchConfig<NoInfer<T>>): OperatorFunction<T, T[]>;
export function batch<T>(config: BatchConfig<T>): OperatorFunction<T, T[]>;
export function batch<T>(config: BatchConfig<T>): OperatorFunction<T, T[]> {
  checkOptions(config, OWNER);
  const { maxSize, maxWait, classify, scheduler = asyncScheduler } = config;
  checkPositiveInteger(maxSize, OWNER, 'maxSize');
  checkNonNegative(maxWait, OWNER, 'maxWait', ' of ms');
  checkFunction(classify, OWNER, 'classify');
  checkScheduler(scheduler, OWNER);
  const timed = maxWait !== Number.POSITIVE_INFINITY;

  return (source) =>
    new Observable<T[]>((subscriber) => {
      let pending: T[] = [];
      const emit = (): void => {
        timer.cancel();
        if (pending.length === 0) return;
        // Detached before it goes out: a value pushed back meanwhile starts the next batch.
        const full = pending;
        pending = [];
        subscriber.next(full);
      };
      const timer = new ScheduledTask(scheduler, emit);
      const fail = (error: unknown): void => {
        sourceSubscriber.unsubscribe();
        emit();
        subscriber.error(error);
      };
      const sourceSubscriber = new OperatorSubscriber<T>(
        (value) => {
          const closes = classify !== undefined && isTerminal(classify(value));
          pending.push(value);
          if (closes || pending.length >= maxSize) emit();
          else if (timed && pending.length === 1) timer.schedule(maxWait);
        },
        fail,
        () => {
          emit();
          subscriber.complete();
        },
      );
      subscriber.add(() => {
        timer.cancel();
        pending = [];
      });
      subscribeWithin(subscriber, source, sourceSubscriber);
    });
}

const OWNER = 'batch';

/** Whether a classifier's answer is `'terminal'`; anything but the three classes is refused. */
function isTerminal(answer: unknown): boolean {
  if (answer === 'terminal') return true;
  if (answer === 'progress' || answer === 'normal') return false;
  throw new TypeError(
    `${OWNER}: classify must return 'terminal', 'progress' or 'normal', got ${describe(answer)}`,
  );
}
