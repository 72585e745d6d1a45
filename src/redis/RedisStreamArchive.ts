import type { Redis } from 'ioredis';
import { Observable } from 'rxjs';
import { filterPredicate } from '../bus/filter.js';
import type { MutableFrame } from '../bus/frame.js';
import type { EventArchive, EventFilter, EventFrame } from '../bus/types.js';
import { checkFunction, checkPositiveInteger, rangeError, typeError } from '../core/checks.js';
import type { OverflowNotice, OverflowPolicyName } from '../core/types.js';
import {
  decodeEntryAt,
  encodeEventBody,
  encodeFields,
  FrameDecodeError,
  foreignEntry,
  idNumber,
  type RawStreamEntry,
  seqOfEntryId,
} from './codec.js';
import { isWellFormed } from './wellFormed.js';

/** The options of {@link RedisStreamArchive}. */
export interface RedisStreamArchiveConfig {
  /**
   * An ioredis client for ordinary commands (XADD, XRANGE, XTRIM). The archive never closes it
   * and never issues blocking commands on it. Required.
   */
  redis: Redis;
  /**
   * The stream key. Companion keys (used by `RedisEventBus`) are `<stream>:seq` (the seq
   * counter) and `<stream>:lanes` (laneSeq counters). On Redis Cluster put the name in a hash
   * tag, e.g. `{agents}:events`, so that they share a slot. Required.
   */
  stream: string;
  /**
   * Entries fetched per XRANGE page by `replay`: bounds its memory. Default 1,024, the frames a
   * bus takes from its archive per call, so that each of its calls is one XRANGE.
   */
  pageSize?: number | undefined;
  /**
   * Trim on every append: keep about this many newest entries (`XADD MAXLEN ~ n`, exact with
   * `exactTrim`). Default: no trimming on append (trim explicitly with `trim()`).
   */
  maxLen?: number | undefined;
  /** Trim exactly (`=`) instead of approximately (`~`, cheaper for Redis). Default `false`. */
  exactTrim?: boolean | undefined;
  /**
   * Receives each stream entry that does not decode as a frame; the entry is skipped and counted
   * in the gap notice of the next frame delivered. Default: none (the gap notice still says so).
   */
  onDecodeError?: ((error: FrameDecodeError) => void) | undefined;
}

/** A gap being accumulated while reading a stream, before a frame can carry it. */
export interface StreamGap {
  policy: OverflowPolicyName;
  dropped: number;
  fromSeq: number | undefined;
  toSeq: number | undefined;
}

/** Adds the seqs `from..to` to a gap (creating it), keeping the first cause as its policy. */
export function widenGap(
  gap: StreamGap | undefined,
  from: number | undefined,
  to: number | undefined,
  policy: OverflowPolicyName,
): StreamGap {
  const count = from !== undefined && to !== undefined ? to - from + 1 : 1;
  if (gap === undefined) return { policy, dropped: count, fromSeq: from, toSeq: to };
  gap.dropped += count;
  if (from !== undefined && (gap.fromSeq === undefined || from < gap.fromSeq)) gap.fromSeq = from;
  if (to !== undefined && (gap.toSeq === undefined || to > gap.toSeq)) gap.toSeq = to;
  return gap;
}

/**
 * The notice of a gap in the stream. `terminalPreserved` is `false`: retention trimming and
 * undecodable entries know nothing of event classes, so a lost range may have held terminals.
 */
export function noticeOfGap<P>(gap: StreamGap): OverflowNotice<EventFrame<P>> {
  const notice: OverflowNotice<EventFrame<P>> = {
    policy: gap.policy,
    dropped: gap.dropped,
    merged: 0,
    terminalPreserved: false,
  };
  if (gap.fromSeq !== undefined) notice.fromSeq = gap.fromSeq;
  if (gap.toSeq !== undefined) notice.toSeq = gap.toSeq;
  return notice;
}

function positiveInteger(value: unknown, name: string): number {
  checkPositiveInteger(value, 'RedisStreamArchive', name);
  return value as number;
}

/** Checks a cursor: a non-negative safe integer. */
export function checkCursor(after: unknown, owner: string): number {
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) {
    throw rangeError(owner, 'after', 'a non-negative integer seq', after);
  }
  return after;
}

/**
 * The frames a bus takes from its archive per call (its reader's page): a page of this size makes
 * each of its calls one XRANGE. (This entry imports only public names of the core, so the number
 * is written here; the archive's spec checks that the two agree.)
 */
const DEFAULT_PAGE_SIZE = 1024;

const OWNER = 'RedisStreamArchive';

