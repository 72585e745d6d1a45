/**
 * The wire format of a frame in a Redis stream (encoding version 2; version 1 is still read).
 *
 * One stream entry per frame, two fields:
 *
 * | part | content |
 * | --- | --- |
 * | entry id | `<seq>-0`: the frame's global `seq` is the entry id, so a cursor is an id |
 * | field `m` | `2 <laneSeq>` or `2 <laneSeq> <producer tag>`: the encoding version, the frame's `laneSeq` (decimal), and the tag of the publish that wrote it, if any (the rest of the text) |
 * | field `e` | JSON of `{ kind, runId?, agentId?, laneId, visibility?, payload?, ts }` |
 *
 * Version 1 (written by earlier builds) had four fields: `v` = `"1"`, `l` = laneSeq, `e` = the
 * same JSON, and `p` = the producer tag. A reader that meets a version it does not know reports
 * the entry as undecodable ({@link FrameDecodeError}) and skips it instead of guessing.
 *
 * @packageDocumentation
 */
import { FrameHub } from '../bus/FrameHub.js';
import type { AgentEvent, EventFrame } from '../bus/types.js';

/** The encoding version this build writes (it also reads version 1). */
export const FRAME_ENCODING_VERSION = '2';

/** Version 2: the field holding `<version> <laneSeq>[ <producer tag>]`. */
export const FIELD_META = 'm';
/** The field holding the JSON body (both versions). */
export const FIELD_EVENT = 'e';
/** Version 1: the field holding the encoding version. */
export const FIELD_VERSION = 'v';
/** Version 1: the field holding the frame's `laneSeq`. */
export const FIELD_LANE_SEQ = 'l';

/** A raw stream entry as ioredis returns it from XRANGE / XREAD: `[id, [field, value, ...]]`. */
export type RawStreamEntry = [id: string, fields: string[]];

/**
 * A stream entry that is not a frame of a known encoding: reported (the bus's and archive's
 * `onDecodeError`, plus a gap notice on the next frame) and skipped; the subscription goes on.
 */
export class FrameDecodeError extends Error {
  /** The stream entry id (`<seq>-0` for entries this library wrote). */
  readonly entryId: string;
  /** The seq the entry occupies, when its id has the `<seq>-0` form. */
  readonly seq: number | undefined;
  /**
   * Another client added the entry (it has neither field `m` nor `v`, or its id is not
   * `<seq>-0`): it took no seq of the bus, so skipping it leaves no gap.
   */
  readonly foreign: boolean;

  constructor(entryId: string, reason: string, foreign = false) {
    super(`${foreign ? 'Foreign' : 'Undecodable'} stream entry ${entryId}: ${reason}`);
    this.name = 'FrameDecodeError';
    this.entryId = entryId;
    this.seq = seqOfEntryId(entryId);
    this.foreign = foreign;
  }
}

/**
 * The error of an entry another client added, or `undefined` for an entry of this library
 * (written with field `m`, or `v` in version 1, at an id `<seq>-0`).
 */
export function foreignEntry(entry: RawStreamEntry): FrameDecodeError | undefined {
  const fields = entry[1];
  if (fields[0] === FIELD_META && seqOfEntryId(entry[0]) !== undefined) return undefined;
  let ours = false;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === FIELD_META || fields[i] === FIELD_VERSION) ours = true;
  }
  if (ours && seqOfEntryId(entry[0]) !== undefined) return undefined;
  return new FrameDecodeError(
    entry[0],
    ours
      ? 'not written by this library (its id is not <seq>-0); skipped'
      : 'not written by this library (no field "m" or "v"); skipped, the bus\'s seqs go on after it',
    true,
  );
}

/** The number before the dash of an entry id (the seq of `<seq>-0` ids, the time of `*` ids). */
export function idNumber(id: string): number {
  const value = Number(id.slice(0, id.indexOf('-')));
  return Number.isSafeInteger(value) ? value : 0;
}

