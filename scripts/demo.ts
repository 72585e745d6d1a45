/**
 * `npm run demo`: each scene shows one part of the library at work and prints what it measured.
 * A scene is a module in scripts/scenes exporting `scene: DemoScene`; add yours to the list.
 */
import { scene as autoscaleScene } from './scenes/autoscale.js';
import { scene as boundedQueueScene } from './scenes/boundedQueue.js';
import { scene as eventBusScene } from './scenes/eventBus.js';
import { scene as mergeLanesScene } from './scenes/mergeLanes.js';
import { scene as summarizeProgressScene } from './scenes/summarizeProgress.js';
import type { DemoScene } from './scenes/types.js';
import { scene as workersScene } from './scenes/workers.js';

const scenes: DemoScene[] = [
  boundedQueueScene,
  mergeLanesScene,
  eventBusScene,
  summarizeProgressScene,
  workersScene,
  autoscaleScene,
];

const only = process.argv[2];
for (const scene of scenes) {
  if (only !== undefined && scene.name !== only) continue;
  console.log(`\n=== ${scene.name}: ${scene.title} ===\n`);
  await scene.run();
}
