// Renders the app on the server, in Node: the sources are bundled with esbuild (the one Angular's
// builder ships) and compiled just in time by @angular/compiler, then rendered by
// @angular/platform-server's renderApplication. Checks that the run's text is in the HTML whole
// (toBoundedSignal writes every value at once on the server and holds the rendering until its
// source ends), with no animation frames (Node has none: frames() falls back to a timer).
//
// npm --prefix examples/angular test runs it after the browser test.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../dist/ssr/main.server.mjs', import.meta.url));
mkdirSync(fileURLToPath(new URL('../dist/ssr/', import.meta.url)), { recursive: true });
await build({
  entryPoints: [`${root}src/main.server.ts`],
  outfile: out,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  tsconfig: `${root}tsconfig.json`,
  // Angular and rxjs stay packages, loaded once from this example's node_modules (the library's
  // sources, mapped by tsconfig paths, are bundled).
  external: ['@angular/*', 'rxjs', 'rxjs/*'],
  logLevel: 'warning',
});

const passage = JSON.parse(readFileSync(`${root}src/app/passage.json`, 'utf8'));
const expectedText = passage.text.repeat(passage.repeat);

await import('@angular/compiler');
const { render } = await import(out);
const started = performance.now();
const html = await render(
  '<!doctype html><html><head></head><body><app-root></app-root></body></html>',
);
const elapsed = performance.now() - started;

const start = html.indexOf('data-testid="text"');
const region = html.slice(html.indexOf('>', start) + 1, html.indexOf('</app-agent-run>'));
const plain = region.replace(/<!--[\s\S]*?-->/g, '').replace(/<[^>]+>/g, '');
assert.equal(plain.length, expectedText.length, 'the server-rendered text length');
assert.ok(plain === expectedText, 'the server rendered the whole run text (the final value)');
assert.match(html, /data-testid="status"[^>]*>finished</, 'the run is finished in the HTML');
assert.match(html, /data-testid="ticks"[^>]*>0</, 'no usage ticks run on the server');
console.log(
  `angular ssr test passed: ${expectedText.length} characters rendered on the server in ${Math.round(elapsed)} ms`,
);
process.exit(0);