/** The seq of an entry id of the form `<seq>-0`, else `undefined`. */
export function seqOfEntryId(id: string): number | undefined {
  const dash = id.indexOf('-');
  if (dash <= 0 || id.length !== dash + 2 || id.charCodeAt(dash + 1) !== 48) return undefined;
  const seq = Number(id.slice(0, dash));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

/** The entry id of a seq. */
export function entryIdOfSeq(seq: number): string {
  return `${seq}-0`;
}

/**
 * The JSON body (field `e`) of an event: its own fields plus `ts`. `laneId` is always written
 * (`'main'` when absent). Throws whatever `JSON.stringify` throws (cycles, BigInt).
 */
export function encodeEventBody(
  event: {
    kind: string;
    runId?: string | undefined;
    agentId?: string | undefined;
    laneId?: string | undefined;
    visibility?: string | undefined;
    payload?: unknown;
  },
  laneId: string,
  ts: number,
): string {
  // Fixed key order and only known fields: extra properties of the caller's object stay home.
  const json = JSON.stringify({
    kind: event.kind,
    runId: event.runId,
    agentId: event.agentId,
    laneId,
    visibility: event.visibility,
    payload: event.payload,
    ts,
  });
  // U+FFFD is written escaped, so that a raw one in a body read back means bytes that were not
  // UTF-8 (the client decodes them so).
  return json.includes('\uFFFD') ? json.replace(/\uFFFD/g, '\\ufffd') : json;
}

/**
 * Field/value pairs of one entry (version 2), ready for XADD after the id. `tag`: the producer
 * tag of the publish, when there is one.
 */
export function encodeFields(laneSeq: number, body: string, tag?: string): string[] {
  const meta = `${FRAME_ENCODING_VERSION} ${laneSeq}`;
  return [FIELD_META, tag === undefined || tag === '' ? meta : `${meta} ${tag}`, FIELD_EVENT, body];
}

const VISIBILITIES: ReadonlySet<unknown> = new Set(['public', 'internal', 'private']);

/**
 * Decodes one stream entry into a frame, or returns a {@link FrameDecodeError} saying why it is
 * not one (returned, not thrown: a bad entry is an expected input from the wire).
 */
export function decodeEntry<P = unknown>(entry: RawStreamEntry): EventFrame<P> | FrameDecodeError {
  return decodeEntryAt(entry, seqOfEntryId(entry[0]));
}

/** {@link decodeEntry} for a reader that has already parsed the entry id (`seqOfEntryId`). */
export function decodeEntryAt<P = unknown>(
  entry: RawStreamEntry,
  seq: number | undefined,
): EventFrame<P> | FrameDecodeError {
  const id = entry[0];
  if (seq === undefined) return new FrameDecodeError(id, 'the entry id is not of the form <seq>-0');
  const fields = entry[1];
  let meta: string | undefined;
  let body: string | undefined;
  if (fields.length === 4 && fields[0] === FIELD_META && fields[2] === FIELD_EVENT) {
    // Version 2 as this library writes it: no search.
    meta = fields[1] as string;
    body = fields[3];
  } else {
    let version: string | undefined;
    let laneSeqText: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i];
      if (name === FIELD_META) meta = fields[i + 1];
      else if (name === FIELD_EVENT) body = fields[i + 1];
      else if (name === FIELD_VERSION) version = fields[i + 1];
      else if (name === FIELD_LANE_SEQ) laneSeqText = fields[i + 1];
    }
    if (meta === undefined) {
      if (version === undefined) {
        return new FrameDecodeError(id, 'no encoding version (field "m", or "v" of version 1)');
      }
      if (version !== '1') {
        return new FrameDecodeError(
          id,
          `unknown encoding version ${JSON.stringify(version)} in field "v" (only version 1 has one)`,
        );
      }
      return decodeBody(id, seq, laneSeqOf(laneSeqText), body);
    }
  }
  // "2 <laneSeq>[ <tag>]"
  if (meta.charCodeAt(0) !== 50 || (meta.length > 1 && meta.charCodeAt(1) !== 32)) {
    return new FrameDecodeError(
      id,
      `unknown encoding version ${JSON.stringify(meta.split(' ', 1)[0])} in field "m" (this build reads "${FRAME_ENCODING_VERSION}")`,
    );
  }
  const space = meta.indexOf(' ', 2);
  return decodeBody(id, seq, laneSeqOf(space < 0 ? meta.slice(2) : meta.slice(2, space)), body);
}

/** The laneSeq written in an entry, or `undefined` when it is not a positive integer. */
function laneSeqOf(text: string | undefined): number | undefined {
  const laneSeq = Number(text);
  return text !== undefined && text !== '' && Number.isSafeInteger(laneSeq) && laneSeq >= 1
    ? laneSeq
    : undefined;
}

/** The frame of an entry whose id and laneSeq are read: checks and parses the JSON body. */
function decodeBody<P>(
  id: string,
  seq: number,
  laneSeq: number | undefined,
  body: string | undefined,
): EventFrame<P> | FrameDecodeError {
  if (laneSeq === undefined) {
    return new FrameDecodeError(id, 'the laneSeq is not a positive integer');
  }
  if (body === undefined) return new FrameDecodeError(id, 'no event field "e"');
  if (body.includes('\uFFFD')) {
    return new FrameDecodeError(id, 'field "e" holds bytes that are not UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return new FrameDecodeError(id, `field "e" is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return new FrameDecodeError(id, 'field "e" is not a JSON object');
  }
  const event = parsed as Record<string, unknown>;
  if (typeof event.kind !== 'string' || event.kind === '') {
    return new FrameDecodeError(id, '"kind" is not a non-empty string');
  }
  if (typeof event.laneId !== 'string') return new FrameDecodeError(id, '"laneId" is not a string');
  if (typeof event.ts !== 'number' || !Number.isFinite(event.ts)) {
    return new FrameDecodeError(id, '"ts" is not a finite number');
  }
  if (event.runId !== undefined && typeof event.runId !== 'string') {
    return new FrameDecodeError(id, '"runId" is not a string');
  }
  if (event.agentId !== undefined && typeof event.agentId !== 'string') {
    return new FrameDecodeError(id, '"agentId" is not a string');
  }
  if (event.visibility !== undefined && !VISIBILITIES.has(event.visibility)) {
    return new FrameDecodeError(id, `"visibility" is not public, internal or private`);
  }
  const frame = FrameHub.createFrame(
    event as unknown as AgentEvent<P>,
    event.laneId as string,
    seq,
    laneSeq,
    event.ts,
  );
  return frame;
}