/**
 * An {@link EventArchive} in one Redis stream: every frame is an entry whose id is `<seq>-0`
 * (see the encoding in `codec.ts`), so a cursor is a stream id and a replay from any cursor is
 * one XRANGE away.
 *
 * `replay(filter, after, limit?)` pages through XRANGE `pageSize` entries at a time (fewer when
 * fewer frames are still wanted) and asks for the next page only after the previous one was
 * delivered, so its memory is bounded whatever the range. A range lost to trimming, and entries that do not decode, are reported as an
 * {@link OverflowNotice} on the next frame delivered (`policy 'drop-oldest'` for trimmed
 * ranges, `'drop-incoming'` for undecodable entries, `fromSeq..toSeq` the missing seqs).
 *
 * Used as the `archive` of an in-memory `EventBus`, it stores that bus's frames under their own
 * seqs (one bus per stream). Processes that share a stream use `RedisEventBus`, which assigns
 * seqs inside Redis.
 *
 * @example
 * ```ts
 * const archive = new RedisStreamArchive({ redis: new Redis(), stream: 'agents', maxLen: 1e6 });
 * const bus = new EventBus({ archive });
 * bus.select({ runId }, { after: savedCursor }).subscribe(render);
 * ```
 */
export class RedisStreamArchive<P = unknown> implements EventArchive {
  /** The stream key. */
  readonly stream: string;
  /** The client commands go through. */
  readonly redis: Redis;
  private readonly pageSize: number;
  private readonly maxLen: number | undefined;
  private readonly trimOperator: '~' | '=';
  private readonly onDecodeError: ((error: FrameDecodeError) => void) | undefined;
  /** The oldest seq the stream held when last looked at (see `earliestSeq`). */
  private earliest: number | undefined;

  constructor(config: RedisStreamArchiveConfig) {
    if (config === null || typeof config !== 'object') {
      throw typeError(OWNER, 'config', 'an object', config);
    }
    if (config.redis === null || typeof config.redis !== 'object') {
      throw typeError(OWNER, 'redis', 'an ioredis client', config.redis);
    }
    if (typeof config.stream !== 'string' || config.stream === '') {
      throw typeError(OWNER, 'stream', 'a non-empty string', config.stream);
    }
    if (!isWellFormed(config.stream)) {
      throw new TypeError(
        'RedisStreamArchive: stream must be well-formed Unicode (it has a lone surrogate, which Redis would store as U+FFFD)',
      );
    }
    checkFunction(config.onDecodeError, OWNER, 'onDecodeError');
    this.redis = config.redis;
    this.stream = config.stream;
    this.pageSize =
      config.pageSize === undefined
        ? DEFAULT_PAGE_SIZE
        : positiveInteger(config.pageSize, 'pageSize');
    this.maxLen =
      config.maxLen === undefined ? undefined : positiveInteger(config.maxLen, 'maxLen');
    this.trimOperator = config.exactTrim === true ? '=' : '~';
    this.onDecodeError = config.onDecodeError;
  }

  /** The `XADD` trim arguments of every append (empty when `maxLen` is not set). */
  trimArguments(): string[] {
    return this.maxLen === undefined ? [] : ['MAXLEN', this.trimOperator, String(this.maxLen)];
  }

  /**
   * Appends a frame that already has its seq (from an in-memory bus) as entry `<seq>-0`. Redis
   * refuses a seq not above the stream's last one, and the returned promise rejects with that.
   */
  async append(frame: EventFrame): Promise<void> {
    const body = encodeEventBody(frame, frame.laneId ?? 'main', frame.ts);
    await this.redis.call(
      'XADD',
      this.stream,
      ...this.trimArguments(),
      `${frame.seq}-0`,
      ...encodeFields(frame.laneSeq, body),
    );
  }

