import { asyncScheduler, Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import {
  checkNonNegative,
  checkOptions,
  checkPositiveInteger,
  checkScheduler,
  rangeError,
} from '../core/checks.js';
import { OperatorSubscriber, subscribeWithin } from '../internal/OperatorSubscriber.js';
import { ScheduledTask } from '../internal/ScheduledTask.js';
import type { DrainStats } from './drainStats.js';

/** The options of {@link autoscale}. */
export interface AutoscaleConfig {
  /** The lowest concurrency, and the first one emitted: a positive integer. Default: 1. */
  min?: number | undefined;
  /** The highest concurrency: a positive integer, at least `min`. Required. */
  max: number;
  /**
   * Adds a slot when at least this many values wait (`stats.waiting >= upAt`): a positive integer.
   * Default: 1 (any value waiting).
   */
  upAt?: number | undefined;
  /**
   * Removes a slot when at most this many values wait and a slot is idle
   * (`stats.waiting <= downAt` and `stats.inFlight < concurrency`): an integer from 0 to
   * `upAt - 1`. Default: 0.
   */
  downAt?: number | undefined;
  /**
   * Ms after a change during which no other change is made; when it ends, the latest stats are
   * looked at again (so a backlog that stays put keeps scaling). Default: 0.
   */
  cooldown?: number | undefined;
  /** The clock of the cooldown. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/**
 * A concurrency that follows the load: reads `drainWith`'s {@link DrainStats} and emits the
 * concurrency to feed back as its `concurrency`, one slot up or down at a time between `min` and
 * `max`. It emits `min` when subscribed, then each change: up one while `upAt` or more values
 * wait, down one while at most `downAt` wait and a slot is idle, never twice within `cooldown` ms.
 * It completes or errors with `stats$`.
 *
 * Wire the two with a Subject: `drainWith` reports into it, `autoscale` reads from it. Both live
 * for one subscription of the output (`drainWith` subscribes its `concurrency`, which subscribes
 * the Subject), so nothing leaks when the output ends.
 *
 * ```text
 * min 1, max 3, upAt 2, downAt 0, cooldown 2; stats as waiting/inFlight:
 * stats:  -a-b-c------d-e-|   a 2/1, b 3/1, c 4/2, d 0/1, e 0/1
 * result: 12-3--------2-1-|   b and e arrive in a cooldown: each is looked at when it ends
 * ```
 *
 * @example
 * ```ts
 * const stats$ = new Subject<DrainStats>();
 * jobs$
 *   .pipe(
 *     drainWith(runJob, {
 *       capacity: 10_000,
 *       overflow: 'error',
 *       concurrency: autoscale(stats$, { min: 1, max: 16, upAt: 20, cooldown: 1_000 }),
 *       stats: stats$,
 *     }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param stats$ - the stats of the `drainWith` to scale (its `stats` option, through a Subject).
 * @param options - the bounds, the thresholds and the cooldown.
 * @throws RangeError or TypeError at creation for bad options (naming the option and value).
 */
export function autoscale(
  stats$: ObservableInput<DrainStats>,
  options: AutoscaleConfig,
): Observable<number> {
  checkOptions(options, OWNER);
  const { min = 1, max, upAt = 1, downAt = 0, cooldown = 0, scheduler = asyncScheduler } = options;
  checkPositiveInteger(min, OWNER, 'min');
  checkPositiveInteger(max, OWNER, 'max');
  if (max < min) throw rangeError(OWNER, 'max', `at least min (${min})`, max);
  checkPositiveInteger(upAt, OWNER, 'upAt');
  if (!(Number.isInteger(downAt) && downAt >= 0 && downAt < upAt)) {
    throw rangeError(OWNER, 'downAt', `an integer from 0 to upAt - 1 (${upAt - 1})`, downAt);
  }
  checkNonNegative(cooldown, OWNER, 'cooldown', ' of ms');
  if (options.scheduler !== undefined) checkScheduler(scheduler, OWNER);

  return new Observable<number>((subscriber) => {
    let current = min;
    let latest: DrainStats | undefined;
    const look = (): void => {
      if (latest === undefined || cooling.isPending) return;
      const { waiting, inFlight } = latest;
      let next = current;
      if (waiting >= upAt) next = Math.min(max, current + 1);
      else if (waiting <= downAt && inFlight < current) next = Math.max(min, current - 1);
      if (next === current) return;
      current = next;
      if (cooldown > 0) cooling.schedule(cooldown);
      subscriber.next(next);
    };
    const cooling = new ScheduledTask(scheduler, look);
    subscriber.add(() => cooling.cancel());
    subscriber.next(min);
    subscribeWithin(
      subscriber,
      stats$,
      new OperatorSubscriber<DrainStats>(
        (stats) => {
          latest = stats;
          look();
        },
        (error) => subscriber.error(error),
        () => subscriber.complete(),
      ),
    );
  });
}

const OWNER = 'autoscale';
