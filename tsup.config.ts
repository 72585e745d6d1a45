import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // Build-only tsconfig: src only, no Node types (src must stay platform-neutral).
  tsconfig: './tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // rxjs is a peer dependency: never bundle it (including deep imports like rxjs/operators).
  external: ['rxjs', /^rxjs\//],
  treeshake: true,
  splitting: false,
});
