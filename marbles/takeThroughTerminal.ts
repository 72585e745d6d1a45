import { mergeMap, type Observable, of } from 'rxjs';
import type { Classifier } from '../src/core/types.js';
import { takeThroughTerminal } from '../src/operators/takeThroughTerminal.js';
import { classifyLetter, LETTER_LEGEND } from './fixtures.js';
import { defineMarbleSuite } from './types.js';

interface Options {
  classify: Classifier<unknown>;
  /** Wraps the operator between two `mergeMap`s. */
  chain?: boolean;
}

/** A classifier that throws for `x`. */
export function classifyFailingOnX(value: unknown): ReturnType<typeof classifyLetter> {
  if (value === 'x') throw new Error('classify failed');
  return classifyLetter(value);
}

/** A classifier that answers something that is not a class for `z`. */
export function classifyBogusZ(value: unknown): ReturnType<typeof classifyLetter> {
  if (value === 'z') return 'bogus' as ReturnType<typeof classifyLetter>;
  return classifyLetter(value);
}

export const takeThroughTerminalSuite = defineMarbleSuite<Options>({
  operator: 'takeThroughTerminal',
  legend: LETTER_LEGEND,
  build: (options, inputs) => {
    const source = inputs.source as Observable<unknown>;
    const operator = takeThroughTerminal(options.classify);
    if (!options.chain) return source.pipe(operator);
    return source.pipe(
      mergeMap((value) => of(value)),
      operator,
      mergeMap((value) => of(value)),
    );
  },
  cases: [
    {
      title: 'emits up to and including the first terminal value, then completes and unsubscribes',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-a-p-T-b-U-|', subscriptions: '^----!' } },
      expected: { marble: '-a-p-(T|)' },
    },
    {
      title: 'a terminal first value ends the stream at once',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-T-a-|', subscriptions: '^!' } },
      expected: { marble: '-(T|)' },
    },
    {
      title: 'a source that completes before any terminal completes the result',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-a-p-|', subscriptions: '^----!' } },
      expected: { marble: '-a-p-|' },
    },
    {
      title: 'a source that errors before any terminal errors the result',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-a-#', error: 'boom', subscriptions: '^--!' } },
      expected: { marble: '-a-#', error: 'boom' },
    },
    {
      title: 'a synchronous source is stopped at its terminal value',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '(apTbU|)', subscriptions: '(^!)' } },
      expected: { marble: '(apT|)' },
    },
    {
      title: 'a hot source is taken from the subscription to its first terminal',
      options: { classify: classifyLetter },
      inputs: {
        source: { marble: '-a-T-^-b-T-c-|', hot: true, subscriptions: '^---!' },
      },
      expected: { marble: '--b-(T|)' },
    },
    {
      title: 'unsubscribing early unsubscribes the source',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-a-b-T-|', subscriptions: '^--!' } },
      unsub: '---!',
      expected: { marble: '-a-' },
    },
    {
      title: 'an unsubscription travels through mergeMap before and after the operator',
      options: { classify: classifyLetter, chain: true },
      inputs: { source: { marble: '-a-b-T-|', subscriptions: '^--!' } },
      unsub: '---!',
      expected: { marble: '-a-' },
    },
    {
      title: 'the terminal value completes the stream through a mergeMap chain',
      options: { classify: classifyLetter, chain: true },
      inputs: { source: { marble: '-a-T-b-|', subscriptions: '^--!' } },
      expected: { marble: '-a-(T|)' },
    },
    {
      title: 'a classifier that throws errors the stream and unsubscribes the source',
      options: { classify: classifyFailingOnX },
      inputs: { source: { marble: '-a-x-b-|', subscriptions: '^--!' } },
      expected: { marble: '-a-#', error: new Error('classify failed') },
    },
    {
      title: 'a classifier answering something that is not a class errors the stream',
      options: { classify: classifyBogusZ },
      inputs: { source: { marble: '-a-z-b-|', subscriptions: '^--!' } },
      expected: {
        marble: '-a-#',
        error: new TypeError(
          `takeThroughTerminal: classify must return 'terminal', 'progress' or 'normal', got "bogus"`,
        ),
      },
    },
    {
      title: 'never stays silent',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-' } },
      expected: { marble: '-' },
    },
    {
      title: 'a never-ending source without a terminal keeps emitting',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '-a-p-b-' } },
      expected: { marble: '-a-p-b-' },
    },
    {
      title: 'empty completes at once',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '|' } },
      expected: { marble: '|' },
    },
    {
      title: 'an error passes at once',
      options: { classify: classifyLetter },
      inputs: { source: { marble: '#', error: 'boom' } },
      expected: { marble: '#', error: 'boom' },
    },
  ],
});
