import type { Observable } from 'rxjs';
import {
  type AgentEventLike,
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  mergeAgentProgress,
} from '../src/bus/agentEvents.js';
import { coalesce, type OverflowNotice } from '../src/core/types.js';
import { type BoundedQueueConfig, boundedQueue } from '../src/operators/boundedQueue.js';
import { summarizeProgress } from '../src/operators/summarizeProgress.js';
import { defineMarbleSuite } from './types.js';

/**
 * The coalesce policy end to end: `boundedQueue` over agent events with
 * `coalesce(mergeAgentProgress, agentEventKey)` and `classifyAgentEvent`. The queue's `flushOn`
 * comes from the case's `flushOn` input, so each tick shows everything the queue held at once.
 * `summarizeFirst` puts `summarizeProgress` (scope: the run, no time window) in front of it.
 */
type Options = Omit<BoundedQueueConfig<AgentEventLike>, 'flushOn' | 'onOverflow' | 'demand'> & {
  summarizeFirst?: boolean;
};

/** A model delta of run r1. */
function delta(seq: number, text: string, laneId?: string): AgentEventLike {
  return laneId === undefined
    ? { kind: 'model.delta', runId: 'r1', seq, payload: { text } }
    : { kind: 'model.delta', runId: 'r1', laneId, seq, payload: { text } };
}

function usage(seq: number, input: number, output: number): AgentEventLike {
  return { kind: 'usage', runId: 'r1', seq, payload: { input, output } };
}

const toolCall: AgentEventLike = {
  kind: 'tool.call',
  runId: 'r1',
  seq: 4,
  payload: { name: 'ls' },
};
const finished: AgentEventLike = { kind: 'run.finished', runId: 'r1', seq: 99 };

function coalesceNotice(dropped: number, merged: number, first?: unknown): OverflowNotice<unknown> {
  const result: OverflowNotice<unknown> = {
    policy: 'coalesce',
    dropped,
    merged,
    terminalPreserved: true,
  };
  if (dropped > 0) {
    result.first = first;
    result.last = first;
  }
  return result;
}

const agentQueue = (capacity: number): Options => ({
  capacity,
  overflow: coalesce(mergeAgentProgress, agentEventKey),
  classify: classifyAgentEvent,
});

export const agentEventsSuite = defineMarbleSuite<Options>({
  operator: 'mergeAgentProgress',
  legend:
    'Agent events of run r1: a to f are model.delta (on lane main unless a case gives b and d lane sub), u and v usage, n a tool.call (normal), T run.finished (terminal); each carries a seq. The queue is boundedQueue({ capacity, overflow: coalesce(mergeAgentProgress, agentEventKey), classify: classifyAgentEvent, flushOn }); a merged value carries summary: { count, firstSeq, lastSeq }.',
  build: (options, inputs, hooks) => {
    const { summarizeFirst, ...config } = options;
    const queue = boundedQueue<AgentEventLike>({
      ...config,
      flushOn: inputs.flushOn,
      onOverflow: hooks.onOverflow,
    });
    const source = inputs.source as Observable<AgentEventLike>;
    if (!summarizeFirst) return source.pipe(queue);
    return source.pipe(
      summarizeProgress<AgentEventLike>({
        classify: classifyAgentEvent,
        key: agentEventKey,
        scope: agentEventScope,
        merge: mergeAgentProgress,
        window: Number.POSITIVE_INFINITY,
      }),
      queue,
    );
  },
  cases: [
    {
      title:
        'under a flood of deltas the queue keeps every character and the terminal, within capacity',
      options: agentQueue(3),
      inputs: {
        source: {
          marble: '-(abcdef)-T------|',
          values: {
            a: delta(1, 'Hel'),
            b: delta(2, 'lo'),
            c: delta(3, ' '),
            d: delta(4, 'wor'),
            e: delta(5, 'ld'),
            f: delta(6, '!'),
            T: finished,
          },
        },
        flushOn: { marble: '-----------t' },
      },
      expected: {
        marble: '-----------(abT)-|',
        values: {
          a: delta(1, 'Hel'),
          b: { ...delta(6, 'lo world!'), summary: { count: 5, firstSeq: 2, lastSeq: 6 } },
          T: finished,
        },
      },
      notices: { marble: '-----------n', values: { n: coalesceNotice(0, 4) } },
    },
    {
      title:
        'deltas merge per lane, usage adds up, and the normal and terminal events are all kept',
      options: agentQueue(6),
      inputs: {
        source: {
          marble: '-(nabucdevf)-T---------|',
          values: {
            n: toolCall,
            a: delta(5, 'A1 ', 'main'),
            b: delta(6, 'B1 ', 'sub'),
            u: usage(7, 10, 1),
            c: delta(8, 'A2 '),
            d: delta(9, 'B2', 'sub'),
            e: delta(10, 'A3 '),
            v: usage(11, 5, 2),
            f: delta(12, 'A4'),
            T: finished,
          },
        },
        flushOn: { marble: '--------------t' },
      },
      expected: {
        marble: '--------------(nabucT)-|',
        values: {
          n: toolCall,
          a: delta(5, 'A1 ', 'main'),
          b: { ...delta(9, 'B1 B2', 'sub'), summary: { count: 2, firstSeq: 6, lastSeq: 9 } },
          u: {
            ...usage(11, 15, 3),
            summary: { count: 2, firstSeq: 7, lastSeq: 11 },
          },
          c: { ...delta(12, 'A2 A3 A4'), summary: { count: 3, firstSeq: 8, lastSeq: 12 } },
          T: finished,
        },
      },
      notices: { marble: '--------------n', values: { n: coalesceNotice(0, 4) } },
    },
    {
      title:
        'a normal event arriving at a full queue evicts the oldest delta, and the notice names it',
      options: agentQueue(3),
      inputs: {
        source: {
          marble: '-(abcn)-T-----|',
          values: {
            a: delta(1, 'Hel'),
            b: delta(2, 'lo'),
            c: delta(3, '!'),
            n: toolCall,
            T: finished,
          },
        },
        flushOn: { marble: '---------t' },
      },
      expected: {
        marble: '---------(bnT)|',
        values: {
          b: { ...delta(3, 'lo!'), summary: { count: 2, firstSeq: 2, lastSeq: 3 } },
          n: toolCall,
          T: finished,
        },
      },
      notices: { marble: '---------n', values: { n: coalesceNotice(1, 1, delta(1, 'Hel')) } },
      dropped: ['a'],
    },
    {
      title:
        'summarizeProgress in front of the queue keeps that delta: the tool call flushes its run first',
      options: { ...agentQueue(3), summarizeFirst: true },
      inputs: {
        source: {
          marble: '-(abcn)-T-----|',
          values: {
            a: delta(1, 'Hel'),
            b: delta(2, 'lo'),
            c: delta(3, '!'),
            n: toolCall,
            T: finished,
          },
        },
        flushOn: { marble: '---------t' },
      },
      expected: {
        marble: '---------(snT)|',
        values: {
          s: { ...delta(3, 'Hello!'), summary: { count: 3, firstSeq: 1, lastSeq: 3 } },
          n: toolCall,
          T: finished,
        },
      },
    },
  ],
});
