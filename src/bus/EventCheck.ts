import { describe, typeError } from '../core/checks.js';
import { InvalidEventError } from './errors.js';
import type { AgentEvent } from './types.js';
import { checkEvent, isWellFormedEvent } from './validators.js';

/**
 * The checks every event passes before it is stamped: its shape (naming the field at fault) and
 * the bus's `validate` option, counting the refusals. Shared by every bus (in memory, Redis).
 *
 * @internal
 */
export class EventCheck<P> {
  /** Events refused so far. */
  rejected = 0;

  constructor(private readonly validate: ((event: AgentEvent<P>) => void) | undefined) {}

  /** @throws InvalidEventError for an event that is refused. */
  check(event: AgentEvent<P>): void {
    // The common case answers with a few type tests, and stays small enough to be inlined into
    // publish; the checks that build errors run out of line.
    if (this.validate !== undefined || !isWellFormedEvent(event)) this.checkFully(event);
  }

  /** Checks every event of a batch; the error of the first bad one names its index. */
  checkAll(events: readonly AgentEvent<P>[], owner: string): void {
    if (!Array.isArray(events)) {
      throw typeError(owner, 'events', 'an array', events);
    }
    for (let i = 0; i < events.length; i++) {
      try {
        this.check(events[i] as AgentEvent<P>);
      } catch (error) {
        throw EventCheck.atIndex(error, i);
      }
    }
  }

  /** An event's refusal as the refusal of the `i`th event of a batch (other errors as they are). */
  static atIndex(error: unknown, i: number): unknown {
    if (!(error instanceof InvalidEventError)) return error;
    return new InvalidEventError(
      `events[${i}].${error.field}`,
      `events[${i}]: ${error.message.replace(/^Invalid event: /, '')}`,
      { cause: error },
    );
  }

  /** The checks that throw, naming the field, and `validate`. */
  private checkFully(event: AgentEvent<P>): void {
    try {
      checkEvent(event);
      if (this.validate !== undefined) {
        try {
          this.validate(event);
        } catch (error) {
          if (error instanceof InvalidEventError) throw error;
          throw new InvalidEventError(
            'event',
            `refused by validate: ${error instanceof Error ? error.message : describe(error)}`,
            { cause: error },
          );
        }
      }
    } catch (error) {
      this.rejected++;
      throw error;
    }
  }
}
