import {
  asyncScheduler,
  from,
  type MonoTypeOperatorFunction,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { type Classifier, describe } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

/**
 * The options of {@link summarizeProgress}.
 */
export interface SummarizeProgressConfig<T> {
  /**
   * Tells progress values (merged) from the others (passed through). Required. A throw, or an
   * answer other than `'terminal'`, `'progress'` or `'normal'`, errors the stream (after the
   * pending summaries are emitted).
   */
  classify: Classifier<T>;
  /**
   * Folds a progress value (`next`) into the pending summary of its key (`acc`) and returns the
   * new summary. Required. A throw errors the stream after the pending summaries are emitted;
   * the value being merged is then lost.
   */
  merge: (acc: T, next: T) => T;
  /**
   * Only progress values with equal keys (SameValueZero) are merged, e.g. run + lane + kind
   * (`agentEventKey`). Called for every value. Default: one key for all values.
   */
  key?: ((value: T) => unknown) | undefined;
  /**
   * Which pending summaries a non-progress value flushes before itself: those whose first
   * value's scope equals the non-progress value's scope, e.g. the run (`agentEventScope`), so
   * that `run.finished` follows every delta of its run. Called for every value. Default: the
   * `key`, so a non-progress value flushes the summary of its own key only.
   */
  scope?: ((value: T) => unknown) | undefined;
  /**
   * When a pending summary is emitted at the latest:
   *
   * - a number: milliseconds on `scheduler`, counted from the key's first pending value (each
   *   key has its own window); `Infinity` means no time window;
   * - an `ObservableInput` (such as `animationFrames()`): subscribed when something becomes
   *   pending while nothing was; its first emission (or completion) flushes every pending
   *   summary, and it is unsubscribed as soon as nothing is pending. An error of the notifier
   *   errors the stream after the pending summaries are emitted.
   *
   * Default: `0`, a window that closes in the next task on `scheduler`: synchronous bursts are
   * merged, nothing is held beyond that.
   */
  window?: number | ObservableInput<unknown> | undefined;
  /**
   * A summary never stands for more than this many values: the value that makes the count
   * reach `maxMerged` flushes it at once. A positive integer or `Infinity`. Default: `Infinity`.
   */
  maxMerged?: number | undefined;
  /** The scheduler of numeric windows. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/** One key's pending summary. */
interface Pending<T> {
  readonly key: unknown;
  value: T;
  /** Values folded into `value`. */
  count: number;
  /** When the key's window closes, on the scheduler's clock. */
  readonly deadline: number;
  /** The scope list this entry is linked into (only when a `scope` function is given). */
  scope: ScopeList<T> | undefined;
  prevInScope: Pending<T> | undefined;
  nextInScope: Pending<T> | undefined;
}

/** The pending entries of one scope, oldest first: an intrusive doubly linked list. */
interface ScopeList<T> {
  readonly scope: unknown;
  head: Pending<T> | undefined;
  tail: Pending<T> | undefined;
}

const ONE_KEY: unique symbol = Symbol('summarizeProgress.oneKey');

/**
 * Merges floods of progress values (token deltas, usage ticks) into one summary per key and
 * emits each summary when its window closes, so a slow consumer sees a bounded rate without
 * losing anything: every merged value is emitted, inside a summary.
 *
 * Progress values (by `classify`) of one `key` are folded with `merge` into one pending summary;
 * other values pass straight through. A key's pending summary is emitted:
 *
 * - when its window closes: `window` ms after the key's first pending value on `scheduler`, or
 *   at the notifier's next emission (which flushes every key);
 * - just before a non-progress value of the same key (or `scope`) is emitted;
 * - when `maxMerged` values were folded into it;
 * - on `complete` (all pending, in the order their first value arrived), then `complete`;
 * - before `error`, whether from the source, a notifier or a throwing callback.
 *
 * Within a key the order is exactly the input order; across keys no value waits for another
 * key's window. Pending state is one entry per key with pending progress, and no timer runs
 * while nothing is pending.
 *
 * ```text
 * window 4 (frames); p, q, r progress and a normal, all of one key; merge concatenates:
 * source:  -p-q-----r-a---|
 * result:  -----x-----(ra)|     x = pq at 5 (first value at 1, + 4); a flushes r just before it
 * ```
 *
 * A value pushed back into the source from inside a downstream `next` (re-entrance) is handled
 * after the current emission is complete, so it never overtakes the values around it.
 *
 * Every case of marbles/summarizeProgress.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/summarizeProgress.md in the repository.
 *
 * @example
 * ```ts
 * events$.pipe(
 *   summarizeProgress({
 *     classify: classifyAgentEvent,
 *     key: agentEventKey,
 *     scope: agentEventScope,
 *     merge: mergeAgentProgress,
 *     window: animationFrames(), // at most one summary per key and frame
 *   }),
 * ).subscribe(paint);
 * ```
 *
 * @throws TypeError or RangeError at creation for bad options (naming the option and value).
 */
export function summarizeProgress<T>(
  options: SummarizeProgressConfig<T>,
): MonoTypeOperatorFunction<T> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`summarizeProgress: options must be an object, got ${describe(options)}`);
  }
  const { classify, merge, key, scope, window = 0, maxMerged = Number.POSITIVE_INFINITY } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof classify !== 'function') {
    throw new TypeError(
      `summarizeProgress: classify must be a function, got ${describe(classify)}`,
    );
  }
  if (typeof merge !== 'function') {
    throw new TypeError(`summarizeProgress: merge must be a function, got ${describe(merge)}`);
  }
  if (key !== undefined && typeof key !== 'function') {
    throw new TypeError(
      `summarizeProgress: key must be a function when given, got ${describe(key)}`,
    );
  }
  if (scope !== undefined && typeof scope !== 'function') {
    throw new TypeError(
      `summarizeProgress: scope must be a function when given, got ${describe(scope)}`,
    );
  }
  if (
    typeof maxMerged !== 'number' ||
    !(maxMerged === Number.POSITIVE_INFINITY || (Number.isInteger(maxMerged) && maxMerged >= 1))
  ) {
    throw new RangeError(
      `summarizeProgress: maxMerged must be a positive integer or Infinity, got ${describe(maxMerged)}`,
    );
  }
  if (
    scheduler === null ||
    typeof scheduler !== 'object' ||
    typeof scheduler.schedule !== 'function' ||
    typeof scheduler.now !== 'function'
  ) {
    throw new TypeError(
      `summarizeProgress: scheduler must be a SchedulerLike, got ${describe(scheduler)}`,
    );
  }
  let windowMs = Number.POSITIVE_INFINITY;
  let notifier: Observable<unknown> | undefined;
  if (typeof window === 'number') {
    if (Number.isNaN(window) || window < 0) {
      throw new RangeError(
        `summarizeProgress: window must be a non-negative number of ms or an ObservableInput, got ${describe(window)}`,
      );
    }
    windowMs = window;
  } else {
    try {
      notifier = from(window);
    } catch {
      throw new TypeError(
        `summarizeProgress: window must be a non-negative number of ms or an ObservableInput, got ${describe(window)}`,
      );
    }
  }
  const timed = notifier === undefined && windowMs !== Number.POSITIVE_INFINITY;

  return (source) =>
    new Observable<T>((subscriber) => {
      // Insertion order is the order of each key's first pending value: the flush order on
      // complete, and (windows all having one length) the order in which windows close.
      const pending = new Map<unknown, Pending<T>>();
      const scopes = scope === undefined ? undefined : new Map<unknown, ScopeList<T>>();
      let timer: Subscription | undefined;
      let timerDue = 0;
      let notifierSubscriber: OperatorSubscriber<unknown> | undefined;
      let stopped = false;
      // Re-entrance: work that arrives while a notification is being handled waits here.
      let busy = false;
      let inbox: Array<() => void> | undefined;

      const drainInbox = (): void => {
        if (inbox === undefined) return;
        for (let index = 0; index < inbox.length && !subscriber.closed; index++) {
          inbox[index]!();
        }
        inbox = undefined;
      };

      const run = (work: () => void): void => {
        if (busy) {
          if (inbox === undefined) inbox = [];
          inbox.push(work);
          return;
        }
        busy = true;
        try {
          work();
          drainInbox();
        } finally {
          busy = false;
          inbox = undefined;
        }
      };

      const stopTimers = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        const notifierSubscription = notifierSubscriber;
        notifierSubscriber = undefined;
        notifierSubscription?.unsubscribe();
      };

      /** Emits one pending summary and forgets its key. */
      const emit = (entry: Pending<T>): void => {
        pending.delete(entry.key);
        const list = entry.scope;
        if (list !== undefined) {
          if (entry.prevInScope === undefined) list.head = entry.nextInScope;
          else entry.prevInScope.nextInScope = entry.nextInScope;
          if (entry.nextInScope === undefined) list.tail = entry.prevInScope;
          else entry.nextInScope.prevInScope = entry.prevInScope;
          if (list.head === undefined) scopes!.delete(list.scope);
        }
        if (pending.size === 0) stopTimers();
        subscriber.next(entry.value);
      };

      const flushAll = (): void => {
        for (const entry of pending.values()) {
          if (subscriber.closed) return;
          emit(entry);
        }
      };

      /** Ends the stream: stop taking values, emit everything pending, then `end`. */
      const finish = (end: () => void): void => {
        if (stopped) return;
        stopped = true;
        sourceSubscriber.unsubscribe();
        flushAll();
        stopTimers();
        if (!subscriber.closed) end();
      };
      const fail = (error: unknown): void => finish(() => subscriber.error(error));

      const onTimer = (): void => {
        timer = undefined;
        run(() => {
          const threshold = Math.max(timerDue, scheduler.now());
          for (const entry of pending.values()) {
            if (entry.deadline > threshold || subscriber.closed) break;
            emit(entry);
          }
          startTimer();
        });
      };

      function startTimer(): void {
        if (timer !== undefined || subscriber.closed) return;
        const head = pending.values().next();
        if (head.done) return;
        timerDue = head.value.deadline;
        timer = scheduler.schedule(onTimer, Math.max(0, timerDue - scheduler.now()));
      }

      const onTick = (): void => run(flushAll);

      const startNotifier = (): void => {
        if (notifierSubscriber !== undefined || subscriber.closed) return;
        const notifierSubscription = new OperatorSubscriber<unknown>(
          onTick,
          (error) => run(() => fail(error)),
          onTick,
        );
        notifierSubscriber = notifierSubscription;
        subscriber.add(notifierSubscription);
        notifier!.subscribe(notifierSubscription);
      };

      const onValue = (value: T): void => {
        if (stopped) return;
        let valueClass: unknown;
        let valueKey: unknown = ONE_KEY;
        try {
          valueClass = classify(value);
          // With a scope, a non-progress value is matched by its scope: its key is not needed.
          if (key !== undefined && (valueClass === 'progress' || scopes === undefined)) {
            valueKey = key(value);
          }
        } catch (error) {
          fail(error);
          return;
        }
        if (valueClass === 'progress') {
          const entry = pending.get(valueKey);
          if (entry !== undefined) {
            try {
              entry.value = merge(entry.value, value);
            } catch (error) {
              fail(error);
              return;
            }
            entry.count++;
            if (entry.count >= maxMerged) emit(entry);
            return;
          }
          let list: ScopeList<T> | undefined;
          if (scopes !== undefined) {
            let valueScope: unknown;
            try {
              valueScope = scope!(value);
            } catch (error) {
              fail(error);
              return;
            }
            list = scopes.get(valueScope);
            if (list === undefined) {
              list = { scope: valueScope, head: undefined, tail: undefined };
              scopes.set(valueScope, list);
            }
          }
          const created: Pending<T> = {
            key: valueKey,
            value,
            count: 1,
            deadline: timed ? scheduler.now() + windowMs : 0,
            scope: list,
            prevInScope: list?.tail,
            nextInScope: undefined,
          };
          if (list !== undefined) {
            if (list.tail === undefined) list.head = created;
            else list.tail.nextInScope = created;
            list.tail = created;
          }
          pending.set(valueKey, created);
          if (maxMerged === 1) emit(created);
          else if (pending.size === 1) {
            if (timed) startTimer();
            else if (notifier !== undefined) startNotifier();
          }
          return;
        }
        if (valueClass !== 'terminal' && valueClass !== 'normal') {
          fail(
            new TypeError(
              `summarizeProgress: classify must return 'terminal', 'progress' or 'normal', got ${describe(valueClass)}`,
            ),
          );
          return;
        }
        if (pending.size > 0) {
          if (scopes === undefined) {
            const entry = pending.get(valueKey);
            if (entry !== undefined) emit(entry);
          } else {
            let valueScope: unknown;
            try {
              valueScope = scope!(value);
            } catch (error) {
              fail(error);
              return;
            }
            const list = scopes.get(valueScope);
            while (list?.head !== undefined && !subscriber.closed) emit(list.head);
          }
        }
        subscriber.next(value);
      };

      const sourceSubscriber = new OperatorSubscriber<T>(
        (value) => {
          // The per-value path: no closure unless the value arrives re-entrantly.
          if (busy) {
            run(() => onValue(value));
            return;
          }
          busy = true;
          try {
            onValue(value);
            drainInbox();
          } finally {
            busy = false;
            inbox = undefined;
          }
        },
        (error) => run(() => fail(error)),
        () => run(() => finish(() => subscriber.complete())),
      );
      // Added before subscribing, so that an unsubscribe during a synchronous source stops it.
      subscriber.add(sourceSubscriber);
      if (!subscriber.closed) source.subscribe(sourceSubscriber);

      return () => {
        stopped = true;
        stopTimers();
        pending.clear();
        scopes?.clear();
        inbox = undefined;
      };
    });
}
