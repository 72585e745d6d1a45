import type { Observable } from 'rxjs';
import type { OverflowNotice, OverflowPolicyName } from '../src/core/types.js';
import { coalesce, QueueOverflowError } from '../src/core/types.js';
import { type BoundedQueueConfig, boundedQueue } from '../src/operators/boundedQueue.js';
import { CREDITS, classifyLetter, concatText, LETTER_LEGEND } from './fixtures.js';
import { defineMarbleSuite } from './types.js';

type Options = Omit<BoundedQueueConfig<unknown>, 'demand' | 'flushOn' | 'onOverflow'>;

/** A notice as the queue reports it. */
export function notice(
  policy: OverflowPolicyName,
  dropped: number,
  merged: number,
  first?: unknown,
  last?: unknown,
): OverflowNotice<unknown> {
  const result: OverflowNotice<unknown> = { policy, dropped, merged, terminalPreserved: true };
  if (dropped > 0) {
    result.first = first;
    result.last = last;
  }
  return result;
}

export const boundedQueueSuite = defineMarbleSuite<Options>({
  operator: 'boundedQueue',
  legend: `${LETTER_LEGEND} Demand digits grant that many credits.`,
  build: (options, inputs, hooks) =>
    (inputs.source as Observable<unknown>).pipe(
      boundedQueue({
        ...options,
        demand: inputs.demand as Observable<number> | undefined,
        flushOn: inputs.flushOn,
        onOverflow: hooks.onOverflow,
      }),
    ),
  cases: [
    {
      title: 'without demand or flushOn, values that keep up pass straight through',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: { source: { marble: '-a-b-c-|', subscriptions: '^------!' } },
      expected: { marble: '-a-b-c-|' },
    },
    {
      title: 'a synchronous burst larger than the queue loses its oldest values under drop-oldest',
      options: { capacity: 2, overflow: 'drop-oldest' },
      inputs: { source: { marble: '-(abcd)-|' } },
      expected: { marble: '-(cd)---|' },
      notices: { marble: '-n', values: { n: notice('drop-oldest', 2, 0, 'a', 'b') } },
      dropped: ['a', 'b'],
    },
    {
      title: 'drop-oldest evicts the oldest queued values while the consumer grants no credit',
      options: { capacity: 2, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c-d-|', subscriptions: '^--------!' },
        demand: { marble: '----------1-1', values: CREDITS, subscriptions: '^-----------!' },
      },
      expected: { marble: '----------c-(d|)' },
      notices: { marble: '----------n', values: { n: notice('drop-oldest', 2, 0, 'a', 'b') } },
      dropped: ['a', 'b'],
    },
    {
      title: 'drop-incoming rejects the values arriving at a full queue, never a queued one',
      options: { capacity: 2, overflow: 'drop-incoming' },
      inputs: {
        source: { marble: '-a-b-c-d-|' },
        demand: { marble: '----------1-1', values: CREDITS },
      },
      expected: { marble: '----------a-(b|)' },
      notices: { marble: '----------n', values: { n: notice('drop-incoming', 2, 0, 'c', 'd') } },
      dropped: ['c', 'd'],
    },
    {
      title:
        'drop-progress evicts progress first, rejects progress when none is queued, keeps the terminal',
      options: { capacity: 3, overflow: 'drop-progress', classify: classifyLetter },
      inputs: {
        source: { marble: '-a-p-b-q-T-|' },
        demand: { marble: '-------------3', values: CREDITS },
      },
      expected: { marble: '-------------(abT|)' },
      notices: { marble: '-------------n', values: { n: notice('drop-progress', 2, 0, 'p', 'q') } },
      dropped: ['p', 'q'],
    },
    {
      title: 'drop-progress without queued progress rejects the newcomer',
      options: { capacity: 3, overflow: 'drop-progress', classify: classifyLetter },
      inputs: {
        source: { marble: '-a-b-c-|' },
        demand: { marble: '--------2', values: CREDITS },
      },
      expected: { marble: '--------(ab|)' },
      notices: { marble: '--------n', values: { n: notice('drop-progress', 1, 0, 'c', 'c') } },
      dropped: ['c'],
    },
    {
      title:
        "'error' delivers what is queued, then errors with QueueOverflowError and unsubscribes the source",
      options: { capacity: 2, overflow: 'error' },
      inputs: {
        source: { marble: '-a-b-c-d-|', subscriptions: '^----!' },
        demand: { marble: '---------2', values: CREDITS, subscriptions: '^--------!' },
      },
      expected: {
        marble: '---------(ab#)',
        error: new QueueOverflowError(notice('error', 1, 0, 'c', 'c'), 2),
      },
      dropped: ['c'],
    },
    {
      title: 'coalesce merges a progress flood into the newest queued progress value',
      options: { capacity: 3, overflow: coalesce(concatText), classify: classifyLetter },
      inputs: {
        source: { marble: '-a-p-q-r-|' },
        demand: { marble: '----------2', values: CREDITS },
      },
      expected: { marble: '----------(xy|)', values: { x: 'a', y: 'pqr' } },
      notices: { marble: '----------n', values: { n: notice('coalesce', 0, 2) } },
    },
    {
      title: 'coalesce never merges across a normal value: it drops the oldest progress instead',
      options: { capacity: 3, overflow: coalesce(concatText), classify: classifyLetter },
      inputs: {
        source: { marble: '-p-a-q-|' },
        demand: { marble: '--------2', values: CREDITS },
      },
      expected: { marble: '--------(aq|)' },
      notices: { marble: '--------n', values: { n: notice('coalesce', 1, 0, 'p', 'p') } },
      dropped: ['p'],
    },
    {
      title: 'coalesce with a key merges only values of the same key',
      options: {
        capacity: 3,
        overflow: coalesce(concatText, (value) => String(value).charAt(0)),
        classify: classifyLetter,
      },
      inputs: {
        source: {
          marble: '-a-b-c-d-e-f-|',
          values: { a: 'p1', b: 'q1', c: 'q2', d: 'p2', e: 'q3', f: 'p3' },
        },
        demand: { marble: '--------------2', values: CREDITS },
      },
      expected: { marble: '--------------(xy|)', values: { x: 'p1p2p3', y: 'q1q2q3' } },
      notices: { marble: '--------------n', values: { n: notice('coalesce', 0, 4) } },
    },
    {
      title: 'the terminal reserve keeps a slot free for the terminal value',
      options: { capacity: 2, overflow: 'drop-incoming', classify: classifyLetter },
      inputs: {
        source: { marble: '-a-b-T-|' },
        demand: { marble: '--------2', values: CREDITS },
      },
      expected: { marble: '--------(aT|)' },
      notices: { marble: '--------n', values: { n: notice('drop-incoming', 1, 0, 'b', 'b') } },
      dropped: ['b'],
    },
    {
      title: 'terminal values are admitted beyond capacity rather than lost',
      options: { capacity: 1, overflow: 'drop-incoming', classify: classifyLetter },
      inputs: {
        source: { marble: '-a-T-X-|' },
        demand: { marble: '--------3', values: CREDITS },
      },
      expected: { marble: '--------(aTX|)' },
    },
    {
      title: 'credits granted before values arrive are spent as values come, and accumulate',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c-d-|' },
        demand: { marble: '2-------1-1', values: CREDITS },
      },
      expected: { marble: '-a-b----c-(d|)' },
    },
    {
      title: 'infinite demand turns the queue into a pass-through',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '-a-(bc)-d-|' },
        demand: { marble: 'i', values: CREDITS },
      },
      expected: { marble: '-a-(bc)-d-|' },
    },
    {
      title: 'a void demand emission grants one credit',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-|' },
        demand: { marble: '------vv', values: CREDITS },
      },
      expected: { marble: '------a(b|)' },
    },
    {
      title: 'each flushOn tick delivers everything queued at that moment',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c----d-|', subscriptions: '^-----------!' },
        flushOn: { marble: '--x---x----x--', subscriptions: '^-----------!' },
      },
      expected: { marble: '--a---(bc)-d|' },
    },
    {
      title: 'complete waits for the queued values, and needs no credit',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b|' },
        demand: { marble: '-------1-1', values: CREDITS },
      },
      expected: { marble: '-------a-(b|)' },
    },
    {
      title: 'an error waits for the values queued before it, and needs no credit',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-#', error: 'boom' },
        demand: { marble: '-------1-1', values: CREDITS },
      },
      expected: { marble: '-------a-(b#)', error: 'boom' },
    },
    {
      title: 'an error of the demand notifier errors the stream at once',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c-|', subscriptions: '^----!' },
        demand: { marble: '--1--#', values: CREDITS, error: 'demand failed' },
      },
      expected: { marble: '--a--#', error: 'demand failed' },
    },
    {
      title: 'unsubscribing early stops delivery and unsubscribes the source and the demand',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c-d-|', subscriptions: '^-----!' },
        demand: { marble: '1-------1', values: CREDITS, subscriptions: '^-----!' },
      },
      unsub: '------!',
      expected: { marble: '-a-----' },
    },
    {
      title: 'unsubscribing early unsubscribes the flushOn notifier',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-a-b-c-d-|', subscriptions: '^---!' },
        flushOn: { marble: '--x--x--x--x', subscriptions: '^---!' },
      },
      unsub: '----!',
      expected: { marble: '--a-' },
    },
    {
      title: 'never stays silent',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: { source: { marble: '-', subscriptions: '^' } },
      expected: { marble: '-' },
    },
    {
      title: 'empty completes at once',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: { source: { marble: '|', subscriptions: '(^!)' } },
      expected: { marble: '|' },
    },
    {
      title: 'an error with nothing queued passes at once',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: { source: { marble: '#', error: 'boom', subscriptions: '(^!)' } },
      expected: { marble: '#', error: 'boom' },
    },
    {
      title: 'a never-ending source keeps delivering',
      options: { capacity: 4, overflow: 'drop-oldest' },
      inputs: { source: { marble: '-a-b-c-d-', subscriptions: '^' } },
      expected: { marble: '-a-b-c-d-' },
    },
  ],
});
