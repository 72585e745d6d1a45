// Drives the demo in Debian's Chromium (never a downloaded browser) through playwright-core:
// builds the page with Vite, serves the build, runs the simulated agent in both pipelines and
// checks that every lane painted exactly the text that was streamed, that the page kept painting,
// then presses Burst on the workers panel and checks that the pool scaled up and back down and
// completed every job exactly once; saves screenshots to artifacts/.
//
// Run: npm --prefix examples/browser test   (needs /usr/bin/chromium: apt-get install chromium)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../../chromium.mjs';

/** The stream the page floods itself with: 50,000 deltas per second over four lanes. */
const RATE = 50_000;
const BOUNDED_MS = 4_000;
/**
 * The unbounded comparison paints every delta (with a layout each), which is exactly why it
 * cannot keep up at 50,000/s: at the page's own rate the difference shows. Measured in Chromium
 * on a busy 2-core machine: bounded 99 animation frames in 4.0 s at the full 50,000/s; unbounded
 * 4 animation frames in 4.5 s for a 1 s run, its producer starved to 7,000 deltas/s. It is still
 * lossless (every lane's text is checked), only late and frozen.
 */
const UNBOUNDED_RATE = RATE;
const UNBOUNDED_MS = 1_000;
/**
 * The page must keep painting while it is flooded: at least this many animation frames per
 * second of run, on average. An idle machine gives about 60; a page whose main thread the flood
 * blocks gives next to none. The floor is low because CI machines are small and shared (about 10
 * per second was measured on 2 busy cores with a load average of 10).
 */
const RAF_FLOOR_PER_SECOND = 5;
/**
 * The agent aims at RATE; on a slow or busy machine it sends fewer deltas rather than starve the
 * page. The run still has to be a flood: at least half the target rate (the achieved rate is
 * printed).
 */
const MIN_RATE_FRACTION = 0.5;
/**
 * How long the workers panel may take to run its burst and scale back down: about 4 s on an
 * idle machine (4,000 jobs of 5 ms, up to 16 at once, a step of the concurrency every 100 ms).
 */
const WORKERS_TIMEOUT_MS = 20_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = fileURLToPath(new URL('../../../artifacts/', import.meta.url));

if (!existsSync(CHROMIUM)) {
  console.error(
    `browser test: ${CHROMIUM} not found; install Debian's chromium (apt-get install chromium)`,
  );
  process.exit(1);
}
mkdirSync(artifacts, { recursive: true });

