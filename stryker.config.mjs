// Mutation testing of one source folder: `npm run mutation -- src/core`.
//
// Run through npm (or `node stryker.config.mjs <folder> [stryker options]`), this file starts
// StrykerJS on itself with the folder; read by `stryker run`, it is the configuration. The folder's
// .ts files are mutated; the specs run are those under the mirrored test folder (src/core ->
// test/core, through vitest.mutation.config.ts), narrowed further by vitest's related-file selection and Stryker's per-test coverage.
// Reports (HTML, JSON) and the incremental file go to reports/mutation/<folder>/ (gitignored):
// a re-run only tests the mutants whose code changed. It reuses a survivor's result even when new
// specs would kill it: after adding tests, re-run with `--force` (any Stryker option may follow the
// folder, e.g. `npm run mutation -- src/core --force --mutate src/core/laneOrder.ts`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const launched = process.argv[1] !== undefined && path.resolve(process.argv[1]) === self;

if (launched) {
  const [folder = 'src/core', ...rest] = process.argv.slice(2);
  // StrykerJS lives in tools/mutation (installed there on first use), so that the project's own
  // `npm ci` stays small; its vitest runner finds the project's vitest up the folder tree.
  const tools = path.join(path.dirname(self), 'tools/mutation');
  const stryker = path.join(tools, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  if (!existsSync(stryker)) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const installed = spawnSync(npm, ['ci', '--prefix', tools, '--no-audit', '--no-fund'], {
      stdio: 'inherit',
    });
    if (installed.status !== 0) process.exit(installed.status ?? 1);
  }
  const result = spawnSync(process.execPath, [stryker, 'run', self, ...rest], {
    stdio: 'inherit',
    env: { ...process.env, MUTATION_FOLDER: folder },
  });
  process.exit(result.status ?? 1);
}

const folder = (process.env.MUTATION_FOLDER ?? 'src/core').replace(/\\/g, '/').replace(/\/+$/, '');
if (!/^src(\/|$)/.test(folder) || !existsSync(path.join(path.dirname(self), folder))) {
  throw new Error(`mutation: expected a folder under src/, got ${JSON.stringify(folder)}`);
}
const testDir = folder.replace(/^src/, 'test');
// Read by vitest.mutation.config.ts, in this process and in the test runners it starts.
process.env.MUTATION_TEST_DIR = testDir;
const reportDir = `reports/mutation/${folder.replace(/\//g, '-')}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: [`${folder}/**/*.ts`, '!**/*.d.ts'],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `${reportDir}/incremental.json`,
  ignorePatterns: [
    'dist',
    'coverage',
    'artifacts',
    'reports',
    'docs',
    'examples',
    'bench/workers',
    'tools',
    '.prof',
  ],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${reportDir}/index.html` },
  jsonReporter: { fileName: `${reportDir}/report.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  timeoutMS: 5000,
  thresholds: { high: 95, low: 90, break: null },
};
