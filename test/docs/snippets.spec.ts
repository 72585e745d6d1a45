import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocksOf, markdownFiles } from './codeBlocks.js';
import { compileBlocks, SNIPPETS_DIR, snippetPath } from './compileBlocks.js';

/*
 * Every TypeScript block of the README and of docs/ compiles, as a user's file importing
 * `rxjs-backpressure` would; blocks tagged `run` are also run and print what the page says.
 * The fence convention is described in test/docs/codeBlocks.ts.
 */

const root = resolve(__dirname, '../..');

const blocks = markdownFiles(root).flatMap((file) => codeBlocksOf(root, file));
const checked = blocks.filter((block) => !block.tags.includes('skip'));

describe('code blocks of the README and docs/', () => {
  it('follow the fence convention, and there are blocks to check', () => {
    expect(checked.length).toBeGreaterThan(30);
    for (const block of blocks.filter((b) => b.tags.includes('run'))) {
      expect(
        block.output,
        `${block.file}:${block.line}: a run block needs an Output: block`,
      ).toBeTypeOf('string');
    }
  });

  describe('compile', () => {
    const loose = (block: CodeBlock): boolean =>
      block.tags.includes('fragment') || block.tags.includes('signature');
    const complete = checked.filter((block) => !loose(block));
    const fragments = checked.filter(loose);
    let results: Map<CodeBlock, string[]> | undefined;
    const resultsOf = (): Map<CodeBlock, string[]> => {
      results ??= new Map([...compileBlocks(complete, false), ...compileBlocks(fragments, true)]);
      return results;
    };

    it.each(checked.map((block) => [`${block.file}:${block.line}`, block] as const))(
      '%s',
      (_where, block) => {
        expect(resultsOf().get(block)).toEqual([]);
      },
      120_000,
    );
  });

  describe('run and print what the page shows', () => {
    const runnable = checked.filter((block) => block.tags.includes('run'));
    it.each(runnable.map((block) => [`${block.file}:${block.line}`, block] as const))(
      '%s',
      (_where, block) => {
        mkdirSync(SNIPPETS_DIR, { recursive: true });
        const file = snippetPath(block);
        // The package's own name points at the sources, as in the compile step.
        const code = block.code
          .replace(/from 'rxjs-backpressure'/g, `from '${join(root, 'src/index.ts')}'`)
          .replace(
            /from 'rxjs-backpressure\/([a-z]+)'/g,
            (_match, entry: string) => `from '${join(root, 'src', entry, 'index.ts')}'`,
          );
        writeFileSync(file, code);
        try {
          const printed = execFileSync(process.execPath, ['--import', 'tsx', file], {
            cwd: root,
            encoding: 'utf8',
            timeout: 60_000,
          });
          expect(printed.trimEnd()).toBe((block.output ?? '').trimEnd());
        } finally {
          rmSync(file, { force: true });
        }
      },
      90_000,
    );
  });
});