await build({ root, logLevel: 'warn' });
const server = await preview({ root, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0 } });
const address = server.httpServer.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 4173}/`;
const userDataDir = mkdtempSync(join(tmpdir(), 'rxjs-backpressure-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1200, height: 900 },
});

const failures = [];
/** Animation frames per second, per mode. */
const fps = {};
try {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => 'demo' in window);

  for (const [mode, rate, durationMs] of [
    ['bounded', RATE, BOUNDED_MS],
    ['unbounded', UNBOUNDED_RATE, UNBOUNDED_MS],
  ]) {
    const result = await page.evaluate((options) => window.demo.run(options), {
      mode,
      rate,
      durationMs,
    });
    const seconds = result.elapsedMs / 1000;
    fps[mode] = result.animationFrames / seconds;
    const achievedRate = Math.round(result.deltasSent / (durationMs / 1000));
    console.log(
      `${mode}: ${result.deltasSent} deltas (${achievedRate}/s), ${result.valuesPainted} values painted, ` +
        `${result.merged} merged, ${result.dropped} dropped, max depth ${result.maxDepth}, ` +
        `${result.animationFrames} animation frames in ${seconds.toFixed(2)} s`,
    );

    const lanes = await page.evaluate(() =>
      window.demo.lanes.map((lane) => ({
        lane,
        streamed: window.demo.streamedText(lane),
        rendered: window.demo.renderedText(lane),
      })),
    );
    for (const { lane, streamed, rendered } of lanes) {
      try {
        assert.ok(streamed.length > 0, `${mode}/${lane}: nothing was streamed`);
        assert.equal(rendered.length, streamed.length, `${mode}/${lane}: rendered length differs`);
        assert.ok(
          rendered === streamed,
          `${mode}/${lane}: rendered text differs from streamed text`,
        );
      } catch (error) {
        failures.push(error.message);
      }
    }
    try {
      assert.equal(result.eventsIn, result.deltasSent + lanes.length, `${mode}: events in`);
      if (mode === 'bounded') {
        const floor = Math.floor(RAF_FLOOR_PER_SECOND * seconds);
        assert.ok(
          result.animationFrames >= floor,
          `bounded: ${result.animationFrames} animation frames in ${seconds.toFixed(2)} s, floor ${floor}`,
        );
        assert.ok(
          achievedRate >= RATE * MIN_RATE_FRACTION,
          `bounded: the agent streamed ${achievedRate}/s, below ${RATE * MIN_RATE_FRACTION}/s`,
        );
        assert.equal(result.dropped, 0, 'bounded: coalesce merges deltas, it never drops them');
        assert.ok(result.merged > 0, 'bounded: deltas were merged');
      }
    } catch (error) {
      failures.push(error.message);
    }
    const screenshot = join(artifacts, `browser-demo-${mode}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  }
  // The point of the demo: under the same flood, the bounded page keeps painting and the
  // unbounded one freezes.
  if (!(fps.unbounded * 2 < fps.bounded)) {
    failures.push(
      `the flood should freeze the unbounded page: ${fps.unbounded.toFixed(1)} frames/s unbounded, ${fps.bounded.toFixed(1)} bounded`,
    );
  }
  console.log(
    `animation frames per second: bounded ${fps.bounded.toFixed(1)}, unbounded ${fps.unbounded.toFixed(1)}`,
  );

  // The workers panel: Burst feeds a few thousand jobs to drainWith, whose concurrency autoscale
  // drives from the pool's own stats. It must scale up during the burst, come back to its
  // minimum once the jobs are done, and complete every job exactly once.
  const workersStarted = performance.now();
  await page.click('#w-burst');
  try {
    await page.waitForFunction(() => window.workersDemo.state().settled, null, {
      timeout: WORKERS_TIMEOUT_MS,
      polling: 100,
    });
  } catch {
    failures.push(`workers: not settled after ${WORKERS_TIMEOUT_MS} ms`);
  }
  const workers = await page.evaluate(() => window.workersDemo.state());
  const shown = await page.evaluate(() => ({
    completed: document.getElementById('w-completed')?.textContent,
    state: document.getElementById('workers')?.dataset.state,
  }));
  const ups = workers.changes.filter((change) => change.to > change.from);
  const downs = workers.changes.filter((change) => change.to < change.from);
  console.log(
    `workers: ${workers.sent} jobs, ${workers.completed} completed, concurrency ${workers.min} → ` +
      `${workers.maxConcurrency} at ${workers.maxConcurrencyAt} ms → ${workers.concurrency}, ` +
      `last job done at ${workers.lastCompletedAt} ms, ${ups.length} steps up, ${downs.length} down, ` +
      `at most ${workers.maxRunning} jobs running at once, ` +
      `${((performance.now() - workersStarted) / 1000).toFixed(2)} s`,
  );
  try {
    assert.equal(workers.error, undefined, 'workers: the pool erred');
    assert.ok(workers.sent > 0, 'workers: Burst sent no jobs');
    assert.equal(workers.completed, workers.sent, 'workers: jobs completed');
    assert.equal(workers.missing, 0, 'workers: jobs never completed');
    assert.equal(workers.duplicates, 0, 'workers: jobs completed more than once');
    assert.ok(
      workers.maxConcurrency > workers.min,
      `workers: concurrency never rose above ${workers.min}`,
    );
    assert.ok(
      workers.maxConcurrencyAt <= workers.lastCompletedAt,
      `workers: the peak (${workers.maxConcurrencyAt} ms) came after the last job (${workers.lastCompletedAt} ms)`,
    );
    assert.equal(workers.concurrency, workers.min, 'workers: concurrency back to min');
    const last = workers.changes.at(-1);
    assert.ok(
      last !== undefined && last.to === workers.min && last.at >= workers.maxConcurrencyAt,
      'workers: the last change brings the pool back to min after its peak',
    );
    assert.ok(
      workers.maxRunning <= workers.max,
      `workers: ${workers.maxRunning} jobs ran at once, above max ${workers.max}`,
    );
    assert.equal(
      shown.completed,
      `${workers.sent.toLocaleString('en-US')} / ${workers.sent.toLocaleString('en-US')}`,
      'workers: the page shows every job completed',
    );
    assert.equal(shown.state, 'settled', 'workers: the panel shows the pool settled');
  } catch (error) {
    failures.push(error.message);
  }
  const workersShot = join(artifacts, 'browser-demo-workers.png');
  await page.screenshot({ path: workersShot, fullPage: true });
  console.log(`screenshot: ${workersShot}`);

  if (pageErrors.length > 0) failures.push(`errors in the page: ${pageErrors.join('; ')}`);
} finally {
  await context.close();
  await server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`browser test FAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('browser test passed');
