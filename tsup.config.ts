import { readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { defineConfig, type Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Every entry point of the package: output name (under dist/) -> source. `index` is the root
 * (`rxjs-backpressure`); every other entry (`rxjs-backpressure/redis`, ...) has a folder of its
 * own under src/ and must also be listed in package.json's `exports`.
 */
export const entries: Record<string, string> = {
  index: 'src/index.ts',
  'redis/index': 'src/redis/index.ts',
  'angular/index': 'src/angular/index.ts',
  'node/index': 'src/node/index.ts',
  'testing/index': 'src/testing/index.ts',
  'otel/index': 'src/otel/index.ts',
};

/** The output name of the root entry. */
export const ROOT_ENTRY = 'index';

/** The package's own name, through which the other entries reach the core. */
const packageName = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { name: string })
  .name;

/**
 * One copy of the core ships, whatever the entries. The root entry bundles the core; every other
 * entry gets it from the root, by the package's own name, instead of bundling a second copy (a
 * second EventBus class, a second InvalidEventError, so that `instanceof` fails across entries).
 * Applied to every entry listed in `entries`: a relative import from inside an entry's folder
 * that leaves the folder becomes an import of the package root, which must export what is
 * imported (the packed-package test loads every entry, so a missing export fails there). The
 * core importing an entry's folder, or an entry another entry's folder, is refused: the arrows
 * point from the entries to the core.
 */
function oneCopyOfTheCore(entryPoints: Record<string, string>): EsbuildPlugin {
  const rootSource = entryPoints[ROOT_ENTRY];
  if (rootSource === undefined) throw new Error(`tsup.config: no '${ROOT_ENTRY}' entry`);
  const coreFolder = dirname(resolve(rootSource)) + sep;
  const folders = Object.entries(entryPoints)
    .filter(([name]) => name !== ROOT_ENTRY)
    .map(([name, source]) => {
      const folder = dirname(resolve(source)) + sep;
      if (folder === coreFolder || !folder.startsWith(coreFolder)) {
        throw new Error(
          `tsup.config: entry '${name}' (${source}) needs a folder of its own under ${dirname(rootSource)}/`,
        );
      }
      return folder;
    })
    // The innermost folder first, should one entry's folder hold another's.
    .sort((a, b) => b.length - a.length);
  const folderOf = (path: string) => folders.find((folder) => path.startsWith(folder));
  return {
    name: 'one-copy-of-the-core',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const target = resolve(dirname(args.importer), args.path);
        const from = folderOf(args.importer);
        const to = folderOf(target);
        if (from === undefined) {
          if (to === undefined) return undefined;
          return {
            errors: [{ text: `the core imports ${args.path}, inside the entry folder ${to}` }],
          };
        }
        if (to === from) return undefined;
        if (to !== undefined) {
          return {
            errors: [{ text: `${args.importer} imports ${args.path}: import its entry by name` }],
          };
        }
        return { path: packageName, external: true };
      });
    },
  };
}

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  // Build-only tsconfig: src only, no Node types (src must stay platform-neutral).
  tsconfig: './tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Peer dependencies are never bundled: rxjs (including deep imports like rxjs/operators),
  // ioredis (./redis), Angular (./angular) and the OpenTelemetry API (./otel).
  external: ['rxjs', /^rxjs\//, 'ioredis', /^@angular\//, /^@opentelemetry\//],
  esbuildPlugins: [oneCopyOfTheCore(entries)],
  treeshake: true,
  splitting: false,
});
