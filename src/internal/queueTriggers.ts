import type { ObservableInput, Subscriber } from 'rxjs';
import { describe } from '../core/checks.js';
import type { DrainEngine } from './DrainEngine.js';
import { OperatorSubscriber, subscribeWithin } from './OperatorSubscriber.js';

/** What drives a queue's drain besides its scheduler: demand credits or flush ticks. */
export interface QueueTriggers {
  demand?: ObservableInput<number | void> | undefined;
  flushOn?: ObservableInput<unknown> | undefined;
}

/**
 * Subscribes a queue's `demand` (each emission grants credits) or `flushOn` (each emission
 * drains what is queued), inside `subscriber`: an error of either, or a bad grant, fails the
 * engine at once. `owner` names the operator in the error of a bad grant.
 */
export function subscribeTriggers(
  engine: DrainEngine<unknown, unknown>,
  subscriber: Subscriber<unknown>,
  triggers: QueueTriggers,
  owner: string,
): void {
  const fail = (error: unknown): void => engine.fail(error);
  const { demand, flushOn } = triggers;
  if (demand !== undefined) {
    const grants = new OperatorSubscriber<number | void>(
      (granted) => engine.grant(creditsOf(granted, owner)),
      fail,
      noop,
    );
    subscribeWithin(subscriber, demand, grants);
  } else if (flushOn !== undefined) {
    const ticks = new OperatorSubscriber<unknown>(() => engine.tick(), fail, noop);
    subscribeWithin(subscriber, flushOn, ticks);
  }
}

function noop(): void {}

const BAD_DEMAND = 'demand must emit a non-negative integer or nothing';

/** The credits one emission of `demand` grants; anything but a count is refused. */
export function creditsOf(granted: number | void, owner: string): number {
  if (granted === undefined) return 1;
  if (typeof granted !== 'number') {
    throw new TypeError(`${owner}: ${BAD_DEMAND}, got ${describe(granted)}`);
  }
  if (granted === Number.POSITIVE_INFINITY || (Number.isInteger(granted) && granted >= 0)) {
    return granted;
  }
  throw new RangeError(`${owner}: ${BAD_DEMAND}, got ${describe(granted)}`);
}
