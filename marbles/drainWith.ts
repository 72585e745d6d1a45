import { map, mergeMap, type Observable, type ObservableInput, of } from 'rxjs';
import { coalesce, QueueOverflowError } from '../src/core/types.js';
import { type DrainWithConfig, drainWith } from '../src/operators/drainWith.js';
import { notice } from './boundedQueue.js';
import { drainWithWorkerCases } from './drainWithWorkers.js';
import { classifyLetter, concatText, LETTER_LEGEND } from './fixtures.js';
import { defineMarbleSuite } from './types.js';

/**
 * The operator's options as a case states them. The handler is not an option: it is wired by
 * `build` from the case's inputs (see {@link handlerFor}). `handlerThrowsOn` makes the handler
 * throw for that value; `chain` wraps the operator between two `mergeMap`s.
 */
export type Options = Omit<DrainWithConfig<unknown>, 'onOverflow'> & {
  handlerThrowsOn?: string;
  chain?: boolean;
  /** The concurrency is the input named `concurrency` (reactive). */
  reactiveConcurrency?: boolean;
};

/** The error a handler throws for the value named by `handlerThrowsOn`. */
export function handlerError(value: unknown): Error {
  return new Error(`handler failed on ${String(value)}`);
}

/**
 * The handler of a case: the work for value `x` is the input named `inner_x_n` for its attempt n
 * (under `retry`) or `inner_x` when the case has one, else the shared `inner` input, in which the
 * letter `v` stands for the value handled (so `inner: '--v|'` means "two frames of work, then emit
 * the value and complete").
 */
export function handlerFor(
  inputs: Record<string, Observable<unknown>>,
  throwsOn: string | undefined,
): (value: unknown, index: number, attempt: number) => ObservableInput<unknown> {
  return (value, _index, attempt) => {
    if (value === throwsOn) throw handlerError(value);
    const own = inputs[`inner_${String(value)}_${attempt}`] ?? inputs[`inner_${String(value)}`];
    if (own !== undefined) return own;
    const shared = inputs.inner as Observable<unknown>;
    return shared.pipe(map((result) => (result === 'v' ? value : result)));
  };
}

/** The priority of a value such as `'c2'`: the digit after the letter (0 when there is none). */
export function priorityOfDigit(value: unknown): number {
  const digit = Number(String(value).charAt(1));
  return Number.isInteger(digit) ? digit : 0;
}

/** A priority function that throws for `z` and answers 32 (out of range) for `y`. */
export function priorityFailingOnZ(value: unknown): number {
  if (value === 'z') throw new Error('priority failed');
  if (value === 'y') return 32;
  return 0;
}

/** Values with a priority digit: the letter is what the diagrams show. */
const PRIORITIZED = { a: 'a0', b: 'b0', c: 'c2', d: 'd1' };

