/**
 * Redis could not take the event: the connection is down (publish fails at once), or `send`
 * retried until its timeout. Nothing was appended for this call, except where `outcomeUnknown`
 * says a reply was lost (see `RedisEventBus.publish`).
 */
export class RedisUnavailableError extends Error {
  /** The stream the event was meant for. */
  readonly stream: string;
  /** True when the request may have reached Redis before the connection dropped. */
  readonly outcomeUnknown: boolean;

  constructor(
    stream: string,
    detail: string,
    options?: { cause?: unknown; outcomeUnknown?: boolean },
  ) {
    super(`Redis stream "${stream}" is unavailable: ${detail}`, { cause: options?.cause });
    this.name = 'RedisUnavailableError';
    this.stream = stream;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/**
 * Another live bus holds this bus's `producerId` on the stream (two buses with one id would mix
 * up each other's retries). Give each bus its own id, or leave `producerId` out (one is
 * generated). A bus that ended without `close()` holds its id until its lease runs out.
 */
export class ProducerIdInUseError extends Error {
  /** The stream. */
  readonly stream: string;
  /** The producer id that is taken. */
  readonly producerId: string;

  constructor(stream: string, producerId: string) {
    super(
      `Redis stream "${stream}": producer id ${JSON.stringify(producerId)} is held by another live bus; give each bus its own producerId`,
    );
    this.name = 'ProducerIdInUseError';
    this.stream = stream;
    this.producerId = producerId;
  }
}

/**
 * The publish script's checks refused a call before writing anything (see publishScript):
 * `reason` is 'epoch', 'behind', 'lost', 'producer' or 'fenced'. Internal: the bus turns it into
 * an epoch change, a {@link ProducerIdInUseError}, or a retry.
 */
export class PublishRefusedError extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`rxjs-backpressure: the publish script refused the call (${reason} ${detail})`);
    this.name = 'PublishRefusedError';
  }
}
