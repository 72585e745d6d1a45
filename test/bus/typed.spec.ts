import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AgentEventMap } from '../../src/bus/agentEvents.js';
import { EventBus } from '../../src/bus/EventBus.js';
import type { TypedFrame } from '../../src/bus/typed.js';
import type { EventFrame } from '../../src/bus/types.js';

interface ToolCall {
  name: string;
  args: Record<string, unknown>;
}

interface MyEvents extends AgentEventMap {
  'tool.call': ToolCall;
  'tool.result': { ok: boolean };
}

describe('EventBus.typed', () => {
  it('publish checks each payload against its kind', () => {
    const bus = EventBus.typed<MyEvents>();
    const frame = bus.publish({ kind: 'tool.call', runId: 'r', payload: { name: 's', args: {} } });
    expectTypeOf(frame.kind).toEqualTypeOf<'tool.call'>();
    expectTypeOf(frame.payload).toEqualTypeOf<ToolCall>();
    expect(frame).toMatchObject({ seq: 1, kind: 'tool.call', payload: { name: 's' } });
    // A terminal kind's payload is free, and may be left out.
    bus.publish({ kind: 'run.finished', runId: 'r' });
    // @ts-expect-error: a tool call's payload needs a name
    bus.publish({ kind: 'tool.call', payload: { args: {} } });
    // @ts-expect-error: a tool result's payload is { ok: boolean }
    bus.publish({ kind: 'tool.result', payload: { ok: 'yes' } });
    // @ts-expect-error: a kind the map does not have
    bus.publish({ kind: 'tool.cal', payload: {} });
    // @ts-expect-error: model.delta carries text
    bus.publish({ kind: 'model.delta', payload: 3 });
    bus.close();
  });

  it('select({ kinds }) narrows the frames it gives', () => {
    const bus = EventBus.typed<MyEvents>();
    const seen: string[] = [];
    bus.select({ kinds: ['tool.call', 'tool.result'] }).subscribe((frame) => {
      expectTypeOf(frame.kind).toEqualTypeOf<'tool.call' | 'tool.result'>();
      if (frame.kind === 'tool.call') {
        expectTypeOf(frame.payload).toEqualTypeOf<ToolCall>();
        seen.push(frame.payload.name);
      } else {
        expectTypeOf(frame.payload).toEqualTypeOf<{ ok: boolean }>();
        seen.push(String(frame.payload.ok));
      }
    });
    bus.select().subscribe((frame) => {
      expectTypeOf(frame).toEqualTypeOf<TypedFrame<MyEvents>>();
    });
    bus.replay({ kinds: ['model.delta'] }).subscribe((frame) => {
      expectTypeOf(frame.payload).toEqualTypeOf<AgentEventMap['model.delta']>();
    });
    bus.publishAll([
      { kind: 'tool.call', payload: { name: 'a', args: {} } },
      { kind: 'tool.result', payload: { ok: true } },
      { kind: 'model.delta', payload: 'text' },
    ]);
    expect(seen).toEqual(['a', 'true']);
    // @ts-expect-error: kinds must be the map's
    bus.select({ kinds: ['nope'] });
  });

  it('an untyped EventBus keeps its types', () => {
    const bus = new EventBus<{ text: string }>();
    const frame = bus.publish({ kind: 'anything', payload: { text: 'x' } });
    expectTypeOf(frame).toEqualTypeOf<EventFrame<{ text: string }>>();
    expectTypeOf(bus.select({ kinds: ['a'] })).toEqualTypeOf<
      import('rxjs').Observable<EventFrame<{ text: string }>>
    >();
  });
});
