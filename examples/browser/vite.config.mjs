import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// The demo runs the library from source (../../src), so it never needs a build of the package.
export default defineConfig({
  resolve: {
    alias: { 'rxjs-backpressure': fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
    // One rxjs for the page and the library, even though ../../src resolves from the root.
    dedupe: ['rxjs'],
  },
  server: { fs: { allow: [repoRoot] } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
