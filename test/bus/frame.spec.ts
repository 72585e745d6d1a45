import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFrame } from '../../src/bus/frame.js';
import type { AgentEvent, EventFrame } from '../../src/bus/types.js';

describe('createFrame', () => {
  it('copies the known fields present on the event, in one order, and adds the stamps', () => {
    const event = {
      payload: { text: 'hi' },
      kind: 'model.delta',
      runId: 'r',
      seq: 99,
      overflow: 'not a notice',
    } as AgentEvent<{ text: string }>;
    const frame = createFrame(event, 'main', 3, 2, 1000);
    expect(frame).toStrictEqual({
      kind: 'model.delta',
      runId: 'r',
      laneId: 'main',
      payload: { text: 'hi' },
      seq: 3,
      laneSeq: 2,
      ts: 1000,
    });
    expect(Object.keys(frame)).toEqual([
      'kind',
      'runId',
      'laneId',
      'payload',
      'seq',
      'laneSeq',
      'ts',
    ]);
    expect(frame.payload).toBe(event.payload);
    expectTypeOf(frame).toEqualTypeOf<EventFrame<{ text: string }>>();
  });

  it('leaves optional fields that are absent or undefined out of the frame', () => {
    const frame = createFrame({ kind: 'k', runId: undefined, visibility: undefined }, 'l', 1, 1, 0);
    expect('runId' in frame).toBe(false);
    expect('visibility' in frame).toBe(false);
    expect(Object.keys(frame)).toEqual(['kind', 'laneId', 'seq', 'laneSeq', 'ts']);
  });

  it('makes plain, writable objects (freezing is the bus option, not the builder)', () => {
    const frame = createFrame({ kind: 'k', agentId: 'a', visibility: 'private' }, 'l', 1, 1, 0);
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(frame.constructor).toBe(Object);
    expect(Object.isFrozen(frame)).toBe(false);
    expect(JSON.parse(JSON.stringify(frame))).toStrictEqual(frame);
    expect({ ...frame, overflow: undefined }).toMatchObject({
      agentId: 'a',
      visibility: 'private',
    });
  });
});
