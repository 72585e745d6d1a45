/**
 * A consumer fell further behind than its `maxLag` allows and was let go. It carries the cursor
 * to resume from: everything after it is still to be read (from the log, by a new subscription
 * with `after`), so a client that reconnects with it loses nothing the log still holds.
 */
export class SlowConsumerError extends Error {
  /** The resume cursor as text (`epoch:seq`), or `undefined` when nothing had been delivered. */
  readonly cursor: string | undefined;
  /** Values that had arrived and not been delivered when the consumer was let go. */
  readonly lagFrames: number;
  /** How long, in ms, the consumer had been unable to take anything. */
  readonly lagMs: number;

  constructor(cursor: string | undefined, lagFrames: number, lagMs: number) {
    super(
      `Slow consumer: ${lagFrames} value${lagFrames === 1 ? '' : 's'} behind for ${lagMs} ms; ${
        cursor === undefined ? 'resume from the start' : `resume after ${cursor}`
      }`,
    );
    this.name = 'SlowConsumerError';
    this.cursor = cursor;
    this.lagFrames = lagFrames;
    this.lagMs = lagMs;
  }
}
