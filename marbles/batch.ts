import type { Observable } from 'rxjs';
import { type BatchConfig, batch } from '../src/operators/batch.js';
import { classifyLetter, LETTER_LEGEND } from './fixtures.js';
import { classifyFailingOnX } from './takeThroughTerminal.js';
import { defineMarbleSuite } from './types.js';

type Options = Omit<BatchConfig<unknown>, 'scheduler'>;

export const batchSuite = defineMarbleSuite<Options>({
  operator: 'batch',
  legend: `${LETTER_LEGEND} x, y and z are the arrays emitted. One dash is 1 ms.`,
  build: (options, inputs) => (inputs.source as Observable<unknown>).pipe(batch(options)),
  cases: [
    {
      title: 'a batch is emitted as soon as it holds maxSize values',
      options: { maxSize: 3, maxWait: Number.POSITIVE_INFINITY },
      inputs: { source: { marble: '-a-b-c-d-e-f-|' } },
      expected: {
        marble: '-----x-----y-|',
        values: { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'] },
      },
    },
    {
      title: 'a batch is emitted maxWait after its first value, however few values it holds',
      options: { maxSize: 10, maxWait: 4 },
      inputs: { source: { marble: '-a-b--------c-------|' } },
      expected: {
        marble: '-----x----------y---|',
        values: { x: ['a', 'b'], y: ['c'] },
      },
    },
    {
      title: 'a terminal value closes the batch it joins, last in it; complete flushes the rest',
      options: { maxSize: 5, maxWait: Number.POSITIVE_INFINITY, classify: classifyLetter },
      inputs: { source: { marble: '-a-b-T-c-d-|' } },
      expected: {
        marble: '-----x-----(y|)',
        values: { x: ['a', 'b', 'T'], y: ['c', 'd'] },
      },
    },
    {
      title: 'an error is delivered after the batch pending when it came',
      options: { maxSize: 5, maxWait: 10 },
      inputs: { source: { marble: '-a-b-#', error: 'boom' } },
      expected: { marble: '-----(x#)', values: { x: ['a', 'b'] }, error: 'boom' },
    },
    {
      title: 'a classifier that throws errors the stream after the values batched before it',
      options: { maxSize: 5, maxWait: 10, classify: classifyFailingOnX },
      inputs: { source: { marble: '-a-x-b-|', subscriptions: '^--!' } },
      expected: {
        marble: '---(y#)',
        values: { y: ['a'] },
        error: new Error('classify failed'),
      },
    },
    {
      title: 'never stays silent: no empty batch is ever emitted',
      options: { maxSize: 2, maxWait: 3 },
      inputs: { source: { marble: '-' } },
      expected: { marble: '-' },
    },
    {
      title: 'empty completes at once',
      options: { maxSize: 2, maxWait: 3 },
      inputs: { source: { marble: '|' } },
      expected: { marble: '|' },
    },
    {
      title: 'unsubscribing early drops the pending batch and cancels its timer',
      options: { maxSize: 5, maxWait: 6 },
      inputs: { source: { marble: '-a-b-c-|', subscriptions: '^---!' } },
      unsub: '----!',
      expected: { marble: '-----' },
    },
  ],
});
