/**
 * The fenced code blocks of the README and of docs/, and the fence convention that says how the
 * test suite checks each one (test/docs/snippets.spec.ts):
 *
 * - ` ```ts `: a complete module. It compiles on its own, importing what it uses from
 *   `rxjs-backpressure` (and its entries) and `rxjs`, as a user's file would.
 * - ` ```ts fragment `: a piece of a larger program. It compiles with every export of
 *   `rxjs-backpressure` and of `rxjs` it uses but does not import or declare, and with the
 *   names of test/docs/fragmentGlobals.d.ts (`bus`, `events$`, `render`, ...).
 * - ` ```ts signature `: an API's shape, `name<T>(params): Result` per declaration; compiled as
 *   `declare function` declarations, with the names a fragment sees.
 * - ` ```ts browser `, ` ```ts redis `: compiled like the others, but needs a browser or a Redis
 *   server to run (never run by the suite). Tags combine: ` ```ts fragment browser `.
 * - ` ```ts run `: compiled, then run with Node; a ` ```text ` block right after it, whose first
 *   line is `Output:`, is what it must print.
 * - ` ```ts skip `: not compiled, with the reason in the block itself. (None should need it.)
 *
 * Blocks of other languages (`text`, `sh`) are prose and are not checked.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The tags a ` ```ts ` fence may carry after the language. */
export const FENCE_TAGS = ['fragment', 'signature', 'browser', 'redis', 'run', 'skip'] as const;
export type FenceTag = (typeof FENCE_TAGS)[number];

/** One fenced TypeScript block. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** The line of the opening fence (1-based). */
  line: number;
  tags: FenceTag[];
  code: string;
  /** With `run`: what the block must print (the `Output:` block after it), else undefined. */
  output: string | undefined;
}

/** README.md and every page under docs/ except the generated diagram pages. */
export function markdownFiles(root: string): string[] {
  const pages: string[] = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'marbles' && name !== 'api') walk(path);
      } else if (name.endsWith('.md')) {
        pages.push(path);
      }
    }
  };
  walk(join(root, 'docs'));
  return pages.map((path) => relative(root, path).split('\\').join('/'));
}

interface Fence {
  lang: string;
  info: string[];
  line: number;
  body: string;
}

function fencesOf(markdown: string): Fence[] {
  const fences: Fence[] = [];
  const lines = markdown.split('\n');
  let open: { lang: string; info: string[]; line: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^```\s*(\S*)\s*(.*)$/.exec(text);
    if (open === undefined) {
      if (fence !== null) {
        const info = (fence[2] ?? '').split(/\s+/).filter(Boolean);
        open = { lang: fence[1] ?? '', info, line: index + 1, body: [] };
      }
    } else if (/^```\s*$/.test(text)) {
      fences.push({
        lang: open.lang,
        info: open.info,
        line: open.line,
        body: open.body.join('\n'),
      });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`unclosed code fence at line ${open.line}`);
  return fences;
}

/** Every TypeScript block of `file`, with its tags; throws on a tag outside the convention. */
export function codeBlocksOf(root: string, file: string): CodeBlock[] {
  const fences = fencesOf(readFileSync(join(root, file), 'utf8'));
  const blocks: CodeBlock[] = [];
  fences.forEach((fence, index) => {
    if (fence.lang !== 'ts' && fence.lang !== 'typescript') {
      if (['js', 'javascript', 'tsx', 'mjs'].includes(fence.lang)) {
        throw new Error(`${file}:${fence.line}: write code blocks as \`\`\`ts`);
      }
      return;
    }
    for (const tag of fence.info) {
      if (!(FENCE_TAGS as readonly string[]).includes(tag)) {
        throw new Error(
          `${file}:${fence.line}: unknown fence tag "${tag}" (known: ${FENCE_TAGS.join(', ')})`,
        );
      }
    }
    const tags = fence.info as FenceTag[];
    let output: string | undefined;
    if (tags.includes('run')) {
      const next = fences[index + 1];
      if (next !== undefined && next.lang === 'text' && next.body.startsWith('Output:')) {
        output = next.body.slice('Output:'.length).replace(/^\n/, '');
      }
    }
    blocks.push({ file, line: fence.line, tags, code: fence.body, output });
  });
  return blocks;
}
