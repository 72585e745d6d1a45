import { formatCursor } from '../core/cursor.js';
import type { PushOutcome } from '../core/OverflowQueue.js';
import type { OverflowNotice } from '../core/types.js';
import type { PushQueue } from '../internal/DrainEngine.js';

/**
 * A queue that counts the values pushed while `counting` is on: how far a full socket fell
 * behind, for `maxLag.frames`. Everything else is the wrapped queue's.
 */
export class CountingQueue<T> implements PushQueue<T, OverflowNotice<T>> {
  counting = false;
  arrived = 0;

  constructor(private readonly queue: PushQueue<T, OverflowNotice<T>>) {}

  get isEmpty(): boolean {
    return this.queue.isEmpty;
  }

  get size(): number {
    return this.queue.size;
  }

  push(value: T): PushOutcome {
    if (this.counting) this.arrived++;
    return this.queue.push(value);
  }

  shift(): T {
    return this.queue.shift();
  }

  takeNotice(): OverflowNotice<T> | undefined {
    return this.queue.takeNotice();
  }

  clear(): void {
    this.queue.clear();
  }

  overflowError(value: T): Error {
    return this.queue.overflowError(value);
  }
}

/** The `seq` of a value that has one (an `EventFrame`). */
export function seqOf(value: unknown): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { seq } = value as { seq?: unknown };
  return typeof seq === 'number' ? seq : undefined;
}

/** `epoch:seq` for a value with a seq. */
export function defaultCursor(value: unknown, epoch: string | undefined): string | undefined {
  const seq = seqOf(value);
  return seq === undefined ? undefined : formatCursor(epoch, seq);
}

/** The default gap message: the notice without the values it names. */
export function gapMessage(notice: OverflowNotice<unknown>): string {
  const { policy, dropped, merged } = notice;
  const fromSeq = notice.fromSeq ?? seqOf(notice.first);
  const toSeq = notice.toSeq ?? seqOf(notice.last);
  return JSON.stringify({ overflow: { policy, dropped, merged, fromSeq, toSeq } });
}

/** The most a WebSocket close reason may hold, in UTF-8 bytes. */
export const MAX_CLOSE_REASON = 123;

/**
 * The close reason of an evicted client: `slow consumer; resume after <cursor>`, or the cursor
 * alone when that is too long, or no cursor when even it is: never over 123 bytes.
 */
export function closeReason(cursor: string | undefined): string {
  if (cursor === undefined) return 'slow consumer';
  const encoder = new TextEncoder();
  for (const reason of [`slow consumer; resume after ${cursor}`, cursor]) {
    if (encoder.encode(reason).length <= MAX_CLOSE_REASON) return reason;
  }
  return 'slow consumer';
}
