/**
 * `npm run docs`: draws every case of every suite in marbles/index.ts into docs/marbles/ and
 * removes diagrams whose case no longer exists.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { marbleSuites } from '../../marbles/index.js';
import { MARBLE_DOCS_DIR, marbleDocFiles } from './marbleDocs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = marbleDocFiles(marbleSuites);

let written = 0;
for (const [path, content] of files) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== content) {
    writeFileSync(target, content);
    written += 1;
  }
}

function listFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

let removed = 0;
for (const path of listFiles(join(root, MARBLE_DOCS_DIR))) {
  const rel = relative(root, path).split('\\').join('/');
  if (!files.has(rel)) {
    rmSync(path);
    removed += 1;
  }
}
for (const name of readdirSync(join(root, MARBLE_DOCS_DIR))) {
  const path = join(root, MARBLE_DOCS_DIR, name);
  if (statSync(path).isDirectory() && readdirSync(path).length === 0)
    rmSync(path, { recursive: true });
}

const cases = marbleSuites.reduce((sum, suite) => sum + suite.cases.length, 0);
console.log(
  `docs: ${marbleSuites.length} suites, ${cases} diagrams in ${MARBLE_DOCS_DIR}/ (${written} written, ${removed} stale removed)`,
);
