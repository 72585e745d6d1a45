import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AgentEventLike,
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  DEFAULT_LANE,
  mergeAgentProgress,
  PROGRESS_KINDS,
  type ProgressSummary,
  progressSummaryOf,
  TERMINAL_KINDS,
} from '../../src/bus/agentEvents.js';
import type { Classifier } from '../../src/core/types.js';

describe('classifyAgentEvent', () => {
  it.each(['run.finished', 'run.error', 'run.cancelled'])('%s is terminal', (kind) => {
    expect(classifyAgentEvent({ kind })).toBe('terminal');
  });
  it.each(['model.delta', 'usage', 'cost', 'stats'])('%s is progress', (kind) => {
    expect(classifyAgentEvent({ kind })).toBe('progress');
  });
  it.each(['tool.call', 'run.started', 'run', 'Run.Finished', 'model.delta ', ''])(
    '%j is normal',
    (kind) => {
      expect(classifyAgentEvent({ kind })).toBe('normal');
    },
  );

  it('exports the kind lists it uses', () => {
    expect(TERMINAL_KINDS).toEqual(['run.finished', 'run.error', 'run.cancelled']);
    expect(PROGRESS_KINDS).toEqual(['model.delta', 'usage', 'cost', 'stats']);
    for (const kind of TERMINAL_KINDS) expect(classifyAgentEvent({ kind })).toBe('terminal');
    for (const kind of PROGRESS_KINDS) expect(classifyAgentEvent({ kind })).toBe('progress');
  });

  it('is a classifier for any event type with a kind', () => {
    interface Frame {
      kind: string;
      seq: number;
      payload?: { text: string };
    }
    expectTypeOf(classifyAgentEvent).toExtend<Classifier<Frame>>();
    expectTypeOf(mergeAgentProgress<Frame & AgentEventLike>).returns.toExtend<Frame>();
  });
});

