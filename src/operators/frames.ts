import { asyncScheduler, Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { checkOptions, checkPositiveNumber, checkScheduler } from '../core/checks.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';

/** The options of {@link frames}. */
export interface FramesConfig {
  /**
   * Milliseconds between ticks where there are no animation frames (Node, server rendering,
   * tests, workers): a timer on `scheduler`. A positive number. Default: `16` (about 60 a second).
   */
  interval?: number | undefined;
  /**
   * Where there are animation frames: the longest time without a tick. When no frame came for
   * `maxWait` ms (the page is hidden, so the browser stopped calling `requestAnimationFrame`), a
   * tick is emitted anyway, and again every `maxWait` ms until frames resume; while the document
   * says it is hidden (`visibilitychange`), the ticks come every `maxWait` ms on `scheduler`
   * without waiting for a frame that will not come. A positive number (`Infinity`: never).
   * Default: `100`.
   */
  maxWait?: number | undefined;
  /**
   * The clock of the ticks' values and the timers of `interval` and `maxWait`.
   * Default: `asyncScheduler`.
   */
  scheduler?: SchedulerLike | undefined;
}

/** The shape of `requestAnimationFrame` / `cancelAnimationFrame` as read from the global scope. */
interface FrameHost {
  requestAnimationFrame?: (callback: (time: number) => void) => number;
  cancelAnimationFrame?: (handle: number) => void;
  document?: {
    visibilityState?: string;
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
}

const OWNER = 'frames';

/**
 * A frame notifier that works everywhere: animation frames in a browser, a timer where there are
 * none, and a fallback when frames stop. Each tick emits the time on `scheduler`.
 *
 * - Where `requestAnimationFrame` exists (read at subscription), one tick per animation frame;
 *   when no frame comes for `maxWait` ms (a hidden tab, where browsers stop animation frames), a
 *   tick comes anyway, every `maxWait` ms, until frames resume. While `document.visibilityState`
 *   is `'hidden'` the ticks come every `maxWait` ms straight away.
 * - Elsewhere (Node, server rendering, vitest, web workers without frames), a tick every
 *   `interval` ms on `scheduler`, so `frames()` is testable with marbles.
 *
 * Use it wherever a window or a cadence wants "once per frame": as `summarizeProgress`' window,
 * `boundedQueue`'s `flushOn`, or `paceText`'s cadence (its default). Unlike RxJS's
 * `animationFrames()`, it neither fails outside a browser nor stalls in a hidden tab.
 *
 * ```text
 * without animation frames, interval 16 (time in ms):
 * result:  16ms t 15ms t 15ms t ...     t = the scheduler's now() at each tick
 * ```
 *
 * @example
 * ```ts
 * events$.pipe(
 *   summarizeProgress({
 *     classify: classifyAgentEvent,
 *     key: agentEventKey,
 *     merge: mergeAgentProgress,
 *     window: frames(), // once per frame, also in Node and in a hidden tab
 *   }),
 * );
 * ```
 *
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function frames(options: FramesConfig = {}): Observable<number> {
  checkOptions(options, OWNER);
  const { interval = 16, maxWait = 100, scheduler = asyncScheduler } = options;
  checkPositiveNumber(interval, OWNER, 'interval', false, ' of ms');
  checkPositiveNumber(maxWait, OWNER, 'maxWait', true, ' of ms');
  checkScheduler(scheduler, OWNER);
  return new Observable<number>((subscriber) => {
    const host = globalThis as FrameHost;
    if (
      typeof host.requestAnimationFrame !== 'function' ||
      typeof host.cancelAnimationFrame !== 'function'
    ) {
      return timerTicks(subscriber, scheduler, interval);
    }
    return frameTicks(subscriber, scheduler, maxWait, host);
  });
}

/** A tick every `interval` ms on `scheduler`. */
function timerTicks(
  subscriber: Subscriber<number>,
  scheduler: SchedulerLike,
  interval: number,
): () => void {
  const task: ScheduledTask = new ScheduledTask(scheduler, () => {
    task.schedule(interval);
    subscriber.next(scheduler.now());
  });
  task.schedule(interval);
  return () => task.cancel();
}

/**
 * A tick per animation frame, with the `maxWait` watchdog: one timer, re-armed for what is left
 * of `maxWait` when a frame came meanwhile (never re-armed per frame). `requestAnimationFrame` is
 * looked up at each frame, so that a page (or a test) replacing it is followed.
 */
function frameTicks(
  subscriber: Subscriber<number>,
  scheduler: SchedulerLike,
  maxWait: number,
  host: FrameHost,
): () => void {
  // Called as a method of the global scope, as browsers require.
  const request = (callback: (time: number) => void): number | undefined =>
    host.requestAnimationFrame?.(callback);
  const { document } = host;
  let lastTick = scheduler.now();
  let handle: number | undefined;
  const isHidden = () => document?.visibilityState === 'hidden';
  const tick = () => {
    lastTick = scheduler.now();
    subscriber.next(lastTick);
  };
  const onFrame = () => {
    handle = undefined;
    if (subscriber.closed) return;
    handle = request(onFrame);
    tick();
  };
  const watchdog = new ScheduledTask(scheduler, () => {
    const waited = scheduler.now() - lastTick;
    if (isHidden() || waited >= maxWait) {
      watchdog.schedule(maxWait);
      tick();
    } else {
      watchdog.schedule(maxWait - waited);
    }
  });
  const onVisibility = () => {
    // Hidden: tick at once if a tick is overdue and keep ticking by the timer; visible again: the
    // watchdog goes back to waiting for frames.
    if (isHidden() && scheduler.now() - lastTick >= maxWait) {
      watchdog.cancel();
      watchdog.schedule(0);
    }
  };
  handle = request(onFrame);
  if (maxWait !== Number.POSITIVE_INFINITY) {
    watchdog.schedule(maxWait);
    document?.addEventListener?.call(document, 'visibilitychange', onVisibility);
  }
  return () => {
    watchdog.cancel();
    if (handle !== undefined) host.cancelAnimationFrame?.(handle);
    handle = undefined;
    document?.removeEventListener?.call(document, 'visibilitychange', onVisibility);
  };
}
