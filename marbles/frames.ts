import { type FramesConfig, frames } from '../src/operators/frames.js';
import { defineMarbleSuite } from './types.js';

export const framesSuite = defineMarbleSuite<FramesConfig>({
  operator: 'frames',
  legend:
    'Where there are no animation frames (Node, server rendering, tests). Each letter is a tick; its value is the time on the scheduler, in ms.',
  build: (options) => frames(options),
  cases: [
    {
      title: 'without animation frames, a tick every 16 ms by default',
      options: {},
      inputs: {},
      unsub: '^ 49ms !',
      expected: { marble: '16ms a 15ms b 15ms c', values: { a: 16, b: 32, c: 48 } },
    },
    {
      title: 'interval sets the ms between ticks',
      options: { interval: 5 },
      inputs: {},
      unsub: '^ 15ms !',
      expected: { marble: '5ms a 4ms b 4ms c', values: { a: 5, b: 10, c: 15 } },
    },
  ],
});
