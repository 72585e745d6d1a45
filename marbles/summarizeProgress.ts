import { mergeMap, type Observable, of } from 'rxjs';
import {
  type SummarizeProgressConfig,
  summarizeProgress,
} from '../src/operators/summarizeProgress.js';
import { classifyLetter, concatText, LETTER_LEGEND } from './fixtures.js';
import { defineMarbleSuite } from './types.js';

/**
 * The operator's options as a case states them: a notifier window comes from the case's
 * `window` input instead. `chain` wraps the operator between two `mergeMap`s, to show that an
 * unsubscription travels through the chain.
 */
type Options = Omit<SummarizeProgressConfig<unknown>, 'window'> & {
  window?: number;
  chain?: boolean;
};

/** The lane of a lettered value: the digit after the letter (`'p1'` is a `p` on lane 1). */
export function laneOf(value: unknown): string {
  return String(value).charAt(1);
}

/** The letter and the lane (`'p1'`): merges only values of one kind on one lane. */
export function kindAndLane(value: unknown): string {
  return String(value).slice(0, 2);
}

/** Concatenation, except that merging `q1` throws (a merge function that fails). */
export function concatFailingOnQ1(acc: unknown, next: unknown): unknown {
  if (next === 'q1') throw new Error('merge failed');
  return concatText(acc, next);
}

/** The lane, except that the key of `x1` throws (a key function that fails). */
export function laneFailingOnX1(value: unknown): string {
  if (value === 'x1') throw new Error('key failed');
  return laneOf(value);
}

/** A classifier that answers something that is not a class for `z1`. */
export function classifyBogusZ1(value: unknown): ReturnType<typeof classifyLetter> {
  if (value === 'z1') return 'bogus' as ReturnType<typeof classifyLetter>;
  return classifyLetter(value);
}

const base = { classify: classifyLetter, merge: concatText, key: laneOf };

