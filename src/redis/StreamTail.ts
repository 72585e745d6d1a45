import type { Redis } from 'ioredis';
import type { EventFrame } from '../bus/types.js';
import {
  decodeEntryAt,
  FrameDecodeError,
  foreignEntry,
  idNumber,
  type RawStreamEntry,
  seqOfEntryId,
} from './codec.js';
import { closeNow, destroySocket } from './config.js';
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
  /** Entries up to `seq` were read while nobody wanted frames, or were foreign. */
  skipped(seq: number): void;
  /** An entry that did not decode (skipped; its seq is also part of the next frame's gap), or a foreign one (skipped, no gap). */
  decodeError(error: FrameDecodeError): void;
  /** The connection failed: the tail waits for the client to reconnect and goes on. */
  connectionError(error: unknown): void;
  /** A blocking read got no reply in time: its connection was replaced. */
  replaced(): void;
  /**
   * Checks that the log did not go backwards or get replaced while the connection was away (or
   * the read idle): `position` is the last seq read, `fields` that entry's fields when known.
   * Resolves with the seq to read on from when the epoch changed (the entries read meanwhile are
   * dropped), else `undefined`.
   */
  verify(position: number, fields: readonly string[] | undefined): Promise<number | undefined>;
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
  /** Milliseconds beyond `blockMs` to wait for a read's reply before replacing the connection. */
  readTimeoutMs: number;
  /** Entries per XREAD. */
  count: number;
  /** Milliseconds to wait before reading again after a connection error. */
  retryDelayMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type ReadReply = [string, RawStreamEntry[]][] | null;

/**
 * Follows a stream with XREAD BLOCK from the last id seen: every entry is handed on once, in
 * order, across reconnections (the position is the last entry id handed on, not the
 * connection's). A seq jump (entries trimmed while this process was away) is reported as a gap
 * on the next frame. After the connection came back, a read that timed out, or a read that
 * waited longer than it should (its connection is then replaced), the log is verified before
 * anything more is handed on.
 */
export class StreamTail<P = unknown> {
  /** The seq of the last entry handed on (frame or undecodable). */
  lastSeq: number;
  /** Connection errors met so far. */
  connectionErrors = 0;
  private lastId: string;
  /** The fields of the entry at `lastSeq`, when read here. */
  private lastFields: readonly string[] | undefined;
  private running = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set when the log must be verified before the next entries are handed on. */
  private suspect = false;
  /** Counts position resets: a read issued before one is not handed on. */
  private generation = 0;

  constructor(
    private readonly config: StreamTailConfig,
    private readonly sink: StreamTailSink<P>,
  ) {
    this.lastSeq = config.after;
    this.lastId = `${config.after}-0`;
    let ready = config.connection.status === 'ready';
    config.connection.on('ready', () => {
      // A reconnection: the server may have restarted with less (or other) data.
      if (ready) this.suspect = true;
      ready = true;
    });
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
    if (seq > this.lastSeq) this.moveTo(seq);
    this.wakeUp = undefined;
    wakeUp();
  }

  /** The epoch changed: read on after `seq` of the new one (a read under way is dropped). */
  resetTo(seq: number): void {
    this.generation++;
    this.moveTo(seq);
  }

  /** Stops following and closes the connection; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    this.wakeUp?.();
    this.wakeUp = undefined;
    closeNow(this.config.connection);
    await this.loop;
  }

  private moveTo(seq: number): void {
    this.lastSeq = seq;
    this.lastId = `${seq}-0`;
    this.lastFields = undefined;
  }

  /** One XREAD, with a deadline: past it the connection is replaced and the wait goes on. */
  private async read(): Promise<ReadReply> {
    const { connection, stream, blockMs, count, readTimeoutMs } = this.config;
    const reply = connection.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      stream,
      this.lastId,
    ) as Promise<ReadReply>;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), blockMs + readTimeoutMs);
      });
      try {
        const outcome = await Promise.race([reply, late]);
        if (outcome !== 'late') return outcome;
      } finally {
        clearTimeout(timer);
      }
      if (!this.running) return null;
      // No reply: the peer may be gone without closing (a half-open connection). The client
      // reconnects and sends the read again on the new connection.
      this.replace();
    }
  }

  private replace(): void {
    this.suspect = true;
    // While the client reconnects by itself (Redis down), there is nothing to replace.
    if (this.config.connection.status !== 'ready') return;
    destroySocket(this.config.connection);
    this.sink.replaced();
  }

  /** The sink's check of the log, with the same deadline as a read (then the connection is replaced). */
  private async verify(): Promise<number | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no reply to the log check within ${this.config.readTimeoutMs} ms`));
        if (this.running) this.replace();
      }, this.config.readTimeoutMs);
    });
    try {
      return await Promise.race([this.sink.verify(this.lastSeq, this.lastFields), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async follow(): Promise<void> {
    const { retryDelayMs } = this.config;
    let gap: StreamGap | undefined;
    while (this.running) {
      if (gap === undefined && !this.sink.wanted()) {
        // Nobody here listens: read nothing until someone does (see wake).
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        continue;
      }
      const generation = this.generation;
      let reply: ReadReply;
      try {
        reply = await this.read();
      } catch (error) {
        if (!this.running) return;
        this.connectionErrors++;
        this.suspect = true;
        this.sink.connectionError(error);
        await sleep(retryDelayMs);
        continue;
      }
      if (!this.running) return;
      if (generation !== this.generation) continue;
      const entries = reply?.[0]?.[1];
      if (this.suspect || entries === undefined || entries.length === 0) {
        // Verified after a reconnection before anything is handed on, and when the stream is
        // quiet (an idle read costs one check per block time).
        try {
          const moved = await this.verify();
          this.suspect = false;
          if (moved !== undefined) {
            gap = undefined;
            continue;
          }
        } catch (error) {
          if (!this.running) return;
          this.sink.connectionError(error);
          await sleep(retryDelayMs);
          continue;
        }
        if (!this.running) return;
        if (generation !== this.generation) continue;
      }
      if (entries === undefined || entries.length === 0) continue;
      if (gap === undefined && !this.sink.wanted()) {
        const lastEntry = entries[entries.length - 1]!;
        this.lastId = lastEntry[0];
        this.lastFields = lastEntry[1];
        this.lastSeq = Math.max(this.lastSeq, idNumber(lastEntry[0]));
        this.sink.skipped(this.lastSeq);
        continue;
      }
      for (const entry of entries) {
        this.lastId = entry[0];
        this.lastFields = entry[1];
        const foreign = foreignEntry(entry);
        if (foreign !== undefined) {
          // Another client's entry took no seq of the bus: the seqs go on after it, no gap.
          this.lastSeq = Math.max(this.lastSeq, idNumber(entry[0]));
          this.sink.decodeError(foreign);
          // The head moves past it without a frame (no gap for anyone).
          if (gap === undefined) this.sink.skipped(this.lastSeq);
          continue;
        }
        const seq = seqOfEntryId(entry[0]) as number;
        if (seq > this.lastSeq + 1) gap = widenGap(gap, this.lastSeq + 1, seq - 1, 'drop-oldest');
        this.lastSeq = seq;
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
        if (generation !== this.generation) break;
      }
    }
  }
}
