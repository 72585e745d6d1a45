import { mergeMap, type Observable, of } from 'rxjs';
import type { Laned } from '../src/core/laneOrder.js';
import { sequenceLanes } from '../src/operators/sequenceLanes.js';
import { defineMarbleSuite } from './types.js';

/** The lane of a two-character value is its first character: `a1` is in lane `a`. */
const laneOfValue = (value: unknown): string => String(value).charAt(0);

/** Throws on `x`: a laneOf callback that fails. */
const throwingLaneOf = (value: unknown): string => {
  if (value === 'x') throw new Error('no lane for x');
  return laneOfValue(value);
};

type Options = { laneOf: (value: unknown) => string; chain?: boolean };

const stamp = (lane: string, laneSeq: number, value: unknown): Laned<unknown> => ({
  lane,
  laneSeq,
  value,
});

const passThrough = mergeMap((value: unknown) => of(value));

const VALUES = { a: 'a1', b: 'b1', c: 'a2', d: 'b2', e: 'a3' };

export const sequenceLanesSuite = defineMarbleSuite<Options>({
  operator: 'sequenceLanes',
  legend: 'Input letters stand for values whose first character is their lane (a1 is in lane a).',
  build: (options, inputs) => {
    const source = inputs.source as Observable<unknown>;
    const { laneOf, chain } = options;
    return chain
      ? source.pipe(passThrough, sequenceLanes(laneOf), passThrough)
      : source.pipe(sequenceLanes(laneOf));
  },
  cases: [
    {
      title: 'stamps each value with its lane and a dense laneSeq per lane, in the same order',
      options: { laneOf: laneOfValue },
      inputs: { source: { marble: '-a-b-c-d-e-|', values: VALUES, subscriptions: '^----------!' } },
      expected: {
        marble: '-A-B-C-D-E-|',
        values: {
          A: stamp('a', 1, 'a1'),
          B: stamp('b', 1, 'b1'),
          C: stamp('a', 2, 'a2'),
          D: stamp('b', 2, 'b2'),
          E: stamp('a', 3, 'a3'),
        },
      },
    },
    {
      title: 'a laneOf that throws errors the stream and unsubscribes the source',
      options: { laneOf: throwingLaneOf },
      inputs: {
        source: { marble: '-a-x-b-|', values: { a: 'a1', x: 'x', b: 'b1' }, subscriptions: '^--!' },
      },
      expected: {
        marble: '-A-#',
        values: { A: stamp('a', 1, 'a1') },
        error: new Error('no lane for x'),
      },
    },
    {
      title: 'a laneOf that returns an empty lane id errors with a TypeError',
      options: { laneOf: () => '' },
      inputs: { source: { marble: '-a-|', subscriptions: '^!' } },
      expected: {
        marble: '-#',
        error: new TypeError('sequenceLanes: laneOf must return a non-empty string, got ""'),
      },
    },
    {
      title: 'an error passes at once',
      options: { laneOf: laneOfValue },
      inputs: { source: { marble: '-a-#', values: VALUES, error: 'boom' } },
      expected: { marble: '-A-#', values: { A: stamp('a', 1, 'a1') }, error: 'boom' },
    },
    {
      title: 'unsubscribing early unsubscribes the source, also through mergeMap chains',
      options: { laneOf: laneOfValue, chain: true },
      inputs: { source: { marble: '-a-b-c-d-|', values: VALUES, subscriptions: '^----!' } },
      unsub: '-----!',
      expected: {
        marble: '-A-B-',
        values: { A: stamp('a', 1, 'a1'), B: stamp('b', 1, 'b1') },
      },
    },
    {
      title: 'never stays silent',
      options: { laneOf: laneOfValue },
      inputs: { source: { marble: '-', subscriptions: '^' } },
      expected: { marble: '-' },
    },
    {
      title: 'empty completes at once',
      options: { laneOf: laneOfValue },
      inputs: { source: { marble: '|', subscriptions: '(^!)' } },
      expected: { marble: '|' },
    },
  ],
});
