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
