import { describe } from './checks.js';

/**
 * The error of a handler attempt that did not settle within its `timeout` (`drainWith`'s
 * `timeout` option): its work was cancelled, and the attempt counts as failed, to be retried or
 * dead-lettered like any other failure.
 */
export class HandlerTimeoutError<T = unknown> extends Error {
  /** The value whose attempt timed out. */
  readonly value: T;
  /** Which attempt it was (1 for the first). */
  readonly attempt: number;
  /** The timeout, in ms. */
  readonly timeout: number;

  constructor(owner: string, value: T, attempt: number, timeout: number) {
    super(
      `${owner}: the handler did not settle within ${timeout} ms (attempt ${attempt} on ${describe(value)})`,
    );
    this.name = 'HandlerTimeoutError';
    this.value = value;
    this.attempt = attempt;
    this.timeout = timeout;
  }
}
