/**
 * `npm run bench`: throughput and heap, each suite beside the peers it is compared with, in one
 * run (timings on a shared machine are noisy: compare ratios within one run, not across runs).
 * A suite is a module in bench/suites exporting `suite: BenchSuite`; add yours to the list.
 * Run with `node --expose-gc` (the npm script does) so heap figures are measured after a GC.
 */
import { suite as boundedQueueSuite } from './suites/boundedQueue.js';
import { suite as consumersSuite } from './suites/consumers.js';
import { suite as dispatchSuite } from './suites/dispatch.js';
import { suite as eventBusSuite } from './suites/eventBus.js';
import { suite as mergeLanesSuite } from './suites/mergeLanes.js';
import { suite as paceTextSuite } from './suites/paceText.js';
import { suite as projectionSuite } from './suites/projection.js';
import { suite as redisSuite } from './suites/redis.js';
import { suite as sinksSuite } from './suites/sinks.js';
import { suite as summarizeProgressSuite } from './suites/summarizeProgress.js';
import { suite as textViewSuite } from './suites/textView.js';
import type { BenchSuite } from './suites/types.js';
import { suite as workersSuite } from './suites/workers.js';

const suites: BenchSuite[] = [
  boundedQueueSuite,
  mergeLanesSuite,
  eventBusSuite,
  summarizeProgressSuite,
  paceTextSuite,
  textViewSuite,
  consumersSuite,
  dispatchSuite,
  redisSuite,
  projectionSuite,
  sinksSuite,
  workersSuite,
];

const only = process.argv[2];
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
for (const suite of suites) {
  if (only !== undefined && suite.name !== only) continue;
  console.log(`\n## ${suite.name}: ${suite.title}\n`);
  await suite.run();
}
