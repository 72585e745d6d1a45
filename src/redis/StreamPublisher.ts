import type { Redis } from 'ioredis';
import { FRAME_ENCODING_VERSION } from './codec.js';
import { PUBLISH_SCRIPT } from './scripts.js';

/** The keys of one stream and its companions (see `RedisStreamArchiveConfig.stream`). */
export interface StreamKeys {
  stream: string;
  seq: string;
  lanes: string;
  producerPrefix: string;
}

/** The companion keys of a stream. */
export function streamKeys(stream: string): StreamKeys {
  return {
    stream,
    seq: `${stream}:seq`,
    lanes: `${stream}:lanes`,
    producerPrefix: `${stream}:producer:`,
  };
}

/** The outcome of one stamping: the seqs Redis assigned, and whether it was a retry's repeat. */
export interface Stamp {
  seq: number;
  laneSeq: number;
  repeated: boolean;
}

/**
 * Runs the publish script: assigns seq and laneSeq inside Redis and appends the entry, in one
 * atomic step. Each call carries this producer's id and a publish number, so retrying a number
 * returns the first outcome instead of appending twice.
 */
export class StreamPublisher {
  private sha: Promise<string> | undefined;
  private readonly producerKey: string;
  private readonly staticArguments: string[];

  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    producerId: string,
    trimArguments: string[],
    dedupeWindow: number,
    dedupeTtlMs: number,
  ) {
    this.producerKey = `${keys.producerPrefix}${producerId}`;
    const trim =
      trimArguments.length === 3 ? ['MAXLEN', trimArguments[1]!, trimArguments[2]!] : ['', '', ''];
    this.staticArguments = [
      FRAME_ENCODING_VERSION,
      ...trim,
      String(dedupeWindow),
      String(dedupeTtlMs),
    ];
  }

  /** Stamps and appends one entry. Rejects with the client's error when Redis fails. */
  async stamp(laneId: string, publishNumber: number, body: string): Promise<Stamp> {
    const keys = [this.keys.stream, this.keys.seq, this.keys.lanes, this.producerKey];
    const args = [laneId, String(publishNumber), body, ...this.staticArguments];
    let reply: unknown;
    try {
      this.sha ??= this.load();
      reply = await this.redis.evalsha(await this.sha, 4, ...keys, ...args);
    } catch (error) {
      // A restarted Redis has an empty script cache: EVAL sends the source and caches it again.
      if (!/NOSCRIPT/.test(String((error as Error)?.message))) {
        if (/Connection|ECONNREFUSED|writeable|closed/i.test(String((error as Error)?.message))) {
          this.sha = undefined;
        }
        throw error;
      }
      reply = await this.redis.eval(PUBLISH_SCRIPT, 4, ...keys, ...args);
    }
    const [seq, laneSeq, repeated] = reply as [number, number, number];
    return { seq, laneSeq, repeated: repeated === 1 };
  }

  private load(): Promise<string> {
    const loading = this.redis.script('LOAD', PUBLISH_SCRIPT) as Promise<string>;
    loading.catch(() => {
      if (this.sha === loading) this.sha = undefined;
    });
    return loading;
  }
}
