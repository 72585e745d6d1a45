/**
 * Compiles documentation code blocks with the TypeScript compiler, from memory: each block is a
 * module of its own beside the tests, `rxjs-backpressure` and its entries resolve to the sources,
 * and fragments see the names of test/docs/fragmentGlobals.d.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as rxjsExports from 'rxjs';
import ts from 'typescript';
import * as ourExports from '../../src/index.js';
import type { CodeBlock } from './codeBlocks.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the blocks live while compiled (in memory) or run (on disk). */
export const SNIPPETS_DIR = join(root, 'test/docs/__snippets__');
const GLOBALS = join(root, 'test/docs/fragmentGlobals.d.ts');

export function snippetPath(block: CodeBlock): string {
  const name = block.file.replace(/[^A-Za-z0-9]+/g, '-');
  return join(SNIPPETS_DIR, `${name}-L${block.line}.ts`);
}

/** Names exported as types: `type Name` in an export list, or any name of `export type { … }`. */
function* typeNames(index: string): Generator<string> {
  for (const match of index.matchAll(/\btype\s+([A-Z][\w$]*)/g)) yield match[1] as string;
  for (const list of index.matchAll(/export\s+type\s*\{([^}]*)\}/g)) {
    for (const name of (list[1] ?? '').split(',')) if (name.trim() !== '') yield name.trim();
  }
}

/** The type-only exports of the package, as src/index.ts lists them. */
const OUR_TYPES = [...new Set([...typeNames(readFileSync(join(root, 'src/index.ts'), 'utf8'))])];
/** The types of `rxjs` the documentation names. */
const RXJS_TYPES = [
  'MonoTypeOperatorFunction',
  'ObservableInput',
  'Observer',
  'OperatorFunction',
  'SchedulerLike',
];

/** Whether a fragment brings `name` itself (imports or declares it). */
function bringsItself(code: string, name: string): boolean {
  const word = `\\b${name.replace(/\$/g, '\\$')}(?![\\w$])`;
  return (
    new RegExp(`import[^;]*${word}`).test(code) ||
    new RegExp(`\\b(const|let|var|function|class|interface|type|enum)\\s+${word}`).test(code)
  );
}

/** A line importing what a fragment uses of `rxjs-backpressure` and `rxjs` without importing it. */
function autoImports(code: string): string {
  const used = (name: string): boolean =>
    new RegExp(`(^|[^\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code) &&
    !bringsItself(code, name);
  const ours = [...Object.keys(ourExports), ...OUR_TYPES.map((name) => `type ${name}`)].filter(
    (name) => used(name.replace('type ', '')),
  );
  const taken = new Set(ours.map((name) => name.replace('type ', '')));
  const theirs = [
    ...Object.keys(rxjsExports).filter((name) => name !== 'default'),
    ...RXJS_TYPES.map((name) => `type ${name}`),
  ].filter((name) => used(name.replace('type ', '')) && !taken.has(name.replace('type ', '')));
  const lines: string[] = [];
  if (ours.length > 0) lines.push(`import { ${ours.join(', ')} } from 'rxjs-backpressure';`);
  if (theirs.length > 0) lines.push(`import { ${theirs.join(', ')} } from 'rxjs';`);
  return lines.join(' ');
}

/** A signature block as declarations: `name<T>(…): R` becomes `declare function name<T>(…): R`. */
function declarations(code: string): string {
  return code.replace(/^([A-Za-z_$][\w$]*\s*[<(])/gm, 'declare function $1');
}

/** A block as a module of its own, and how many lines were put before it. */
export function moduleText(block: CodeBlock): { text: string; offset: number } {
  const loose = block.tags.includes('fragment') || block.tags.includes('signature');
  const code = block.tags.includes('signature') ? declarations(block.code) : block.code;
  const header = loose ? autoImports(code) : '';
  const body = /^\s*(import|export)\s/m.test(code) || header !== '' ? code : `${code}\nexport {};`;
  return header === '' ? { text: body, offset: 0 } : { text: `${header}\n${body}`, offset: 1 };
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  return {
    ...parsed.options,
    noEmit: true,
    // Angular's decorators as an Angular project compiles them.
    experimentalDecorators: true,
    paths: {
      'rxjs-backpressure': [join(root, 'src/index.ts')],
      'rxjs-backpressure/*': [join(root, 'src/*/index.ts')],
    },
  };
}

/** Compiles the blocks in one program and returns each block's errors (none: an empty list). */
export function compileBlocks(group: CodeBlock[], withGlobals: boolean): Map<CodeBlock, string[]> {
  const extraFiles = withGlobals ? [GLOBALS] : [];
  const options = compilerOptions();
  const texts = new Map(group.map((block) => [block, moduleText(block)]));
  const files = new Map(group.map((block) => [snippetPath(block), texts.get(block)!.text]));
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(resolve(name)) ?? readFile(name);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  host.getSourceFile = (name, language, onError, fresh) => {
    const text = files.get(resolve(name));
    if (text !== undefined) return ts.createSourceFile(name, text, language, true);
    return getSourceFile(name, language, onError, fresh);
  };
  const program = ts.createProgram([...files.keys(), ...extraFiles], options, host);
  const errors = new Map<CodeBlock, string[]>();
  for (const block of group) {
    const source = program.getSourceFile(snippetPath(block));
    const diagnostics = source === undefined ? [] : ts.getPreEmitDiagnostics(program, source);
    errors.set(
      block,
      diagnostics.map((diagnostic) => {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        const where =
          resolve(diagnostic.file.fileName) === snippetPath(block)
            ? `${block.file}:${block.line + line + 1 - texts.get(block)!.offset}`
            : `${diagnostic.file.fileName}:${line + 1}`;
        return `${where}: ${message}`;
      }),
    );
  }
  return errors;
}
