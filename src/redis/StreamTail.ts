import type { Redis } from 'ioredis';
import type { EventFrame } from '../bus/types.js';
import { decodeEntryAt, FrameDecodeError, type RawStreamEntry, seqOfEntryId } from './codec.js';
import { type StreamGap, widenGap } from './RedisStreamArchive.js';

/** What a {@link StreamTail} hands on, in stream order. */
export interface StreamTailSink<P> {
  /**
   * A decoded frame, with the gap (trimmed or undecodable seqs) just before it, if any. A
   * returned promise holds the tail: it reads the next batch only when the promise settles, so a
   * slow local consumer leaves frames in Redis instead of in memory.
   */
  frame(frame: EventFrame<P>, gap: StreamGap | undefined): void | Promise<void>;
  /**
   * Whether frames are wanted now. When not, the tail goes idle after the read under way (whose
   * entries are not decoded: only `skipped(seq)` is called, with the last seq read) until `wake`.
   */
  wanted(): boolean;
  /** Entries up to `seq` were read while nobody wanted frames. */
  skipped(seq: number): void;
  /** An entry that did not decode (skipped; its seq is also part of the next frame's gap). */
  decodeError(error: FrameDecodeError): void;
  /** The connection failed: the tail waits for the client to reconnect and goes on. */
  connectionError(error: unknown): void;
}

/** The options of a {@link StreamTail}. */
export interface StreamTailConfig {
  /** A connection of its own: XREAD BLOCK holds it. Closed by `stop()`. */
  connection: Redis;
  /** The stream key. */
  stream: string;
  /** Read entries with `seq > after`. */
  after: number;
  /** Milliseconds one XREAD may block (then it is simply issued again). */
  blockMs: number;
  /** Entries per XREAD. */
  count: number;
  /** Milliseconds to wait before reading again after a connection error. */
  retryDelayMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows a stream with XREAD BLOCK from the last id seen: every entry is handed on once, in
 * order, across reconnections (the position is the last entry id handed on, not the
 * connection's). A seq jump (entries trimmed while this process was away) is reported as a gap
 * on the next frame.
 */
export class StreamTail<P = unknown> {
  /** The seq of the last entry handed on (frame or undecodable). */
  lastSeq: number;
  /** Connection errors met so far. */
  connectionErrors = 0;
  private lastId: string;
  private running = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly config: StreamTailConfig,
    private readonly sink: StreamTailSink<P>,
  ) {
    this.lastSeq = config.after;
    this.lastId = `${config.after}-0`;
  }

  /** Starts following (once). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop = this.follow();
  }

  /** Whether it waits for someone to want frames (reading nothing meanwhile). */
  get idle(): boolean {
    return this.wakeUp !== undefined;
  }

  /**
   * Resumes an idle tail after `seq` (or after its own position, if later): the frames between
   * were published before anyone here listened, so they are not read.
   */
  wake(seq: number): void {
    const wakeUp = this.wakeUp;
    if (wakeUp === undefined) return;
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.lastId = `${seq}-0`;
    }
    this.wakeUp = undefined;
    wakeUp();
  }

  /** Stops following and closes the connection; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    this.wakeUp?.();
    this.wakeUp = undefined;
    this.config.connection.disconnect();
    await this.loop;
  }

  private async follow(): Promise<void> {
    const { connection, stream, blockMs, count, retryDelayMs } = this.config;
    let gap: StreamGap | undefined;
    while (this.running) {
      if (gap === undefined && !this.sink.wanted()) {
        // Nobody here listens: read nothing until someone does (see wake).
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        continue;
      }
      let reply: [string, RawStreamEntry[]][] | null;
      try {
        reply = (await connection.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          this.lastId,
        )) as [string, RawStreamEntry[]][] | null;
      } catch (error) {
        if (!this.running) return;
        this.connectionErrors++;
        this.sink.connectionError(error);
        await sleep(retryDelayMs);
        continue;
      }
      if (!this.running) return;
      const entries = reply?.[0]?.[1];
      if (entries === undefined || entries.length === 0) continue;
      if (gap === undefined && !this.sink.wanted()) {
        const lastEntry = entries[entries.length - 1]!;
        this.lastId = lastEntry[0];
        const seq = seqOfEntryId(lastEntry[0]);
        if (seq !== undefined) {
          this.lastSeq = seq;
          this.sink.skipped(seq);
        }
        continue;
      }
      for (const entry of entries) {
        const seq = seqOfEntryId(entry[0]);
        if (seq !== undefined) {
          if (seq > this.lastSeq + 1) gap = widenGap(gap, this.lastSeq + 1, seq - 1, 'drop-oldest');
          this.lastSeq = seq;
        }
        this.lastId = entry[0];
        const frame = decodeEntryAt<P>(entry, seq);
        if (frame instanceof FrameDecodeError) {
          this.sink.decodeError(frame);
          gap = widenGap(gap, frame.seq, frame.seq, 'drop-incoming');
          continue;
        }
        const held = this.sink.frame(frame, gap);
        gap = undefined;
        if (held !== undefined) await held;
        if (!this.running) return;
      }
    }
  }
}
