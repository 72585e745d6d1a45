import { mergeMap, type Observable, of } from 'rxjs';
import type { EventClass } from '../src/core/types.js';
import { type PaceTextConfig, paceText } from '../src/operators/paceText.js';
import { defineMarbleSuite } from './types.js';

/**
 * The operator's options as a case states them: a notifier cadence comes from the case's
 * `cadence` input instead, and `chain` wraps the operator between two `mergeMap`s.
 */
type Options = Partial<Omit<PaceTextConfig<string>, 'cadence'>> & {
  cadence?: number;
  chain?: boolean;
};

/** The lane of a value: what comes before `:` (`'1:abc'` is `abc` on lane 1), else `''`. */
export function paceLaneOf(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? '' : value.slice(0, colon);
}

/** The text of a value: after the lane; none for a tool call (`!`) or an end (`.`). */
export function paceTextOf(value: string): string | undefined {
  if (value.startsWith('!') || value.startsWith('.')) return undefined;
  return value.slice(value.indexOf(':') + 1);
}

/** A chunk on the lane of the value it comes from. */
export function paceWithText(value: string, chunk: string): string {
  const lane = paceLaneOf(value);
  return lane === '' ? chunk : `${lane}:${chunk}`;
}

/** A value starting with `.` ends its lane's run. */
export function paceClassify(value: string): EventClass {
  return value.startsWith('.') ? 'terminal' : 'normal';
}

/** The text of a value, except that reading `boom` throws. */
export function paceTextFailingOnBoom(value: string): string | undefined {
  if (value === 'boom') throw new Error('text failed');
  return paceTextOf(value);
}

const base = {
  text: paceTextOf,
  withText: paceWithText,
  key: paceLaneOf,
  classify: paceClassify,
};

