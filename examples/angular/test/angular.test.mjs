// Renders the Angular build in Debian's Chromium (never a downloaded browser) through
// playwright-core and checks the text: the streamed passage appears exactly, the status turns to
// "finished", a burst of 5,000 tokens/s is paced at frame cadence within maxLag, a summary keeps
// advancing once the page is hidden and animation frames stop, and closing the panel closes its
// bus through DestroyRef.
//
// Run after `ng build`: npm --prefix examples/angular test
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../chromium.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const dist = fileURLToPath(new URL('../dist/browser/', import.meta.url));
const artifacts = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const passage = JSON.parse(
  readFileSync(fileURLToPath(new URL('../src/app/passage.json', import.meta.url)), 'utf8'),
);
const expectedText = passage.text.repeat(passage.repeat);

if (!existsSync(join(dist, 'index.html'))) {
  console.error('angular test: no build in examples/angular/dist; run `ng build` first');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`angular test: ${CHROMIUM} not found; install Debian's chromium`);
  process.exit(1);
}
mkdirSync(artifacts, { recursive: true });

const server = createServer((request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
  const file = join(dist, path === '/' ? 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  response.end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;
const userDataDir = mkdtempSync(join(tmpdir(), 'rxjs-backpressure-angular-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
});

try {
  const page = await context.newPage();
  // Animation frames that the test can stop, as a hidden tab stops them, and count.
  await page.addInitScript(() => {
    const request = window.requestAnimationFrame.bind(window);
    window.frameControl = { frozen: false, ran: 0 };
    window.requestAnimationFrame = (callback) => {
      if (window.frameControl.frozen) return 0;
      return request((time) => {
        window.frameControl.ran++;
        callback(time);
      });
    };
  });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url);
  const status = page.getByTestId('status');
  await status.filter({ hasText: 'finished' }).waitFor({ timeout: 30_000 });

  const text = await page.getByTestId('text').textContent();
  assert.equal(text.length, expectedText.length, 'rendered text length');
  assert.ok(text === expectedText, 'the rendered text equals the streamed passage');
  const words = expectedText.split(/(?<= )/).length;
  assert.equal(
    await page.getByTestId('frames').textContent(),
    String(words + 1),
    'frames: one per word, plus run.finished',
  );
  await page.screenshot({ path: join(artifacts, 'angular-example.png'), fullPage: true });

  // A burst of 5,000 tokens/s through paceText: lag within maxLag (250 ms), one chunk a frame.
  await page.getByTestId('burst').click();
  await page.getByTestId('burst-state').filter({ hasText: 'done' }).waitFor({ timeout: 30_000 });
  const probe = await page.evaluate(() => window.pacingProbe);
  console.log('pacing probe:', JSON.stringify(probe));
  assert.equal(probe.tokens, 10_000, 'every token of the burst was shown');
  assert.ok(probe.lagP99 <= 250, `lag p99 ${probe.lagP99} ms is within maxLag`);
  assert.ok(
    probe.chunks <= probe.framesWithChunks + 1,
    `chunks ${probe.chunks} vs frames ${probe.framesWithChunks}: about one chunk a frame`,
  );
  assert.ok(probe.maxChunksPerFrame <= 2, 'never more than the first chunk and a tick in a frame');

  // The page is hidden and animation frames stop: the summary still advances (frames() falls
  // back to its maxWait timer), and no frame ran meanwhile.
  const ticks = async () => Number(await page.getByTestId('ticks').textContent());
  assert.ok((await ticks()) > 0, 'usage ticks are summarized while the page is visible');
  await page.evaluate(() => {
    window.frameControl.frozen = true;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  // Frames requested before the freeze may still run; from then on none does.
  await page.waitForTimeout(200);
  const before = await ticks();
  const framesBefore = await page.evaluate(() => window.frameControl.ran);
  await page.waitForTimeout(1_500);
  const after = await ticks();
  const framesAfter = await page.evaluate(() => window.frameControl.ran);
  assert.equal(framesAfter, framesBefore, 'no animation frame ran while hidden');
  assert.ok(after > before, `the summary advanced while hidden: ${before} -> ${after}`);
  await page.evaluate(() => {
    window.frameControl.frozen = false;
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => 'visible',
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange'));
  });

  assert.equal(await page.getByTestId('closed').textContent(), '0');
  await page.getByTestId('toggle').click();
  await page.getByTestId('closed').filter({ hasText: '1' }).waitFor({ timeout: 5_000 });
  assert.equal(await page.getByTestId('text').count(), 0, 'the panel is gone');
  assert.deepEqual(pageErrors, [], 'no errors in the page');
  console.log(
    `angular test passed: ${expectedText.length} characters in ${words} deltas rendered, bus closed on destroy`,
  );
} finally {
  await context.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
