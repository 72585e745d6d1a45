import type { Redis } from 'ioredis';
import { FRAME_ENCODING_VERSION } from './codec.js';
import { publishScript } from './scripts.js';

/** The keys of one stream and its companions (see `RedisStreamArchiveConfig.stream`). */
export interface StreamKeys {
  stream: string;
  seq: string;
  lanes: string;
}

/** The companion keys of a stream. */
export function streamKeys(stream: string): StreamKeys {
  return {
    stream,
    seq: `${stream}:seq`,
    lanes: `${stream}:lanes`,
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
 * atomic step. Each entry carries its producer tag (producer id + publish number), so a retry
 * finds its first attempt instead of appending twice.
 */
export class StreamPublisher {
  private sha: Promise<string> | undefined;
  private readonly keys: string[];
  /** The script, with this stream's constants (encoding version, trimming, scan limit) in it. */
  readonly script: string;

  constructor(
    private readonly redis: Redis,
    keys: StreamKeys,
    trimArguments: readonly string[],
    retryScanLimit: number,
  ) {
    this.keys = [keys.stream, keys.seq, keys.lanes];
    this.script = publishScript(FRAME_ENCODING_VERSION, trimArguments, retryScanLimit);
  }

  /**
   * Stamps and appends one entry. `retryAfter`: on a retry, a seq known to be below the first
   * attempt's (the first attempt's entry, if any, is looked for after it). Rejects with the
   * client's error when Redis fails.
   */
  async stamp(laneKey: string, tag: string, body: string, retryAfter?: number): Promise<Stamp> {
    const args = [laneKey, tag, body, retryAfter === undefined ? '' : String(retryAfter)];
    let reply: unknown;
    try {
      this.sha ??= this.load();
      reply = await this.redis.evalsha(await this.sha, 3, ...this.keys, ...args);
    } catch (error) {
      // A restarted Redis has an empty script cache: EVAL sends the source and caches it again.
      if (!/NOSCRIPT/.test(String((error as Error)?.message))) {
        if ((error as Error)?.name !== 'ReplyError') this.sha = undefined;
        throw error;
      }
      reply = await this.redis.eval(this.script, 3, ...this.keys, ...args);
    }
    const [seq, laneSeq, repeated] = reply as [number, number, number];
    return { seq, laneSeq, repeated: repeated === 1 };
  }

  private load(): Promise<string> {
    const loading = this.redis.script('LOAD', this.script) as Promise<string>;
    loading.catch(() => {
      if (this.sha === loading) this.sha = undefined;
    });
    return loading;
  }
}