  /**
   * The frames matching `filter` with `seq > after`, oldest first, read page by page; completes
   * at the end of the stream as it is when the last page is read, or once `limit` frames were
   * given (no page asks for more entries than frames are still wanted). Errors when Redis fails
   * or `filter.where` throws. Unsubscribing stops it before the next page.
   *
   * @throws RangeError at once for a bad `after`, or a `limit` that is not a positive integer (or
   * Infinity, the default).
   */
  replay(
    filter: EventFilter = {},
    after = 0,
    limit = Number.POSITIVE_INFINITY,
  ): Observable<EventFrame<P>> {
    checkCursor(after, 'RedisStreamArchive.replay');
    checkPositiveInteger(limit, 'RedisStreamArchive.replay', 'limit', true);
    const matches = filterPredicate(filter);
    return new Observable<EventFrame<P>>((subscriber) => {
      let active = true;
      const pump = async (): Promise<void> => {
        let gap: StreamGap | undefined;
        let start = `${after + 1}-0`;
        let expected = after + 1;
        let wanted = limit;
        while (wanted > 0) {
          const count = Math.min(this.pageSize, wanted);
          const page = (await this.redis.xrange(
            this.stream,
            start,
            '+',
            'COUNT',
            count,
          )) as RawStreamEntry[];
          if (!active) return;
          if (page.length === 0 && expected === after + 1) {
            // Nothing at or after the cursor: was it trimmed away, or never written?
            const last = await this.lastSeq();
            if (!active) return;
            if (last >= expected) gap = widenGap(gap, expected, last, 'drop-oldest');
          }
          for (const entry of page) {
            const foreign = foreignEntry(entry);
            if (foreign !== undefined) {
              // Another client's entry took no seq of the bus: skipped, reported, no gap.
              this.onDecodeError?.(foreign);
              expected = Math.max(expected, idNumber(entry[0]) + 1);
              continue;
            }
            const seq = seqOfEntryId(entry[0]) as number;
            if (seq > expected) gap = widenGap(gap, expected, seq - 1, 'drop-oldest');
            expected = seq + 1;
            const frame = decodeEntryAt<P>(entry, seq);
            if (frame instanceof FrameDecodeError) {
              this.onDecodeError?.(frame);
              gap = widenGap(gap, frame.seq, frame.seq, 'drop-incoming');
              continue;
            }
            if (!matches(frame as EventFrame)) continue;
            if (gap !== undefined) {
              (frame as MutableFrame<P>).overflow = noticeOfGap<P>(gap);
              gap = undefined;
            }
            wanted--;
            subscriber.next(frame);
            if (!active) return;
          }
          if (page.length < count) break;
          start = `(${page[page.length - 1]![0]}`;
        }
        subscriber.complete();
      };
      pump().catch((error: unknown) => {
        if (active) subscriber.error(error);
      });
      return () => {
        active = false;
      };
    });
  }

  /**
   * The stream's epoch: `proposed` when the stream has none yet (it is stored beside the stream,
   * at `<stream>:epoch`), else the one stored.
   */
  async epoch(proposed: string): Promise<string> {
    const key = `${this.stream}:epoch`;
    await this.redis.set(key, proposed, 'NX');
    const stored = await this.redis.get(key);
    return stored ?? proposed;
  }

  /**
   * The seq of the last frame ever appended (kept by Redis even after trimming), 0 for a stream
   * that does not exist yet.
   */
  async lastSeq(): Promise<number> {
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', this.stream)) as unknown[];
    } catch (error) {
      if (/no such key/i.test(String((error as Error).message))) return 0;
      throw error;
    }
    for (let i = 0; i + 1 < info.length; i += 2) {
      if (info[i] === 'last-generated-id') return seqOfEntryId(String(info[i + 1])) ?? 0;
    }
    return 0;
  }

  /**
   * The oldest seq the stream held when it was last looked at (by `trim`, and by
   * `RedisEventBus` at start and whenever its tail is idle), or `undefined` before: a cursor
   * below it has lost frames, which the bus reports at once, even when no frame follows.
   */
  earliestSeq(): number | undefined {
    return this.earliest;
  }

  /**
   * Notes what the stream holds: its first entry's seq (0: none) and its last id's. The next
   * seq to be held is the earliest when the stream is empty.
   */
  noteHeld(first: number, last: number): void {
    this.earliest = first > 0 ? first : last + 1;
  }

  /** The seq of the oldest frame still held (retention's edge), 0 when the stream is empty. */
  async firstSeq(): Promise<number> {
    const first = (await this.redis.xrange(this.stream, '-', '+', 'COUNT', 1)) as RawStreamEntry[];
    return first.length === 0 ? 0 : (seqOfEntryId(first[0]![0]) ?? 0);
  }

  /**
   * Trims the stream now: `{ maxLen }` keeps about that many newest entries (XTRIM MAXLEN);
   * `{ beforeSeq }` drops every frame with a smaller seq (XTRIM MINID), e.g. the smallest cursor
   * your consumers have persisted. Approximate (`~`) unless `exactTrim`. Resolves with the number
   * of entries removed.
   */
  async trim(by: { maxLen: number } | { beforeSeq: number }): Promise<number> {
    if ('maxLen' in by) {
      const maxLen = by.maxLen;
      if (!Number.isSafeInteger(maxLen) || maxLen < 0) {
        throw rangeError(`${OWNER}.trim`, 'maxLen', 'a non-negative integer', maxLen);
      }
      const removed = (await this.redis.call(
        'XTRIM',
        this.stream,
        'MAXLEN',
        this.trimOperator,
        maxLen,
      )) as number;
      await this.lookAtEdges();
      return removed;
    }
    const beforeSeq = by.beforeSeq;
    if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
      throw rangeError(`${OWNER}.trim`, 'beforeSeq', 'a positive integer', beforeSeq);
    }
    const removed = (await this.redis.call(
      'XTRIM',
      this.stream,
      'MINID',
      this.trimOperator,
      `${beforeSeq}-0`,
    )) as number;
    await this.lookAtEdges();
    return removed;
  }

  private async lookAtEdges(): Promise<void> {
    this.noteHeld(await this.firstSeq(), await this.lastSeq());
  }
}
