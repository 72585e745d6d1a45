import type { AgentEvent } from './types.js';

/**
 * Thrown by `publish` (and rejected by `send`) for an event the bus refuses: not an object, a
 * missing or empty `kind`, a non-string or empty id, an unknown visibility, or whatever the
 * `validate` option refuses. The bus is unchanged: no seq is used, no subscriber sees it.
 */
export class InvalidEventError extends Error {
  /** The field at fault, e.g. `'kind'`, `'runId'`, `'payload.reasoning'`, or `'event'`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`Invalid event: ${message}`, options);
    this.name = 'InvalidEventError';
    this.field = field;
  }
}

/** Thrown by `publish` and `send` after `close()`; pending sends reject with it at close. */
export class BusClosedError extends Error {
  constructor() {
    super('The event bus is closed: it accepts no new events');
    this.name = 'BusClosedError';
  }
}

/**
 * Thrown by `publish` when a `'backpressure'` subscriber that matches the event has no room. The
 * event was not published (no seq was used); `send` waits for room instead.
 */
export class BackpressureError extends Error {
  /** The event that was refused. */
  readonly event: AgentEvent<unknown>;
  /** The ids (as in `metrics().subscribers`) of the full subscribers. */
  readonly subscribers: readonly number[];

  constructor(event: AgentEvent<unknown>, subscribers: readonly number[]) {
    super(
      `Backpressure: subscriber${subscribers.length === 1 ? '' : 's'} ${subscribers.join(', ')} ha${
        subscribers.length === 1 ? 's' : 've'
      } no room for a ${JSON.stringify(event.kind)} event; use send() to wait for room`,
    );
    this.name = 'BackpressureError';
    this.event = event;
    this.subscribers = subscribers;
  }
}

/**
 * A cursor from another log: `select({ after, epoch })` names an epoch that is not the bus's
 * (another in-memory bus, or a Redis stream that lost data and started anew). Its seqs mean
 * nothing here, so nothing is delivered: resume from a snapshot of the new epoch, or from 0.
 */
export class EpochChangedError extends Error {
  /** The epoch the cursor came from. */
  readonly expected: string;
  /** The bus's epoch now. */
  readonly actual: string;
  /** The cursor (`after`) that was given, when one was. */
  readonly after: number | undefined;

  constructor(expected: string, actual: string, after?: number) {
    super(
      `Epoch changed: the cursor${after === undefined ? '' : ` after ${after}`} belongs to epoch ${JSON.stringify(
        expected,
      )}, but the bus is at epoch ${JSON.stringify(actual)}; its seqs do not apply here`,
    );
    this.name = 'EpochChangedError';
    this.expected = expected;
    this.actual = actual;
    this.after = after;
  }
}
