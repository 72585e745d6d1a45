import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The specs that start real parts (a redis-server, child processes, the packed package) or
 * compile every code block of the docs: they take most of the suite's time. `npm test` runs the
 * others (`TEST_SUITE=fast`), `npm run test:slow` runs these (`TEST_SUITE=slow`), and CI runs
 * both. Without `TEST_SUITE`, vitest runs everything.
 */
const slow = [
  'test/redis/**/*.spec.ts',
  'test/package/**/*.spec.ts',
  'test/projection/redis.spec.ts',
  'test/bus/replayHeap.spec.ts',
  'test/docs/snippets.spec.ts',
  'test/node/sseServer.chromium.spec.ts',
];

const suite = process.env.TEST_SUITE;

export default defineConfig({
  test: {
    include: suite === 'slow' ? slow : ['test/**/*.spec.ts'],
    exclude: suite === 'fast' ? [...configDefaults.exclude, ...slow] : configDefaults.exclude,
    environment: 'node',
    testTimeout: 20000,
    // The quick specs share worker threads and their loaded modules (each spec leaves the state
    // it changes as it found it): the suite's time is then its tests', not 71 module graphs'.
    ...(suite === 'fast' ? { pool: 'threads' as const, isolate: false } : {}),
  },
});