export const drainWithSuite = defineMarbleSuite<Options>({
  operator: 'drainWith',
  legend: `${LETTER_LEGEND} The handler's work for a value x is the input inner_x (inner_x_n for its attempt n under retry), else inner, where v stands for the value handled. With priorities, the digit after a letter is its priority (higher first). A concurrency input gives the concurrency in force from each of its values on.`,
  build: (options, inputs, hooks) => {
    const { handlerThrowsOn, chain, reactiveConcurrency, ...config } = options;
    const operator = drainWith(handlerFor(inputs, handlerThrowsOn), {
      ...config,
      ...(reactiveConcurrency ? { concurrency: inputs.concurrency as Observable<number> } : {}),
      onOverflow: hooks.onOverflow,
    });
    const source = inputs.source as Observable<unknown>;
    if (!chain) return source.pipe(operator);
    return source.pipe(
      mergeMap((value) => of(value)),
      operator,
      mergeMap((value) => of(value)),
    );
  },
  cases: [
    {
      title: 'with concurrency 1, each value waits for the previous handler to complete',
      options: { capacity: 4, overflow: 'error' },
      inputs: {
        source: { marble: '-a-b-c-|', subscriptions: '^------!' },
        inner: { marble: '--v|', subscriptions: ['-^--!', '----^--!', '-------^--!'] },
      },
      expected: { marble: '---a--b--c|' },
    },
    {
      title: 'with concurrency 3, three handlers run at once and the fourth value waits for a slot',
      options: { capacity: 4, overflow: 'error', concurrency: 3 },
      inputs: {
        source: { marble: '-abcd-----|' },
        inner: { marble: '---v|', subscriptions: ['-^---!', '--^---!', '---^---!', '-----^---!'] },
      },
      expected: { marble: '----abc-d-|' },
    },
    {
      title: 'with concurrency Infinity nothing waits, as with mergeMap',
      options: { capacity: 1, overflow: 'error', concurrency: Number.POSITIVE_INFINITY },
      inputs: {
        source: { marble: '-abcd-----|' },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----abcd--|' },
    },
    {
      title: 'a full queue under drop-oldest loses the oldest waiting value',
      options: { capacity: 2, overflow: 'drop-oldest' },
      inputs: {
        source: { marble: '-abcd---|' },
        inner: { marble: '---v|', subscriptions: ['-^---!', '-----^---!', '---------^---!'] },
      },
      expected: { marble: '----a---c---d|' },
      notices: { marble: '-----n', values: { n: notice('drop-oldest', 1, 0, 'b', 'b') } },
      dropped: ['b'],
    },
    {
      title: 'a full queue under drop-incoming rejects the value arriving',
      options: { capacity: 2, overflow: 'drop-incoming' },
      inputs: {
        source: { marble: '-abcd---|' },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---b---c|' },
      notices: { marble: '-----n', values: { n: notice('drop-incoming', 1, 0, 'd', 'd') } },
      dropped: ['d'],
    },
    {
      title: 'a full queue under drop-progress loses the oldest waiting progress value',
      options: { capacity: 3, overflow: 'drop-progress', classify: classifyLetter },
      inputs: {
        source: { marble: '-apbq---|' },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---b---q|' },
      notices: { marble: '-----n', values: { n: notice('drop-progress', 1, 0, 'p', 'p') } },
      dropped: ['p'],
    },
    {
      title: 'a full queue under coalesce merges progress values that wait',
      options: { capacity: 3, overflow: coalesce(concatText), classify: classifyLetter },
      inputs: {
        source: { marble: '-apqr---|' },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---p---x|', values: { a: 'a', p: 'p', x: 'qr' } },
      notices: { marble: '-----n', values: { n: notice('coalesce', 0, 1) } },
    },
    {
      title:
        "a full queue under 'error' stops the source, handles what waits, then errors with QueueOverflowError",
      options: { capacity: 2, overflow: 'error' },
      inputs: {
        source: { marble: '-abcd---|', subscriptions: '^---!' },
        inner: { marble: '---v|' },
      },
      expected: {
        marble: '----a---b---c#',
        error: new QueueOverflowError(notice('error', 1, 0, 'd', 'd'), 2),
      },
      dropped: ['d'],
    },
    {
      title: 'terminal values are never dropped: the reserve keeps them a slot',
      options: { capacity: 2, overflow: 'drop-incoming', classify: classifyLetter },
      inputs: {
        source: { marble: '-abcT---|' },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---b---T|' },
      notices: { marble: '-----n', values: { n: notice('drop-incoming', 1, 0, 'c', 'c') } },
      dropped: ['c'],
    },
    {
      title: 'a waiting value of higher priority overtakes older ones; FIFO within a priority',
      options: { capacity: 4, overflow: 'error', priority: priorityOfDigit },
      inputs: {
        source: { marble: '-abcd----|', values: PRIORITIZED },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---c---d---b|', values: PRIORITIZED },
    },
    {
      title: 'with priorities, an overflow drops from the lowest priority first',
      options: { capacity: 2, overflow: 'drop-oldest', priority: priorityOfDigit },
      inputs: {
        source: { marble: '-abcd---|', values: PRIORITIZED },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---c---d|', values: PRIORITIZED },
      notices: { marble: '-----n', values: { n: notice('drop-oldest', 1, 0, 'b0', 'b0') } },
      dropped: ['b'],
    },
    {
      title:
        'with priorities, drop-incoming evicts a waiting lower-priority value for a higher one',
      options: { capacity: 1, overflow: 'drop-incoming', priority: priorityOfDigit },
      inputs: {
        source: { marble: '-abc---|', values: PRIORITIZED },
        inner: { marble: '---v|' },
      },
      expected: { marble: '----a---c|', values: PRIORITIZED },
      notices: { marble: '-----n', values: { n: notice('drop-incoming', 1, 0, 'b0', 'b0') } },
      dropped: ['b'],
    },
    {
      title: 'completion waits for the handlers in flight',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '-a|', subscriptions: '^-!' },
        inner: { marble: '----v|', subscriptions: '-^----!' },
      },
      expected: { marble: '-----a|' },
    },
    {
      title: 'a source error waits for the values accepted before it',
      options: { capacity: 2, overflow: 'error' },
      inputs: {
        source: { marble: '-ab#', error: 'boom', subscriptions: '^--!' },
        inner: { marble: '--v|' },
      },
      expected: { marble: '---a--b#', error: 'boom' },
    },
    {
      title: 'a handler erring errors the result at once and cancels the other handlers',
      options: { capacity: 2, overflow: 'error', concurrency: 2 },
      inputs: {
        source: { marble: '-a-b-c-|', subscriptions: '^---!' },
        inner: { marble: '-----v|', subscriptions: '-^--!' },
        inner_b: { marble: '-#', error: 'handler erred', subscriptions: '---^!' },
      },
      expected: { marble: '----#', error: 'handler erred' },
    },
    {
      title: 'a handler that throws errors the result at once',
      options: { capacity: 2, overflow: 'error', concurrency: 2, handlerThrowsOn: 'b' },
      inputs: {
        source: { marble: '-a-b-c-|', subscriptions: '^--!' },
        inner: { marble: '-----v|', subscriptions: '-^-!' },
      },
      expected: { marble: '---#', error: handlerError('b') },
    },
    {
      title: 'a throwing priority stops the source; the values accepted before it are handled',
      options: { capacity: 2, overflow: 'error', priority: priorityFailingOnZ },
      inputs: {
        source: { marble: '-az-b-|', subscriptions: '^-!' },
        inner: { marble: '--v|' },
      },
      expected: { marble: '---a#', error: new Error('priority failed') },
    },
    {
      title: 'a priority out of 0..31 errors the result, naming the option and the value',
      options: { capacity: 2, overflow: 'error', priority: priorityFailingOnZ },
      inputs: {
        source: { marble: '-y-|', subscriptions: '^!' },
        inner: { marble: '--v|', subscriptions: [] },
      },
      expected: {
        marble: '-#',
        error: new RangeError('drainWith: priority must return an integer from 0 to 31, got 32'),
      },
    },
    {
      title: 'unsubscribing early cancels the handler in flight and forgets the waiting values',
      options: { capacity: 2, overflow: 'error' },
      inputs: {
        source: { marble: '-a-b-c-d-|', subscriptions: '^----!' },
        inner: { marble: '--v|', subscriptions: ['-^--!', '----^!'] },
      },
      unsub: '-----!',
      expected: { marble: '---a-' },
    },
    {
      title: 'unsubscription chains are not broken by mergeMap before and after',
      options: { capacity: 2, overflow: 'error', concurrency: 2, chain: true },
      inputs: {
        source: { marble: '-a-b-c-', subscriptions: '^----!' },
        inner: { marble: '-v-|', subscriptions: ['-^--!', '---^-!'] },
      },
      unsub: '-----!',
      expected: { marble: '--a-b' },
    },
    {
      title: 'never stays silent',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '-', subscriptions: '^' },
        inner: { marble: '-v|', subscriptions: [] },
      },
      expected: { marble: '-' },
    },
    {
      title: 'empty completes at once',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '|', subscriptions: '(^!)' },
        inner: { marble: '-v|', subscriptions: [] },
      },
      expected: { marble: '|' },
    },
    {
      title: 'an error with nothing accepted passes at once',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '#', error: 'boom', subscriptions: '(^!)' },
        inner: { marble: '-v|', subscriptions: [] },
      },
      expected: { marble: '#', error: 'boom' },
    },
    {
      title: 'a never-ending source keeps being handled',
      options: { capacity: 1, overflow: 'error' },
      inputs: {
        source: { marble: '-a-b-c-', subscriptions: '^' },
        inner: { marble: '-v|' },
      },
      expected: { marble: '--a-b-c' },
    },
    {
      title: 'a handler may emit many values, all passed on as they come',
      options: { capacity: 1, overflow: 'error', concurrency: 2 },
      inputs: {
        source: { marble: '-a-b----|' },
        inner_a: { marble: '-1--2|' },
        inner_b: { marble: '-3-4|' },
      },
      expected: { marble: '--1-324-|' },
    },
    ...drainWithWorkerCases,
  ],
});
