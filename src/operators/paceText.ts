import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import {
  checkFunction,
  checkObservableInput,
  checkOneOf,
  checkOptions,
  checkPositiveNumber,
  checkScheduler,
} from '../core/checks.js';
import { PaceBoard, type PaceItem } from '../core/PaceBoard.js';
import { TEXT_UNITS, type TextUnit } from '../core/textUnits.js';
import type { Classifier } from '../core/types.js';
import { DrainEngine, type DrainSink } from '../internal/DrainEngine.js';
import { NotifierTicks } from '../internal/NotifierTicks.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import { frames } from './frames.js';

/** The default of {@link PaceTextConfig.maxLag}: no text waits longer than 250 ms to be shown. */
export const DEFAULT_MAX_LAG = 250;

/** The options of {@link paceText}. */
export interface PaceTextConfig<T> {
  /**
   * Reads a value's text delta. A value whose text is `undefined` or `''` (a tool call, a usage
   * record) is not paced: it passes as is, right after the text that came before it in its lane.
   * Required. A throw, or an answer that is neither a string nor `undefined`, errors the stream
   * after the text already taken is shown.
   */
  text: (value: T) => string | undefined;
  /**
   * Builds the value that shows `chunk`: from the newest value the chunk's text comes from
   * (a chunk may join the text of several values). Required. A throw errors the stream at once.
   */
  withText: (value: T, chunk: string) => T;
  /**
   * Lanes: values with equal keys (SameValueZero) are paced together, each lane on its own (a
   * burst on one lane never slows another); their chunks are interleaved in the order the lanes
   * became busy. Called for every value. Default: one lane for all values.
   */
  key?: ((value: T) => unknown) | undefined;
  /**
   * A `'terminal'` value (a run's end) shows its lane's whole backlog at once, then passes as is.
   * Other classes change nothing. Default: no value is terminal.
   */
  classify?: Classifier<T> | undefined;
  /**
   * When each busy lane shows its next chunk: a number of ms on `scheduler`, or a notifier (each
   * emission is a tick; its completion shows every backlog at once; its error stops the source,
   * shows every backlog and errs, or errs at once when the source has completed already).
   * Default: `frames({ scheduler })`, one chunk per animation frame, every 16 ms where there are
   * none.
   */
  cadence?: number | ObservableInput<unknown> | undefined;
  /**
   * The longest a piece of text waits between arriving and being shown, in ms: when a lane's
   * backlog would take longer than that at one chunk per tick, the chunks grow. Text that comes
   * steadily is shown within about one tick; a burst after a pause is spread over up to `maxLag`.
   * A positive number (`Infinity`: no bound; then a chunk is one unit). Default: `250`
   * ({@link DEFAULT_MAX_LAG}).
   */
  maxLag?: number | undefined;
  /**
   * What a chunk is counted in and never cut inside: `'grapheme'` (a user-perceived character:
   * never half a surrogate pair or of an emoji), `'word'` (a word and the spaces after it) or
   * `'line'`. Units are counted within each value's text. Default: `'grapheme'`.
   */
  unit?: TextUnit | undefined;
  /** The clock of `maxLag` and the timer of a numeric `cadence`. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

const OWNER = 'paceText';

/**
 * Shows bursty text at a steady pace with a bound on lag: the operator for model output on a
 * screen. Providers deliver text in bursts; shown as they come they are jerky, and smoothed with a
 * fixed delay they fall behind. `paceText` shows each lane's text one chunk per tick (a frame, by
 * default), growing the chunks whenever the backlog would otherwise wait longer than `maxLag`.
 *
 * - Text arriving between two ticks is a burst. It is spread over the time since the lane's
 *   previous burst, at most `maxLag`: a steady stream is shown as it comes, a burst after a pause
 *   is spread over `maxLag`.
 * - The first text of a lane that showed nothing for a tick is shown at once.
 * - Chunks never cut a unit (`'grapheme'` by default: never half an emoji).
 * - Values without text pass as is, in order; a terminal value shows its lane's backlog at once.
 * - `complete` waits for every backlog to be shown (at most `maxLag`); `error` shows every backlog
 *   at once, then errs. Nothing is lost: the chunks of a lane spell exactly its text.
 *
 * ```text
 * cadence 100 ms, maxLag 250 ms; the text 'abcdef' arrives at once:
 * source:  a-------------------------------|        a = 'abcdef'
 * result:  x 99ms y 99ms (z|)                       x = 'ab', y = 'cd', z = 'ef'
 * ```
 *
 * A value pushed back into the source from inside a downstream `next` (re-entrance) is taken in at
 * once but emitted only after the items already due; unsubscribing stops everything at once.
 *
 * Every case of marbles/paceText.ts, drawn: docs/marbles/paceText.md in the repository.
 *
 * @example
 * ```ts
 * deltas$.pipe(
 *   paceText({
 *     text: (event) => (event.kind === 'model.delta' ? event.payload.text : undefined),
 *     withText: (event, chunk) => ({ ...event, payload: { ...event.payload, text: chunk } }),
 *     key: (event) => event.laneId,
 *     classify: classifyAgentEvent,
 *   }),
 * ).subscribe(appendToScreen);
 * ```
 *
 * @throws TypeError or RangeError at creation for bad options (naming the option and value).
 */
export function paceText<T>(options: PaceTextConfig<T>): MonoTypeOperatorFunction<T> {
  checkOptions(options, OWNER);
  const {
    text,
    withText,
    key,
    classify,
    cadence,
    maxLag = DEFAULT_MAX_LAG,
    unit = 'grapheme',
    scheduler = asyncScheduler,
  } = options;
  checkFunction(text, OWNER, 'text', true);
  checkFunction(withText, OWNER, 'withText', true);
  checkFunction(key, OWNER, 'key');
  checkFunction(classify, OWNER, 'classify');
  checkPositiveNumber(maxLag, OWNER, 'maxLag', true, ' of ms');
  checkOneOf(unit, OWNER, 'unit', TEXT_UNITS);
  checkScheduler(scheduler, OWNER);
  if (typeof cadence === 'number') {
    checkPositiveNumber(cadence, OWNER, 'cadence', false, ' of ms or an ObservableInput');
  } else {
    checkObservableInput(cadence, OWNER, 'cadence');
  }
  const settings: Settings<T> = {
    board: { text, key, classify, unit, maxLag, owner: OWNER },
    withText,
    scheduler,
    interval: typeof cadence === 'number' ? cadence : undefined,
    notifier: typeof cadence === 'number' ? undefined : (cadence ?? frames({ scheduler })),
  };
  return (source) =>
    new Observable<T>((subscriber) => {
      new Pacer(subscriber, settings).subscribeTo(source);
    });
}

/** The checked options, shared by every subscription. */
interface Settings<T> {
  readonly board: {
    text: (value: T) => string | undefined;
    key: ((value: T) => unknown) | undefined;
    classify: Classifier<T> | undefined;
    unit: TextUnit;
    maxLag: number;
    owner: string;
  };
  readonly withText: (value: T, chunk: string) => T;
  readonly scheduler: SchedulerLike;
  /** The ms of a timer cadence, or `undefined` under a notifier. */
  readonly interval: number | undefined;
  readonly notifier: ObservableInput<unknown> | undefined;
}

/** The ms between frames assumed until two ticks of a notifier tell the real cadence. */
const FRAME_MS = 16;

/**
 * One subscription: the pace board drained by the engine at once (unlimited credits), plus the
 * cadence (one timer for every lane, or the notifier), subscribed only while a lane is busy.
 */
class Pacer<T> implements DrainSink<PaceItem<T>, never> {
  private readonly board: PaceBoard<T>;
  private readonly engine: DrainEngine<PaceItem<T>, never>;
  private readonly source: OperatorSubscriber<T>;
  private readonly withText: (value: T, chunk: string) => T;
  private readonly interval: number | undefined;
  private readonly timer: ScheduledTask;
  private readonly ticks: NotifierTicks | undefined;

