import type { ObservableInput, Subscriber } from 'rxjs';
import { describe } from '../core/checks.js';
import type { DrainEngine } from './DrainEngine.js';
import { OperatorSubscriber, subscribeWithin } from './OperatorSubscriber.js';

/** What drives a queue's drain besides its scheduler: demand credits or flush ticks. */
export interface QueueTriggers {
  demand?: ObservableInput<number | void> | undefined;
  flushOn?: ObservableInput<unknown> | undefined;
}

/** What the triggers drive: a drain engine, or a relay standing in for one not made yet. */
export type TriggerTarget = Pick<DrainEngine<unknown, unknown>, 'grant' | 'tick' | 'fail'>;

/**
 * Stands in for an engine that is made later (a bus subscriber whose cursor is still being
 * reached): grants, ticks and a failure that come meanwhile are kept, not lost, and handed to the
 * engine when it is attached; from then on everything goes straight to it.
 */
export class TriggerRelay implements TriggerTarget {
  private target: TriggerTarget | undefined = undefined;
  private credits = 0;
  private ticks = 0;
  private failed = false;
  private failure: unknown = undefined;

  grant(credits: number): void {
    if (this.target !== undefined) this.target.grant(credits);
    else this.credits += credits;
  }

  tick(): void {
    if (this.target !== undefined) this.target.tick();
    else this.ticks++;
  }

  fail(error: unknown): void {
    if (this.target !== undefined) this.target.fail(error);
    else if (!this.failed) {
      this.failed = true;
      this.failure = error;
    }
  }

  /** Hands over what came meanwhile (state reset first: the engine may call back). */
  attach(target: TriggerTarget): void {
    const { credits, ticks, failed, failure } = this;
    this.target = target;
    this.credits = this.ticks = 0;
    this.failure = undefined;
    if (failed) {
      target.fail(failure);
      return;
    }
    if (credits > 0) target.grant(credits);
    for (let i = 0; i < ticks; i++) target.tick();
  }
}

/**
 * Subscribes a queue's `demand` (each emission grants credits) or `flushOn` (each emission
 * drains what is queued), inside `subscriber`: an error of either, or a bad grant, fails the
 * engine at once. `owner` names the operator in the error of a bad grant.
 */
export function subscribeTriggers(
  engine: TriggerTarget,
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
