import { agentEventsSuite } from './agentEvents.js';
import { batchSuite } from './batch.js';
import { boundedQueueSuite } from './boundedQueue.js';
import { drainWithSuite } from './drainWith.js';
import { framesSuite } from './frames.js';
import { mergeLanesSuite } from './mergeLanes.js';
import { paceTextSuite } from './paceText.js';
import { sequenceLanesSuite } from './sequenceLanes.js';
import { summarizeProgressSuite } from './summarizeProgress.js';
import { takeThroughTerminalSuite } from './takeThroughTerminal.js';
import type { MarbleSuite } from './types.js';

/** Every operator's marble suite: run by test/marbles.spec.ts, drawn by the docs. */
// biome-ignore lint/suspicious/noExplicitAny: suites differ in their option types.
export const marbleSuites: MarbleSuite<any>[] = [
  boundedQueueSuite,
  summarizeProgressSuite,
  takeThroughTerminalSuite,
  agentEventsSuite,
  mergeLanesSuite,
  drainWithSuite,
  sequenceLanesSuite,
  paceTextSuite,
  framesSuite,
  batchSuite,
];
