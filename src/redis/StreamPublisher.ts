import type { Redis } from 'ioredis';
import { FRAME_ENCODING_VERSION } from './codec.js';
import { destroySocket, withTimeout } from './config.js';
import { PublishRefusedError } from './errors.js';
import { LuaScript } from './luaScript.js';
import { publishScript } from './scripts.js';

/** The keys of one stream and its companions (see `RedisStreamArchiveConfig.stream`). */
export interface StreamKeys {
  stream: string;
  seq: string;
  lanes: string;
  epoch: string;
  /** The fence of one producer id (see publishScript). */
  producer: string;
}

/** The companion keys of a stream; `producerId`: the publishing bus's. */
export function streamKeys(stream: string, producerId = ''): StreamKeys {
  return {
    stream,
    seq: `${stream}:seq`,
    lanes: `${stream}:lanes`,
    epoch: `${stream}:epoch`,
    producer: `${stream}:producer:${producerId}`,
  };
}

/** What a bus adds to its publisher: the checks of each call, and a deadline on it. */
export interface PublisherGuard {
  /** The epoch the bus is in ('' skips the epoch checks). */
  epoch(): string;
  /** The highest seq the bus knows the stream held. */
  known(): number;
  /** The bus's token for its producer id ('' skips the fence). */
  owner: string;
  /** The producer id's lease, in ms. */
  leaseMs: number;
  /** Milliseconds a call may wait for its reply before the connection is replaced (0: no limit). */
  commandTimeoutMs: number;
  /** The connection was replaced after a call got no reply in time. */
  replaced(): void;
}

const NO_GUARD: PublisherGuard = {
  epoch: () => '',
  known: () => 0,
  owner: '',
  leaseMs: 0,
  commandTimeoutMs: 0,
  replaced: () => undefined,
};

/** The outcome of one stamping: the seqs Redis assigned, and whether it was a retry's repeat. */
export interface Stamp {
  seq: number;
  laneSeq: number;
  repeated: boolean;
}

/** An error Redis answered for one event (the script's refusal), not a connection failure. */
function scriptError(message: string): Error {
  const error = new Error(message);
  // As ioredis names server error replies: callers tell "Redis said no" from "no answer".
  error.name = 'ReplyError';
  return error;
}

interface PendingStamp {
  laneKey: string;
  tag: string;
  body: string;
  /** '' on a first attempt; on a retry, the seq and the earlier attempts' tags (publishScript). */
  lookup: string;
  /** Set on the events of one `stampAll`: they leave in one call. */
  group: object | undefined;
  resolve: (stamp: Stamp) => void;
  reject: (error: unknown) => void;
}

/** The lookup argument of an event (see publishScript): '' on a first attempt. */
function lookupOf(retryAfter: number | undefined, earlierTags: readonly string[]): string {
  if (retryAfter === undefined) return '';
  return [String(retryAfter), ...earlierTags].join('\n');
}

/** Script calls under way at once; further events wait and leave together in a later call. */
const MAX_CALLS_IN_FLIGHT = 2;
/** Events per script call at most. */
const MAX_BATCH = 256;

/** Runs a callback after the current turn of the event loop, as often as asked, until closed. */
interface TurnScheduler {
  schedule(): void;
  close(): void;
}

/**
 * Runs `callback` after the current macrotask and every microtask it queued: a `MessageChannel`
 * message (no timer clamping, in browsers and Node alike; unreferenced in Node so that it never
 * holds a process open). Falls back to `setTimeout(0)`.
 */
function afterThisTurn(callback: () => void): TurnScheduler {
  const Channel = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (Channel === undefined) {
    return { schedule: () => void setTimeout(callback, 0), close: () => undefined };
  }
  const channel = new Channel();
  channel.port1.onmessage = callback;
  (channel.port1 as { unref?: () => void }).unref?.();
  return {
    schedule: () => channel.port2.postMessage(undefined),
    close: () => channel.port1.close(),
  };
}

/**
 * Runs the publish script: assigns seq and laneSeq inside Redis and appends each entry in one
 * atomic step. Each entry carries its producer tag (producer id + publish number), so a retry
 * finds its first attempt instead of appending twice.
 *
 * Group commit: an event made while no call is under way leaves at once. Otherwise events wait
 * and leave together, in one call, after the current turn of the event loop (so every publish
 * made in reaction to the replies just received joins it), as long as fewer than two calls are
 * under way; else when a call returns. The script's fixed cost in Redis, and the client's per
 * command, are paid per call, not per event. Calls go out in order on one connection, so seqs
 * follow the order of `stamp` calls.
 */
export class StreamPublisher {
  private readonly keys: string[];
  private readonly waiting: PendingStamp[] = [];
  private callsInFlight = 0;
  /** Counts connection replacements: a late deadline of an older call replaces nothing. */
  private generation = 0;
  private flushScheduled = false;
  private closed = false;
  private readonly turns: TurnScheduler;
  /** The script, with this stream's constants (encoding version, trimming, scan limit) in it. */
  private readonly script: LuaScript;

