import type { FrameHub } from '../bus/FrameHub.js';
import type { EventFrame } from '../bus/types.js';
import { sleep } from './config.js';
import type { RedisStreamArchive } from './RedisStreamArchive.js';
import type { StreamTail } from './StreamTail.js';

/**
 * How this process's head (the last seq its hub holds) follows the stream: the tail brings it
 * frames while someone here listens; while nobody does, the head stays where it was and other
 * processes' frames pile up in Redis, to be read as history on request.
 */
export interface LocalHeadParts<P> {
  readonly hub: () => FrameHub<P>;
  readonly tail: () => StreamTail<P>;
  readonly archive: RedisStreamArchive<P>;
  readonly isClosed: () => boolean;
}

/**
 * Brings the head up to a cursor beyond it (the hub's `reachCursor`), so that a cursor saved in
 * another process, or in this one before a quiet spell, is not refused as "beyond the head".
 * Resolves once the head is up to `after`, or at once when the stream itself ends before it (the
 * cursor is then refused). An idle tail has read nothing since: the head jumps to the stream's
 * end (what lies between is history, read from Redis). A running tail is waited for.
 */
export async function reachCursor<P>(parts: LocalHeadParts<P>, after: number): Promise<void> {
  const { archive, isClosed } = parts;
  const hub = parts.hub();
  const tail = parts.tail();
  const streamEnd = await archive.lastSeq();
  if (after > streamEnd) return;
  const epoch = hub.epoch;
  let wait = 1;
  while (hub.log.head < after && !isClosed() && hub.epoch === epoch) {
    if (tail.idle) {
      hub.skipTo(streamEnd);
      return;
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 20);
  }
}

/**
 * Hands a frame from the tail to the hub, holding the tail (frames wait in Redis) while a
 * `'backpressure'` subscriber here is full.
 */
export function receiveFrame<P>(
  parts: LocalHeadParts<P>,
  frame: EventFrame<P>,
): void | Promise<void> {
  const { isClosed } = parts;
  const hub = parts.hub();
  if (hub.fullFor(frame) === undefined) {
    hub.ingest(frame);
    return undefined;
  }
  return (async () => {
    let wait = 1;
    while (!isClosed() && hub.fullFor(frame) !== undefined) {
      await sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
    if (!isClosed()) hub.ingest(frame);
  })();
}
