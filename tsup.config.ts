import { dirname, resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

// The rxjs-backpressure/redis entry uses the core through the package's own name, so that both
// entry points share one copy of the core (one EventBus class, one InvalidEventError...).
const redisUsesCore: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'redis-entry-uses-core',
  setup(build) {
    const redisDir = resolve('src/redis');
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(redisDir)) return undefined;
      const target = resolve(dirname(args.importer), args.path);
      if (target.startsWith(redisDir)) return undefined;
      return { path: 'rxjs-backpressure', external: true };
    });
  },
};

export default defineConfig({
  entry: { index: 'src/index.ts', 'redis/index': 'src/redis/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  // Build-only tsconfig: src only, no Node types (src must stay platform-neutral).
  tsconfig: './tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // rxjs is a peer dependency: never bundle it (including deep imports like rxjs/operators).
  external: ['rxjs', /^rxjs\//, 'ioredis'],
  esbuildPlugins: [redisUsesCore],
  treeshake: true,
  splitting: false,
});
