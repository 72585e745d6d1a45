// `npm test`: the typecheck, the linter and the quick specs, run side by side. tsc works on one
// core while vitest's workers use the others, so the three take about as long as the longest
// rather than their sum. The specs' output streams as they run; the typecheck's and the
// linter's are printed after, and the command fails if any of the three failed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** A file of an installed package, found from its package.json (exports maps hide the bins). */
const bin = (pkg, name) => join(dirname(require.resolve(`${pkg}/package.json`)), name);

/** Runs a Node script of a dependency; buffers its output unless `stream` is set. */
function run(label, script, args, { stream = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: stream ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    if (!stream) {
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
    }
    child.on('close', (code, signal) => resolve({ label, code: code ?? 1, signal, output }));
  });
}

const results = await Promise.all([
  run('typecheck (tsc --noEmit -p tsconfig.json)', bin('typescript', 'bin/tsc'), [
    '--noEmit',
    '-p',
    'tsconfig.json',
  ]),
  run('lint (biome check .)', bin('@biomejs/biome', 'bin/biome'), ['check', '.']),
  run('specs (vitest run, TEST_SUITE=fast)', bin('vitest', 'vitest.mjs'), ['run'], {
    stream: true,
    env: { TEST_SUITE: 'fast' },
  }),
]);

let failed = false;
for (const { label, code, signal, output } of results) {
  const outcome = code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`;
  if (code !== 0) failed = true;
  console.log(`\n${label}: ${outcome}`);
  if (code !== 0 && output.trim() !== '') console.log(output.trimEnd());
}
process.exit(failed ? 1 : 0);