  constructor(
    private readonly subscriber: Subscriber<T>,
    settings: Settings<T>,
  ) {
    const { scheduler, interval } = settings;
    this.withText = settings.withText;
    this.interval = interval;
    this.ticks =
      settings.notifier === undefined
        ? undefined
        : new NotifierTicks(subscriber, settings.notifier, {
            tick: this.onTick,
            error: (error) => this.fail(error),
            end: this.onNotifierEnd,
          });
    this.timer = new ScheduledTask(scheduler, this.onTick);
    this.board = new PaceBoard<T>({
      ...settings.board,
      interval: interval ?? FRAME_MS,
      fixedInterval: interval !== undefined,
      clock: scheduler,
    });
    this.engine = new DrainEngine<PaceItem<T>, never>(this.board, this, {
      schedule: 'now',
      credits: Number.POSITIVE_INFINITY,
      stopSource: () => this.source.unsubscribe(),
      settled: () => !this.board.hasBacklog,
    });
    this.source = new OperatorSubscriber<T>(
      (value) => this.take(value),
      (error) => {
        this.board.flushAll();
        this.syncCadence();
        this.engine.error(error);
      },
      () => this.engine.complete(),
      (thrown) => this.fail(thrown),
    );
  }

  get closed(): boolean {
    return this.subscriber.closed;
  }

  deliver(item: PaceItem<T>): void {
    const { chunk } = item;
    this.subscriber.next(chunk === undefined ? item.value : this.withText(item.value, chunk));
  }

  reportGap(): void {}

  complete(): void {
    this.subscriber.complete();
  }

  error(error: unknown): void {
    this.subscriber.error(error);
  }

  subscribeTo(source: Observable<T>): void {
    this.subscriber.add(() => {
      this.engine.dispose();
      this.stopCadence();
    });
    subscribeWithin(this.subscriber, source, this.source);
  }

  /** A source value: into the board (a callback's throw reaches {@link fail}, by `source`). */
  private take(value: T): void {
    this.board.push(value);
    this.syncCadence();
    this.engine.request();
  }

  /**
   * A callback threw or the notifier erred: stop the source, show every backlog, then err (at
   * once when the source is done already: nothing of it is left to stop).
   */
  private fail(error: unknown): void {
    this.board.flushAll();
    this.syncCadence();
    if (this.engine.isSourceDone) this.engine.fail(error);
    else this.engine.stop(error);
  }

  /** Ticks while a lane is busy, and only then. */
  private syncCadence(): void {
    if (!this.board.hasBacklog) {
      this.stopCadence();
    } else if (this.interval !== undefined) {
      if (!this.timer.isPending && !this.subscriber.closed) this.timer.schedule(this.interval);
    } else {
      this.ticks?.start();
    }
  }

  private readonly onTick = (): void => {
    this.board.tick();
    this.syncCadence();
    this.engine.request();
  };

  /** The notifier completed: no tick will come, so every backlog is shown now. */
  private readonly onNotifierEnd = (): void => {
    this.board.flushAll();
    this.engine.request();
  };

  /** Cancels the timer and unsubscribes the notifier (state cleared before calling out). */
  private stopCadence(): void {
    this.timer.cancel();
    this.ticks?.stop();
  }
}