describe('agentEventKey', () => {
  it('groups by run, lane and kind, with main as the default lane', () => {
    const a = agentEventKey({ kind: 'model.delta', runId: 'r1' });
    expect(agentEventKey({ kind: 'model.delta', runId: 'r1', laneId: DEFAULT_LANE })).toBe(a);
    expect(agentEventKey({ kind: 'model.delta', runId: 'r1', laneId: 'sub' })).not.toBe(a);
    expect(agentEventKey({ kind: 'usage', runId: 'r1' })).not.toBe(a);
    expect(agentEventKey({ kind: 'model.delta', runId: 'r2' })).not.toBe(a);
    expect(agentEventKey({ kind: 'model.delta' })).not.toBe(
      agentEventKey({ kind: 'model.delta', runId: '' }),
    );
  });

  it('never makes two different (run, lane, kind) triples collide', () => {
    const part = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('/', ':', '1:', '/4:main/', '0:'),
    );
    const triple = fc.record({
      runId: fc.option(part, { nil: undefined }),
      laneId: fc.option(part, { nil: undefined }),
      kind: part,
    });
    fc.assert(
      fc.property(triple, triple, (x, y) => {
        const same =
          x.runId === y.runId && (x.laneId ?? 'main') === (y.laneId ?? 'main') && x.kind === y.kind;
        expect(agentEventKey(x) === agentEventKey(y)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });

  it('scopes events by run', () => {
    expect(agentEventScope({ runId: 'r1' })).toBe('r1');
    expect(agentEventScope({})).toBeUndefined();
  });
});

describe('mergeAgentProgress', () => {
  const delta = (
    seq: number,
    text: string,
    extra: Partial<AgentEventLike> = {},
  ): AgentEventLike => ({
    kind: 'model.delta',
    runId: 'r1',
    seq,
    payload: { text },
    ...extra,
  });

  it('concatenates delta text and records what the summary stands for', () => {
    const merged = mergeAgentProgress(delta(3, 'Hel'), delta(4, 'lo'));
    expect(merged).toEqual({
      ...delta(4, 'Hello'),
      summary: { count: 2, firstSeq: 3, lastSeq: 4 },
    });
    const again = mergeAgentProgress(merged, delta(9, '!'));
    expect(again).toEqual({
      ...delta(9, 'Hello!'),
      summary: { count: 3, firstSeq: 3, lastSeq: 9 },
    });
  });

  it('folds two summaries into one that covers both', () => {
    const left = mergeAgentProgress(delta(1, 'a'), delta(2, 'b'));
    const right = mergeAgentProgress(delta(5, 'c'), delta(6, 'd'));
    expect(mergeAgentProgress(left, right)).toEqual({
      ...delta(6, 'abcd'),
      summary: { count: 4, firstSeq: 1, lastSeq: 6 },
    });
  });

  it('omits seqs when the values carry none, and counts anyway', () => {
    const a = { kind: 'model.delta', payload: { text: 'x' } };
    const merged = mergeAgentProgress(mergeAgentProgress(a, a), a);
    expect(merged).toEqual({
      kind: 'model.delta',
      payload: { text: 'xxx' },
      summary: { count: 3 },
    });
    expect('firstSeq' in merged.summary).toBe(false);
  });

  it('keeps the other payload fields of the latest delta, and never mutates its inputs', () => {
    const a = delta(1, 'a', { payload: { text: 'a', role: 'assistant', index: 0 } });
    const b = delta(2, 'b', { payload: { text: 'b', index: 1 } });
    const frozenA = structuredClone(a);
    const frozenB = structuredClone(b);
    expect(mergeAgentProgress(a, b).payload).toEqual({ text: 'ab', role: 'assistant', index: 1 });
    expect(a).toEqual(frozenA);
    expect(b).toEqual(frozenB);
  });

  it('keeps every character whatever the delta payload shape', () => {
    const merge = (x: unknown, y: unknown) =>
      mergeAgentProgress({ kind: 'model.delta', payload: x }, { kind: 'model.delta', payload: y })
        .payload;
    expect(merge('ab', 'cd')).toBe('abcd');
    expect(merge('ab', { text: 'cd' })).toEqual({ text: 'abcd' });
    expect(merge({ text: 'ab' }, 'cd')).toEqual({ text: 'abcd' });
    expect(merge({ text: 'ab' }, undefined)).toEqual({ text: 'ab' });
    expect(merge({ text: 'ab' }, { other: 1 })).toEqual({ text: 'ab', other: 1 });
    expect(merge('ab', undefined)).toBe('ab');
    expect(merge(undefined, { text: 'cd' })).toEqual({ text: 'cd' });
  });

  it('adds the numeric fields of usage and cost, keeping the latest other fields', () => {
    const usage = (seq: number, payload: unknown): AgentEventLike => ({
      kind: 'usage',
      runId: 'r1',
      seq,
      payload,
    });
    expect(
      mergeAgentProgress(
        usage(1, { input: 10, output: 2, model: 'a' }),
        usage(2, { input: 5, output: 1, model: 'b', cached: 3 }),
      ).payload,
    ).toEqual({ input: 15, output: 3, model: 'b', cached: 3 });
    expect(
      mergeAgentProgress({ kind: 'cost', payload: 0.25 }, { kind: 'cost', payload: 0.5 }).payload,
    ).toBe(0.75);
    expect(
      mergeAgentProgress(
        { kind: 'cost', payload: { usd: 0.25 } },
        { kind: 'cost', payload: { usd: 0.5 } },
      ).payload,
    ).toEqual({ usd: 0.75 });
    expect(
      mergeAgentProgress({ kind: 'cost', payload: 1 }, { kind: 'cost', payload: 'n/a' }).payload,
    ).toBe('n/a');
  });

  it('keeps the latest payload of other progress kinds', () => {
    expect(
      mergeAgentProgress(
        { kind: 'stats', payload: { cpu: 1 } },
        { kind: 'stats', payload: { cpu: 2 } },
      ).payload,
    ).toEqual({ cpu: 2 });
  });

  it('never widens visibility', () => {
    const vis = (a?: string, b?: string) =>
      mergeAgentProgress(delta(1, 'a', { visibility: a }), delta(2, 'b', { visibility: b }))
        .visibility;
    expect(vis('private', 'public')).toBe('private');
    expect(vis('public', 'internal')).toBe('internal');
    expect(vis(undefined, 'internal')).toBe('internal');
    expect(vis('internal', undefined)).toBe('internal');
    expect(vis(undefined, undefined)).toBeUndefined();
  });

  it('combines the overflow notices of two frames into one gap', () => {
    const a = {
      ...delta(5, 'a'),
      overflow: {
        policy: 'drop-oldest',
        dropped: 2,
        merged: 0,
        fromSeq: 1,
        toSeq: 2,
        first: 'x',
        last: 'y',
        terminalPreserved: true,
      },
    };
    const b = {
      ...delta(9, 'b'),
      overflow: {
        policy: 'drop-oldest',
        dropped: 1,
        merged: 1,
        fromSeq: 7,
        toSeq: 7,
        first: 'z',
        last: 'z',
        terminalPreserved: true,
      },
    };
    expect((mergeAgentProgress(a, b) as { overflow?: unknown }).overflow).toEqual({
      policy: 'drop-oldest',
      dropped: 3,
      merged: 1,
      fromSeq: 1,
      toSeq: 7,
      first: 'x',
      last: 'z',
      terminalPreserved: true,
    });
    expect(
      (mergeAgentProgress<AgentEventLike>(a, delta(9, 'b')) as { overflow?: unknown }).overflow,
    ).toBe(a.overflow);
    expect(
      (mergeAgentProgress<AgentEventLike>(delta(4, 'a'), b) as { overflow?: unknown }).overflow,
    ).toBe(b.overflow);
  });

  it('tells a summary from a single event', () => {
    const single = delta(7, 'x');
    expect(progressSummaryOf(single)).toEqual<ProgressSummary>({
      count: 1,
      firstSeq: 7,
      lastSeq: 7,
    });
    expect(single.summary).toBeUndefined();
    const merged = mergeAgentProgress(single, delta(8, 'y'));
    expect(progressSummaryOf(merged)).toBe(merged.summary);
  });

  it('is associative on text, count and seq range (so any grouping gives the same summary)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (texts, cut) => {
          const events = texts.map((text, index) => delta(index + 1, text));
          const leftFold = events.reduce((acc, next) => mergeAgentProgress(acc, next));
          const split = 1 + (cut % events.length);
          const head = events.slice(0, split).reduce((acc, next) => mergeAgentProgress(acc, next));
          const tail = events.slice(split);
          const grouped =
            tail.length === 0
              ? head
              : mergeAgentProgress(
                  head,
                  tail.reduce((acc, next) => mergeAgentProgress(acc, next)),
                );
          expect((grouped.payload as { text: string }).text).toBe(texts.join(''));
          expect(progressSummaryOf(grouped)).toEqual(progressSummaryOf(leftFold));
        },
      ),
    );
  });
});
