/**
 * Resume cursors as text, `epoch:seq`: what a Server-Sent Events `id:` and a slow client's close
 * reason carry, so that a client reconnecting hands back both the log it read (the epoch) and
 * where it stopped (the seq).
 *
 * @packageDocumentation
 */

/** A cursor read back from its text form. */
export interface Cursor {
  /** The log the seq belongs to (`bus.epoch`); empty when the cursor named none. */
  epoch: string;
  /** The last seq the client has: resume with `after: seq`. */
  seq: number;
}

/** `epoch:seq`, or `seq` alone when there is no epoch. */
export function formatCursor(epoch: string | undefined, seq: number): string {
  return epoch === undefined || epoch === '' ? String(seq) : `${epoch}:${seq}`;
}

/**
 * Reads `epoch:seq` (or a bare `seq`) back; `undefined` for anything else (a missing header, a
 * cursor of another format, a seq that is not a non-negative integer).
 */
export function parseCursor(text: string | null | undefined): Cursor | undefined {
  if (typeof text !== 'string') return undefined;
  const colon = text.lastIndexOf(':');
  const epoch = colon < 0 ? '' : text.slice(0, colon);
  const digits = text.slice(colon + 1);
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  return { epoch, seq: Number(digits) };
}