export const summarizeProgressSuite = defineMarbleSuite<Options>({
  operator: 'summarizeProgress',
  legend: `${LETTER_LEGEND} The digit after a letter is its lane: the key unless a case says otherwise. Merging concatenates, so a summary spells every value it stands for. Time windows are in frames.`,
  build: (options, inputs) => {
    const { chain, window, ...config } = options;
    const operator = summarizeProgress<unknown>({ ...config, window: inputs.window ?? window });
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
      title: 'progress of one key is merged until the window, counted from its first value, closes',
      options: { ...base, window: 4 },
      inputs: {
        source: { marble: '-p-q-----r-|', values: { p: 'p1', q: 'q1', r: 'r1' } },
      },
      expected: { marble: '-----x-----(r|)', values: { x: 'p1q1', r: 'r1' } },
    },
    {
      title: 'each key has its own window, so a key that goes quiet is flushed on time',
      options: { ...base, window: 4 },
      inputs: {
        source: { marble: '-pqpq-----|', values: { p: 'p1', q: 'q2' } },
      },
      expected: { marble: '-----xy---|', values: { x: 'p1p1', y: 'q2q2' } },
    },
    {
      title: 'the default window merges a synchronous burst and holds nothing longer',
      options: { ...base },
      inputs: {
        source: { marble: '-(pqr)-p-|', values: { p: 'p1', q: 'q1', r: 'r1' } },
      },
      expected: { marble: '-x-----p-|', values: { x: 'p1q1r1', p: 'p1' } },
    },
    {
      title:
        'a notifier window is subscribed while something is pending; its emission flushes the summary',
      options: { ...base },
      inputs: {
        source: { marble: '-p-q------r---|', values: { p: 'p1', q: 'q1', r: 'r1' } },
        window: { marble: '---t', subscriptions: ['-^--!', '----------^--!'] },
      },
      expected: { marble: '----x--------r|', values: { x: 'p1q1', r: 'r1' } },
    },
    {
      title: 'a notifier emission flushes every pending key, in the order of their first values',
      options: { ...base },
      inputs: {
        source: { marble: '-p-q------|', values: { p: 'p1', q: 'q2' } },
        window: { marble: '----t', subscriptions: '-^---!' },
      },
      expected: { marble: '-----(xy)-|', values: { x: 'p1', y: 'q2' } },
    },
    {
      title: 'a notifier that completes without emitting closes the window as well',
      options: { ...base },
      inputs: {
        source: { marble: '-p-q---|', values: { p: 'p1', q: 'q1' } },
        window: { marble: '----|', subscriptions: '-^---!' },
      },
      expected: { marble: '-----x-|', values: { x: 'p1q1' } },
    },
    {
      title:
        'leading: the first value of a window is emitted at once, the rest merged until the window closes',
      options: { ...base, window: 4, leading: true },
      inputs: {
        source: { marble: '-p-q-r------s-|', values: { p: 'p1', q: 'q1', r: 'r1', s: 's1' } },
      },
      expected: {
        marble: '-p---x------s-|',
        values: { p: 'p1', x: 'q1r1', s: 's1' },
      },
    },
    {
      title:
        'leading with a notifier: the first value at once, the rest at the next emission; an idle window closes',
      options: { ...base, leading: true },
      inputs: {
        source: { marble: '-p-q------r---|', values: { p: 'p1', q: 'q1', r: 'r1' } },
        window: { marble: '----t', subscriptions: ['-^---!', '----------^---!'] },
      },
      expected: { marble: '-p---q----r---|', values: { p: 'p1', q: 'q1', r: 'r1' } },
    },
    {
      title:
        'maxWait closes a window whose notifier does not fire (frames stopped in a hidden tab)',
      options: { ...base, maxWait: 4 },
      inputs: {
        source: { marble: '-p-q------r---|', values: { p: 'p1', q: 'q1', r: 'r1' } },
        window: { marble: '-', subscriptions: ['-^---!', '----------^---!'] },
      },
      expected: { marble: '-----x--------(r|)', values: { x: 'p1q1', r: 'r1' } },
    },
    {
      title: 'a summary never stands for more than maxMerged values',
      options: { ...base, window: Number.POSITIVE_INFINITY, maxMerged: 2 },
      inputs: {
        source: { marble: '-p-q-r-p-|', values: { p: 'p1', q: 'q1', r: 'r1' } },
      },
      expected: { marble: '---x---y-|', values: { x: 'p1q1', y: 'r1p1' } },
    },
    {
      title: 'maxMerged 1 passes every progress value through unmerged',
      options: { ...base, window: 10, maxMerged: 1 },
      inputs: {
        source: { marble: '-pq-|', values: { p: 'p1', q: 'q1' } },
      },
      expected: { marble: '-pq-|', values: { p: 'p1', q: 'q1' } },
    },
    {
      title: 'interleaved keys are merged apart and keep their order within each key',
      options: { ...base, window: 6 },
      inputs: {
        source: {
          marble: '-pqrspqrs---------|',
          values: { p: 'p1', q: 'q2', r: 'r3', s: 's1' },
        },
      },
      expected: {
        marble: '-------xyz----s---|',
        values: { x: 'p1s1p1', y: 'q2q2', z: 'r3r3', s: 's1' },
      },
    },
    {
      title: 'a normal value flushes the summary of its own key first, and only that one',
      options: { ...base, window: 8 },
      inputs: {
        source: { marble: '-p-q-a-------|', values: { p: 'p1', q: 'q2', a: 'a1' } },
      },
      expected: { marble: '-----(pa)--q-|', values: { p: 'p1', a: 'a1', q: 'q2' } },
    },
    {
      title: 'a terminal value follows the summary of its key',
      options: { ...base, window: Number.POSITIVE_INFINITY },
      inputs: {
        source: { marble: '-p-q-A------|', values: { p: 'p1', q: 'q1', A: 'A1' } },
      },
      expected: { marble: '-----(xA)---|', values: { x: 'p1q1', A: 'A1' } },
    },
    {
      title:
        'with a scope, a non-progress value flushes every pending key of its scope (here: the lane)',
      options: {
        ...base,
        key: kindAndLane,
        scope: laneOf,
        window: Number.POSITIVE_INFINITY,
      },
      inputs: {
        source: {
          marble: '-r-p-s-p-A------|',
          values: { r: 'r2', p: 'p1', s: 's1', A: 'A1' },
        },
      },
      expected: {
        marble: '---------(xsA)--(r|)',
        values: { x: 'p1p1', s: 's1', A: 'A1', r: 'r2' },
      },
    },
    {
      title: 'complete flushes every pending summary, in the order of their first values',
      options: { ...base, window: Number.POSITIVE_INFINITY },
      inputs: {
        source: { marble: '-q-p-q-p-|', values: { p: 'p1', q: 'q2' } },
      },
      expected: { marble: '---------(yx|)', values: { x: 'p1p1', y: 'q2q2' } },
    },
    {
      title: 'an error is delivered after every pending summary',
      options: { ...base, window: 10 },
      inputs: {
        source: { marble: '-p-q-#', values: { p: 'p1', q: 'q2' }, error: 'boom' },
      },
      expected: { marble: '-----(pq#)', values: { p: 'p1', q: 'q2' }, error: 'boom' },
    },
    {
      title: 'unsubscribing early unsubscribes the source and the notifier; nothing is emitted',
      options: { ...base },
      inputs: {
        source: { marble: '-p-q-------|', values: { p: 'p1', q: 'q1' }, subscriptions: '^----!' },
        window: { marble: '-----t', subscriptions: '-^---!' },
      },
      unsub: '-----!',
      expected: { marble: '------' },
    },
    {
      title: 'unsubscribing early with a time window leaves no timer behind',
      options: { ...base, window: 3 },
      inputs: {
        source: { marble: '-p-q----|', values: { p: 'p1', q: 'q1' }, subscriptions: '^-!' },
      },
      unsub: '--!',
      expected: { marble: '--' },
    },
    {
      title: 'an unsubscription travels through mergeMap before and after the operator',
      options: { ...base, window: 2, chain: true },
      inputs: {
        source: {
          marble: '-p-a-q------|',
          values: { p: 'p1', q: 'q1', a: 'a1' },
          subscriptions: '^-----!',
        },
      },
      unsub: '------!',
      expected: { marble: '---(pa)', values: { p: 'p1', a: 'a1' } },
    },
    {
      title: 'a merge that throws errors the stream after the pending summaries',
      options: { ...base, merge: concatFailingOnQ1, window: 10 },
      inputs: {
        source: {
          marble: '-p-r-q-|',
          values: { p: 'p1', r: 'r2', q: 'q1' },
          subscriptions: '^----!',
        },
      },
      expected: {
        marble: '-----(pr#)',
        values: { p: 'p1', r: 'r2' },
        error: new Error('merge failed'),
      },
    },
    {
      title: 'a key function that throws errors the stream after the pending summaries',
      options: { ...base, key: laneFailingOnX1, window: 10 },
      inputs: {
        source: { marble: '-p-x-|', values: { p: 'p1', x: 'x1' }, subscriptions: '^--!' },
      },
      expected: { marble: '---(p#)', values: { p: 'p1' }, error: new Error('key failed') },
    },
    {
      title: 'a classifier answering something that is not a class errors the stream',
      options: { ...base, classify: classifyBogusZ1, window: 10 },
      inputs: {
        source: { marble: '-p-z-|', values: { p: 'p1', z: 'z1' }, subscriptions: '^--!' },
      },
      expected: {
        marble: '---(p#)',
        values: { p: 'p1' },
        error: new TypeError(
          `summarizeProgress: classify must return 'terminal', 'progress' or 'normal', got "bogus"`,
        ),
      },
    },
    {
      title: 'values that are not progress pass straight through',
      options: { ...base, window: 5 },
      inputs: { source: { marble: '-a-B-c-|', values: { a: 'a1', B: 'B2', c: 'c1' } } },
      expected: { marble: '-a-B-c-|', values: { a: 'a1', B: 'B2', c: 'c1' } },
    },
    {
      title: 'a hot source is summarized from the subscription on',
      options: { ...base, window: 2 },
      inputs: {
        source: {
          marble: '-p-^-qr-----|',
          values: { p: 'p1', q: 'q1', r: 'r1' },
          hot: true,
          subscriptions: '^--------!',
        },
      },
      expected: { marble: '----x----|', values: { x: 'q1r1' } },
    },
    {
      title: 'never stays silent',
      options: { ...base, window: 3 },
      inputs: { source: { marble: '-' } },
      expected: { marble: '-' },
    },
    {
      title: 'a never-ending source still has its summaries flushed by the window',
      options: { ...base, window: 3 },
      inputs: { source: { marble: '-p-q-----', values: { p: 'p1', q: 'q1' } } },
      expected: { marble: '----x----', values: { x: 'p1q1' } },
    },
    {
      title: 'empty completes at once',
      options: { ...base, window: 3 },
      inputs: { source: { marble: '|' } },
      expected: { marble: '|' },
    },
    {
      title: 'an error with nothing pending passes at once',
      options: { ...base, window: 3 },
      inputs: { source: { marble: '#', error: 'boom' } },
      expected: { marble: '#', error: 'boom' },
    },
  ],
});
