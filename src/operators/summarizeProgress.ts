import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import {
  checkBoolean,
  checkFunction,
  checkNonNegative,
  checkObservableInput,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
} from '../core/checks.js';
import { SummaryBoard } from '../core/SummaryBoard.js';
import type { Classifier } from '../core/types.js';
import { DrainEngine } from '../internal/DrainEngine.js';
import { NotifierTicks } from '../internal/NotifierTicks.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import { SubscriberSink } from '../internal/SubscriberSink.js';

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
   * - an `ObservableInput` (such as `frames()`): subscribed when something becomes
   *   pending while nothing was; its first emission (or completion) flushes every pending
   *   summary, and it is unsubscribed as soon as nothing is pending. An error of the notifier
   *   errors the stream after the pending summaries are emitted.
   *
   * Default: `0`, a window that closes in the next task on `scheduler`: synchronous bursts are
   * merged, nothing is held beyond that.
   */
  window?: number | ObservableInput<unknown> | undefined;
  /**
   * The first progress value of a key with no window open is emitted at once and opens the key's
   * window; the values after it are merged and emitted when the window closes, after which the
   * next value is emitted at once again. So the first token shows without waiting for a frame,
   * and the rest once per frame. Default: `false`.
   */
  leading?: boolean | undefined;
  /**
   * The longest a window stays open, in ms on `scheduler`, counted from the key's first pending
   * value: a notifier window that does not fire (animation frames in a hidden tab) is closed by
   * this time anyway. A positive number or `Infinity`. Default: `Infinity`.
   */
  maxWait?: number | undefined;
  /**
   * A summary never stands for more than this many values: the value that makes the count
   * reach `maxMerged` flushes it at once. A positive integer or `Infinity`. Default: `Infinity`.
   */
  maxMerged?: number | undefined;
  /**
   * The scheduler of numeric windows (its clock and its timers). `undefined` means the default;
   * anything else that is not a `SchedulerLike` (`null` included) is refused at creation.
   * Default: `asyncScheduler`.
   */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Merges floods of progress values (token deltas, usage ticks) into one summary per key and
 * emits each summary when its window closes, so a slow consumer sees a bounded rate without
 * losing anything: every merged value is emitted, inside a summary.
 *
 * Progress values (by `classify`) of one `key` are folded with `merge` into one pending summary;
 * other values pass straight through. A key's pending summary is emitted:
 *
 * - when its window closes: `window` ms after the key's first pending value on `scheduler`, or
 *   at the notifier's next emission (which flushes every key), or `maxWait` ms after the key's
 *   first pending value when the notifier has not fired by then;
 * - just before a non-progress value of the same key (or `scope`) is emitted;
 * - when `maxMerged` values were folded into it;
 * - on `complete` (all pending, in the order their first value arrived), then `complete`;
 * - before `error`, whether from the source, a notifier or a throwing callback.
 *
 * With `leading`, the first progress value of a key with no window open is emitted at once and
 * opens the window: the first token shows without waiting for a frame.
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
 * A value pushed back into the source from inside a downstream `next` (re-entrance) is taken in at
 * once but emitted only after every value already due, so it never overtakes the values around
 * it; unsubscribing from inside a `next` (a `take` below) stops the emissions at once.
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
 *     window: frames(), // at most one summary per key and frame
 *   }),
 * ).subscribe(paint);
 * ```
 *
 * @throws TypeError or RangeError at creation for bad options (naming the option and value).
 */
export function summarizeProgress<T>(
  options: SummarizeProgressConfig<T>,
): MonoTypeOperatorFunction<T> {
  checkOptions(options, OWNER);
  const {
    classify,
    merge,
    key,
    scope,
    window = 0,
    maxMerged = Number.POSITIVE_INFINITY,
    leading = false,
    maxWait = Number.POSITIVE_INFINITY,
    scheduler = asyncScheduler,
  } = options;
  checkFunction(classify, OWNER, 'classify', true);
  checkFunction(merge, OWNER, 'merge', true);
  checkFunction(key, OWNER, 'key');
  checkFunction(scope, OWNER, 'scope');
  checkPositiveInteger(maxMerged, OWNER, 'maxMerged', true);
  checkBoolean(leading, OWNER, 'leading');
  checkPositiveNumber(maxWait, OWNER, 'maxWait', true, ' of ms');
  checkScheduler(scheduler, OWNER);
  if (typeof window === 'number') {
    checkNonNegative(window, OWNER, 'window', ' of ms or an ObservableInput');
  } else {
    checkObservableInput(window, OWNER, 'window', true);
  }
  const settings: Settings<T> = {
    classify,
    merge,
    key,
    scope,
    maxMerged,
    leading,
    windowMs: Math.min(typeof window === 'number' ? window : Number.POSITIVE_INFINITY, maxWait),
    notifier: typeof window === 'number' ? undefined : window,
    scheduler,
  };
  return (source) =>
    new Observable<T>((subscriber) => {
      new Summarizer(subscriber, settings).subscribeTo(source);
    });
}

const OWNER = 'summarizeProgress';

/** The checked options, shared by every subscription. */
interface Settings<T> {
  readonly classify: Classifier<T>;
  readonly merge: (acc: T, next: T) => T;
  readonly key: ((value: T) => unknown) | undefined;
  readonly scope: ((value: T) => unknown) | undefined;
  readonly maxMerged: number;
  readonly leading: boolean;
  /** When a key's window closes by time (`maxWait` under a notifier); `Infinity`: never. */
  readonly windowMs: number;
  readonly notifier: ObservableInput<unknown> | undefined;
  readonly scheduler: SchedulerLike;
}

/**
 * One subscription: the summary board drained by the engine at once (unlimited credits), plus
 * what closes windows (one timer for all keys, or the notifier) and the end of the stream.
 *
 * The engine is never re-entered: a value pushed from inside a downstream `next` goes into the
 * board and the running drain picks it up, after the items already ready.
 */
class Summarizer<T> {
  private readonly board: SummaryBoard<T>;
  private readonly engine: DrainEngine<T, never>;
  private readonly source: OperatorSubscriber<T>;
  private readonly scheduler: SchedulerLike;
  private readonly timed: boolean;
  /** One timer for every key: the oldest pending summary's deadline is always the first. */
  private readonly timer: ScheduledTask;
  /** The deadline the armed timer is for (a scheduler may run it a little early). */
  private timerDue = 0;
  private readonly ticks: NotifierTicks | undefined;

  constructor(
    private readonly subscriber: Subscriber<T>,
    settings: Settings<T>,
  ) {
    const { scheduler, windowMs, notifier } = settings;
    this.scheduler = scheduler;
    this.timer = new ScheduledTask(scheduler, () => this.onTimer());
    this.timed = windowMs !== Number.POSITIVE_INFINITY;
    this.ticks =
      notifier === undefined
        ? undefined
        : new NotifierTicks(subscriber, notifier, {
            tick: this.onTick,
            error: (error) => this.fail(error),
            end: this.onTick,
          });
    this.board = new SummaryBoard<T>({
      classify: settings.classify,
      merge: settings.merge,
      key: settings.key,
      scope: settings.scope,
      maxMerged: settings.maxMerged,
      leading: settings.leading,
      window: windowMs,
      clock: scheduler,
      owner: OWNER,
    });
    this.engine = new DrainEngine<T, never>(
      this.board,
      new SubscriberSink<T, never>(subscriber, undefined),
      {
        schedule: 'now',
        credits: Number.POSITIVE_INFINITY,
        stopSource: () => this.source.unsubscribe(),
      },
    );
    this.source = new OperatorSubscriber<T>(
      (value) => this.take(value),
      (error) => {
        this.releaseAll();
        this.engine.error(error);
      },
      () => {
        this.releaseAll();
        this.engine.complete();
      },
      (thrown) => this.fail(thrown),
    );
  }

  subscribeTo(source: Observable<T>): void {
    this.subscriber.add(() => {
      this.engine.dispose();
      this.closeWindow();
    });
    subscribeWithin(this.subscriber, source, this.source);
  }

  /** A source value: into the board (a callback's throw reaches {@link fail}, by `source`). */
  private take(value: T): void {
    this.board.push(value);
    this.syncWindow();
    if (!this.board.isEmpty) this.engine.request();
  }

  /**
   * A callback threw or the notifier errored: stop the source, then emit every pending summary
   * and the error after them.
   */
  private fail(error: unknown): void {
    if (this.engine.isSourceDone) return;
    this.releaseAll();
    this.engine.stop(error);
  }

  /** Every pending summary is due (a notifier tick, the end of the stream): the window closes. */
  private releaseAll(): void {
    this.board.flushAll();
    this.closeWindow();
  }

  /** Opens the window when something became pending, closes it when nothing is. */
  private syncWindow(): void {
    if (!this.board.hasPending) {
      if (this.timer.isPending || this.ticks?.isActive) this.closeWindow();
      return;
    }
    if (this.timed && !this.timer.isPending) this.armTimer();
    this.ticks?.start();
  }

  private armTimer(): void {
    if (this.subscriber.closed) return;
    this.timerDue = this.board.firstDeadline;
    this.timer.schedule(Math.max(0, this.timerDue - this.scheduler.now()));
  }

  private onTimer(): void {
    this.board.closeDue(Math.max(this.timerDue, this.scheduler.now()));
    this.syncWindow();
    if (!this.board.isEmpty) this.engine.request();
  }

  /** The notifier emitted or completed: every pending summary is due. */
  private readonly onTick = (): void => {
    this.releaseAll();
    if (!this.board.isEmpty) this.engine.request();
  };

  /** Cancels the timer and unsubscribes the notifier (state cleared before calling out). */
  private closeWindow(): void {
    this.timer.cancel();
    this.ticks?.stop();
  }
}
