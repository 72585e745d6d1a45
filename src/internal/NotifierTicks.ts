import type { ObservableInput, Subscriber } from 'rxjs';
import { OperatorSubscriber, subscribeWithin } from './OperatorSubscriber.js';

/** What a {@link NotifierTicks} calls. */
export interface TickHandlers {
  /** The notifier emitted. */
  readonly tick: () => void;
  /** The notifier errored (or `from` refused it). */
  readonly error: (error: unknown) => void;
  /** The notifier completed: no tick will come from this subscription. */
  readonly end: () => void;
}

/**
 * A notifier that an operator subscribes only while it has something for the ticks to do (a
 * backlog to pace, a window to close), within the operator's subscriber so that unsubscribing
 * downstream stops it too. Started again after it completed, it subscribes the notifier anew.
 */
export class NotifierTicks {
  private ticks: OperatorSubscriber<unknown> | undefined = undefined;

  constructor(
    private readonly owner: Subscriber<unknown>,
    private readonly notifier: ObservableInput<unknown>,
    private readonly handlers: TickHandlers,
  ) {}

  /** Whether the notifier is subscribed now. */
  get isActive(): boolean {
    return this.ticks !== undefined;
  }

  /** Subscribes the notifier unless it is subscribed already or the owner is closed. */
  start(): void {
    if (this.isActive || this.owner.closed) return;
    const { tick, error, end } = this.handlers;
    // Inactive before a terminal handler runs: the handler may start a fresh subscription.
    const release = (): void => {
      if (this.ticks === ticks) this.ticks = undefined;
    };
    const ticks = new OperatorSubscriber<unknown>(
      tick,
      (thrown) => {
        release();
        error(thrown);
      },
      () => {
        release();
        end();
      },
    );
    this.ticks = ticks;
    subscribeWithin(this.owner, this.notifier, ticks);
  }

  /** Unsubscribes the notifier (the reference is cleared before calling out). */
  stop(): void {
    const ticks = this.ticks;
    this.ticks = undefined;
    ticks?.unsubscribe();
  }
}
