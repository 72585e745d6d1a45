// The vitest configuration StrykerJS runs (see stryker.config.mjs): the project's, with the specs
// narrowed to one test folder, the mirror of the source folder being mutated.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const testDir = process.env.MUTATION_TEST_DIR ?? 'test';

export default defineConfig({
  ...base,
  test: { ...base.test, include: [`${testDir}/**/*.spec.ts`] },
});