export const paceTextSuite = defineMarbleSuite<Options>({
  operator: 'paceText',
  legend:
    'Each input letter stands for a value with a text delta (`1:` puts it on lane 1), a tool call (`!`, no text) or the end of a run (`.`, terminal); each output letter for a chunk of text or a value passed as is. Times are in ms; maxLag is the default, 250 ms.',
  build: (options, inputs) => {
    const { chain, cadence, ...config } = options;
    const operator = paceText<string>({
      ...base,
      ...config,
      cadence: inputs.cadence ?? cadence,
    });
    const source = inputs.source as Observable<string>;
    if (!chain) return source.pipe(operator);
    return source.pipe(
      mergeMap((value) => of(value)),
      operator,
      mergeMap((value) => of(value)),
    );
  },
  cases: [
    {
      title:
        'a burst after a pause is spread evenly over maxLag, the first chunk at once; complete waits for the last chunk',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a|', values: { a: 'abcdef' } } },
      expected: { marble: 'x 99ms y 99ms (z|)', values: { x: 'ab', y: 'cd', z: 'ef' } },
    },
    {
      title:
        'with the default maxLag of 250 ms, the chunks grow so that the last text of a burst is shown 250 ms after it arrived',
      options: { cadence: 50 },
      inputs: { source: { marble: 'a|', values: { a: 'abcdefghijklmnopqrstuvwxyz0123' } } },
      expected: {
        marble: 'u 49ms v 49ms w 49ms x 49ms y 49ms (z|)',
        values: { u: 'abcde', v: 'fghij', w: 'klmno', x: 'pqrst', y: 'uvwxy', z: 'z0123' },
      },
    },
    {
      title:
        'text that comes steadily is shown within one frame of arriving (default cadence: frames, every 16 ms without animation frames)',
      options: {},
      inputs: {
        source: {
          marble: 'a 19ms b 19ms c 19ms d 19ms e|',
          values: { a: 'ab', b: 'cd', c: 'ef', d: 'gh', e: 'ij' },
        },
      },
      expected: {
        marble: 'a 15ms b 19ms c 19ms d 19ms e 19ms (f|)',
        values: { a: 'a', b: 'b', c: 'cd', d: 'ef', e: 'gh', f: 'ij' },
      },
    },
    {
      title: 'a lane that showed nothing for a tick shows new text at once, then paces it',
      options: { cadence: 100 },
      inputs: {
        source: { marble: 'a 299ms b 49ms c|', values: { a: 'ab', b: 'cd', c: 'e' } },
      },
      expected: {
        marble: 'a 99ms b 199ms c 99ms d 99ms (e|)',
        values: { a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' },
      },
    },
    {
      title: 'a value without text passes right after the text before it, never ahead of it',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a-t|', values: { a: 'abcdef', t: '!tool' } } },
      expected: {
        marble: 'x 99ms y 99ms (zt|)',
        values: { x: 'ab', y: 'cd', z: 'ef', t: '!tool' },
      },
    },
    {
      title: 'a value without text and nothing before it in its lane passes at once',
      options: { cadence: 100 },
      inputs: { source: { marble: '-t-|', values: { t: '!tool' } } },
      expected: { marble: '-t-|', values: { t: '!tool' } },
    },
    {
      title: "a terminal value shows its lane's whole backlog at once, then passes",
      options: { cadence: 100 },
      inputs: { source: { marble: 'a-E---|', values: { a: 'abcdef', E: '.end' } } },
      expected: { marble: 'x-(yE)|', values: { x: 'ab', y: 'cdef', E: '.end' } },
    },
    {
      title:
        'lanes are paced each on its own, their chunks interleaved in the order lanes got busy',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a-b|', values: { a: '1:abcdef', b: '2:xy' } } },
      expected: {
        marble: 'a-x 97ms (by) 96ms (c|)',
        values: { a: '1:ab', x: '2:x', b: '1:cd', y: '2:y', c: '1:ef' },
      },
    },
    {
      title: 'a chunk never cuts an emoji or a surrogate pair',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a|', values: { a: 'a👍🏽b👨‍👩‍👧c' } } },
      expected: { marble: 'x 99ms y 99ms (z|)', values: { x: 'a👍🏽', y: 'b👨‍👩‍👧', z: 'c' } },
    },
    {
      title: "unit 'word' shows whole words with the spaces after them",
      options: { cadence: 100, unit: 'word' },
      inputs: { source: { marble: 'a|', values: { a: 'one two three four five six' } } },
      expected: {
        marble: 'x 99ms y 99ms (z|)',
        values: { x: 'one two ', y: 'three four ', z: 'five six' },
      },
    },
    {
      title:
        'a notifier cadence ticks at each emission and is subscribed only while a lane is busy',
      options: {},
      inputs: {
        source: { marble: 'a 19ms |', values: { a: 'abcd' } },
        cadence: { marble: '--t--t--t--t--t', subscriptions: '^-------!' },
      },
      expected: { marble: 'a-b--c--d 11ms |', values: { a: 'a', b: 'b', c: 'c', d: 'd' } },
    },
    {
      title: 'an error shows every backlog at once, then errs',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a 99ms #', values: { a: 'abcdef' }, error: 'boom' } },
      expected: { marble: 'x 99ms (y#)', values: { x: 'ab', y: 'cdef' }, error: 'boom' },
    },
    {
      title: 'a text callback that throws stops the source, shows what was taken, then errs',
      options: { cadence: 100, text: paceTextFailingOnBoom },
      inputs: {
        source: {
          marble: 'a-b-c',
          values: { a: 'abcdef', b: 'boom', c: 'gh' },
          subscriptions: '^-!',
        },
      },
      expected: {
        marble: 'x-(y#)',
        values: { x: 'ab', y: 'cdef' },
        error: new Error('text failed'),
      },
    },
    {
      title: 'unsubscribing early stops the cadence and unsubscribes the source',
      options: { cadence: 100 },
      inputs: { source: { marble: 'a', values: { a: 'abcdef' }, subscriptions: '^ 149ms !' } },
      unsub: '^ 149ms !',
      expected: { marble: 'x 99ms y', values: { x: 'ab', y: 'cd' } },
    },
    {
      title: 'an unsubscription travels through mergeMap before and after the operator',
      options: { cadence: 100, chain: true },
      inputs: { source: { marble: 'a', values: { a: 'abcdef' }, subscriptions: '^ 49ms !' } },
      unsub: '^ 49ms !',
      expected: { marble: 'x', values: { x: 'ab' } },
    },
    {
      title: 'never stays silent',
      options: {},
      inputs: { source: { marble: '-', subscriptions: '^' } },
      expected: { marble: '-' },
    },
    {
      title: 'empty completes at once',
      options: {},
      inputs: { source: { marble: '|', subscriptions: '(^!)' } },
      expected: { marble: '|' },
    },
  ],
});
