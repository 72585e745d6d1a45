/**
 * How frames are built: one place, so that every frame (stamped by the in-memory bus, decoded
 * from Redis) has the same fields in the same order and the same hidden class.
 *
 * @packageDocumentation
 */
import type { AgentEvent, EventFrame } from './types.js';

/** A frame under construction (frames are `readonly` once made). */
export type MutableFrame<P = unknown> = { -readonly [K in keyof EventFrame<P>]: EventFrame<P>[K] };

/**
 * Called with `new`, so that V8 sizes frames from the fields it has seen: one allocation, every
 * field inside the object. Adding fields one by one to a literal costs a separate property store
 * that grows as it goes (3-4x slower per frame, most of it in the garbage collector). With
 * `Object.prototype` as its prototype a frame is still a plain object (`constructor === Object`),
 * so `toStrictEqual`, `isPlainObject` and structured clone see no difference.
 */
function StampedFrame(
  this: MutableFrame,
  event: AgentEvent<unknown>,
  laneId: string,
  seq: number,
  laneSeq: number,
  ts: number,
): void {
  this.kind = event.kind;
  // Absent optional fields stay absent (not present as `undefined`).
  if (event.runId !== undefined) this.runId = event.runId;
  if (event.agentId !== undefined) this.agentId = event.agentId;
  this.laneId = laneId;
  if (event.visibility !== undefined) this.visibility = event.visibility;
  if (event.payload !== undefined) this.payload = event.payload;
  this.seq = seq;
  this.laneSeq = laneSeq;
  this.ts = ts;
}
StampedFrame.prototype = Object.prototype;

const Frame = StampedFrame as unknown as new <P>(
  event: AgentEvent<P>,
  laneId: string,
  seq: number,
  laneSeq: number,
  ts: number,
) => EventFrame<P>;

/**
 * The frame of `event`: its `kind`, `runId`, `agentId`, `visibility` and `payload` (only those
 * present), with the given lane and stamps. Any other field of `event` is left out.
 */
export function createFrame<P>(
  event: AgentEvent<P>,
  laneId: string,
  seq: number,
  laneSeq: number,
  ts: number,
): EventFrame<P> {
  return new Frame(event, laneId, seq, laneSeq, ts);
}