  constructor(
    private readonly redis: Redis,
    keys: StreamKeys,
    trimArguments: readonly string[],
    retryScanLimit: number,
    private readonly guard: PublisherGuard = NO_GUARD,
  ) {
    this.keys = [keys.stream, keys.seq, keys.lanes, keys.epoch, keys.producer];
    this.script = new LuaScript(
      publishScript(FRAME_ENCODING_VERSION, trimArguments, retryScanLimit),
    );
    this.turns = afterThisTurn(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Stamps and appends one entry. `retryAfter`: on a retry, a seq known to be below the first
   * attempt's (an earlier attempt's entry, if any, is looked for after it, by its tag or one of
   * `earlierTags`). Rejects with the client's error when Redis fails (every event of that call
   * rejects alike: the call is atomic, so all of them were appended or none), or with a
   * {@link PublishRefusedError} when the call's checks refuse it (nothing was written).
   */
  stamp(
    laneKey: string,
    tag: string,
    body: string,
    retryAfter?: number,
    earlierTags: readonly string[] = [],
  ): Promise<Stamp> {
    return new Promise<Stamp>((resolve, reject) => {
      this.waiting.push({
        laneKey,
        tag,
        body,
        lookup: lookupOf(retryAfter, earlierTags),
        group: undefined,
        resolve,
        reject,
      });
      if (this.callsInFlight === 0 && !this.flushScheduled) this.flush();
      else this.requestFlush();
    });
  }

  /**
   * Stamps and appends several entries in one script call, at consecutive seqs (the call is
   * atomic), after the entries already waiting. As `stamp` otherwise.
   */
  stampAll(
    entries: ReadonlyArray<{ laneKey: string; tag: string; body: string; earlier?: string[] }>,
    retryAfter?: number,
  ): Promise<Stamp[]> {
    const group = {};
    const stamps = entries.map(
      (entry) =>
        new Promise<Stamp>((resolve, reject) => {
          this.waiting.push({
            laneKey: entry.laneKey,
            tag: entry.tag,
            body: entry.body,
            lookup: lookupOf(retryAfter, entry.earlier ?? []),
            group,
            resolve,
            reject,
          });
        }),
    );
    if (this.callsInFlight === 0 && !this.flushScheduled) this.flush();
    else this.requestFlush();
    return Promise.all(stamps);
  }

  /**
   * Sends every event still waiting at once, whatever the calls under way (on a connection
   * already closed, they reject as such), and from then on sends each event as it comes.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.turns.close();
    this.flush();
  }

  private requestFlush(): void {
    if (this.closed) {
      this.flush();
      return;
    }
    if (this.flushScheduled || this.callsInFlight >= MAX_CALLS_IN_FLIGHT) return;
    this.flushScheduled = true;
    this.turns.schedule();
  }

  private flush(): void {
    while (this.waiting.length > 0 && (this.closed || this.callsInFlight < MAX_CALLS_IN_FLIGHT)) {
      let size = Math.min(MAX_BATCH, this.waiting.length);
      // The entries of one stampAll leave together, however many.
      const group = this.waiting[size - 1]?.group;
      while (group !== undefined && this.waiting[size]?.group === group) size++;
      const batch = this.waiting.splice(0, size);
      this.callsInFlight++;
      void this.call(batch).finally(() => {
        this.callsInFlight--;
        if (this.waiting.length > 0) this.requestFlush();
      });
    }
  }

  private async call(batch: PendingStamp[]): Promise<void> {
    const guard = this.guard;
    const args: string[] = [
      guard.epoch(),
      String(guard.known()),
      guard.owner,
      String(guard.leaseMs),
    ];
    for (const pending of batch) {
      args.push(pending.laneKey, pending.tag, pending.body, pending.lookup);
    }
    let reply: unknown[];
    try {
      reply = (await this.evaluate(args)) as unknown[];
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    if (reply[0] === -1) {
      const refusal = new PublishRefusedError(String(reply[1]), String(reply[2] ?? ''));
      for (const pending of batch) pending.reject(refusal);
      return;
    }
    // See publishScript for the reply's shape.
    let seq = reply[0] as number;
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      const outcome = reply[i + 1];
      if (typeof outcome === 'number') {
        pending.resolve({ seq: seq++, laneSeq: outcome, repeated: false });
      } else if (Array.isArray(outcome)) {
        pending.resolve({
          seq: outcome[0] as number,
          laneSeq: outcome[1] as number,
          repeated: true,
        });
      } else if (typeof outcome === 'string' && outcome !== '') {
        pending.reject(scriptError(outcome));
      } else {
        pending.reject(
          scriptError(
            'rxjs-backpressure: not attempted: an earlier event of the same call was refused',
          ),
        );
      }
    }
  }

  /** Runs the script, replacing the connection when no reply comes within the deadline. */
  private evaluate(args: string[]): Promise<unknown> {
    const limit = this.guard.commandTimeoutMs;
    const call = this.script.run(this.redis, this.keys, args);
    if (limit <= 0) return call;
    const generation = this.generation;
    return withTimeout(call, limit, () => {
      if (generation === this.generation) {
        this.generation++;
        // A socket whose peer vanished without a FIN: end() would wait for it; destroy() closes
        // it now, and the client reconnects (its pending commands reject).
        destroySocket(this.redis);
        this.guard.replaced();
      }
      return new Error(`no reply from Redis within ${limit} ms; the connection was replaced`);
    });
  }
}
