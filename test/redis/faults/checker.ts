/**
 * The invariants a fault run must keep, checked after it from what Redis holds and what each
 * side saw:
 *
 * - the stream's seqs are dense (from its first entry to its last);
 * - no event is in the stream twice (events carry a unique `payload.id`);
 * - every acknowledged event (a publish or send that resolved) is in the stream at its seq;
 * - every subscriber's log is the stream's frames it should have seen, in order, except ranges
 *   that a notice (`frame.overflow`) announced, and frames of an epoch that ended (an
 *   `EpochChangedError` announced it).
 *
 * It returns the violations found (empty when the run kept every invariant), so that a failing
 * spec prints all of them.
 */
import type { Redis } from 'ioredis';
import type { EventFrame } from '../../../src/bus/types.js';
import { decodeEntry, FrameDecodeError, type RawStreamEntry } from '../../../src/redis/codec.js';

/** An event's identity in a fault run. */
export const idOf = (frame: { payload?: unknown }): string =>
  String((frame.payload as { id?: unknown } | undefined)?.id);

/** The frames of a stream, read whole (the runs are small enough). */
export async function streamFrames(redis: Redis, stream: string): Promise<EventFrame[]> {
  const entries = (await redis.xrange(stream, '-', '+')) as RawStreamEntry[];
  const frames: EventFrame[] = [];
  for (const entry of entries) {
    const frame = decodeEntry(entry);
    if (!(frame instanceof FrameDecodeError)) frames.push(frame);
  }
  return frames;
}

export interface RunRecord {
  /** The stream's frames after the run. */
  stream: readonly EventFrame[];
  /** The frames publishes and sends resolved with. */
  acknowledged: readonly EventFrame[];
  /**
   * What each subscriber received, with the seq it started after (its cursor, or where live
   * started), and whether it ended (then its log must reach no further than it got).
   */
  subscribers: ReadonlyArray<{
    name: string;
    after: number;
    frames: readonly EventFrame[];
    /**
     * For a subscriber that ended with `EpochChangedError`: the seq the stream's new epoch
     * starts after. Its frames beyond were of a history that is gone (the error said so).
     */
    epochEndedAt?: number;
  }>;
}

export function checkRun(run: RunRecord): string[] {
  const problems: string[] = [];
  const bySeq = new Map<number, EventFrame>();
  const seen = new Map<string, number>();
  let previous: number | undefined;
  for (const frame of run.stream) {
    if (previous !== undefined && frame.seq !== previous + 1) {
      problems.push(`stream: seq ${frame.seq} follows ${previous} (not dense)`);
    }
    previous = frame.seq;
    bySeq.set(frame.seq, frame);
    const id = idOf(frame);
    const first = seen.get(id);
    if (first !== undefined) problems.push(`stream: event ${id} at seq ${first} and ${frame.seq}`);
    else seen.set(id, frame.seq);
  }
  for (const frame of run.acknowledged) {
    const stored = bySeq.get(frame.seq);
    if (stored === undefined || idOf(stored) !== idOf(frame)) {
      problems.push(
        `acknowledged: event ${idOf(frame)} at seq ${frame.seq}, the stream has ${stored === undefined ? 'nothing' : idOf(stored)} there`,
      );
    }
  }
  for (const subscriber of run.subscribers) {
    let expected = subscriber.after + 1;
    for (const frame of subscriber.frames) {
      const notice = frame.overflow;
      if (notice?.toSeq !== undefined && (notice.fromSeq ?? expected) <= expected) {
        expected = Math.max(expected, notice.toSeq + 1);
      }
      if (frame.seq !== expected) {
        problems.push(
          `${subscriber.name}: got seq ${frame.seq} where ${expected} was due, with no notice of the range`,
        );
        expected = frame.seq;
      }
      const stored = bySeq.get(frame.seq);
      const gone = subscriber.epochEndedAt !== undefined && frame.seq > subscriber.epochEndedAt;
      if (!gone && stored !== undefined && idOf(stored) !== idOf(frame)) {
        problems.push(
          `${subscriber.name}: seq ${frame.seq} is event ${idOf(frame)} here, ${idOf(stored)} in the stream`,
        );
      }
      expected = frame.seq + 1;
    }
  }
  return problems;
}
