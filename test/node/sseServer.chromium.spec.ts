/**
 * The example server (examples/sse-server) in real processes, read by a real browser: Debian's
 * Chromium (never a downloaded one) through playwright-core opens the server's page, whose
 * `EventSource` receives a run; the server process is SIGKILLed mid-run and started again on the
 * same port, and the page reconnects by itself. On a Redis log (a redis-server started here) it
 * resumes with `Last-Event-ID` and its log ends with every seq exactly once; on an in-memory log
 * the new process has a new epoch and the page gets `event: reset`. A WebSocket client then reads
 * the same run through `toWebSocket`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CHROMIUM, CHROMIUM_ARGS } from '../../examples/chromium.mjs';
import { freePort, RedisServer, redisServerVersion, SKIP_MESSAGE } from '../redis/redisServer.js';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `${CHROMIUM} not found: skipping the Chromium specs of the SSE example (apt-get install chromium to run them)`,
  );
}
const redisVersion = redisServerVersion();
if (hasChromium && redisVersion === undefined) console.warn(SKIP_MESSAGE);

const exampleDir = join(import.meta.dirname, '../../examples/sse-server');
const artifacts = join(import.meta.dirname, '../../artifacts');
/** Steps in the run (then `run.finished`): about 5 s at RATE. */
const EVENTS = 300;
const RATE = 60;
const FRAMES = EVENTS + 1;

/** One process of the example server. */
interface ServerProcess {
  child: ChildProcess;
  output: string;
  exited: Promise<void>;
}

const processes: ServerProcess[] = [];

/** Starts examples/sse-server/server.ts and waits for it to listen. */
async function startServer(port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    // From its own folder, so that tsx reads its tsconfig: the library from source.
    cwd: exampleDir,
    env: { ...process.env, PORT: String(port), EVENTS: String(EVENTS), RATE: String(RATE), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: ServerProcess = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  child.stdout?.on('data', (data) => {
    server.output += data.toString();
  });
  child.stderr?.on('data', (data) => {
    server.output += data.toString();
  });
  processes.push(server);
  const deadline = Date.now() + 30_000;
  while (!server.output.includes('listening on')) {
    if (child.exitCode !== null) throw new Error(`the server exited at start:\n${server.output}`);
    if (Date.now() > deadline) throw new Error(`the server did not listen:\n${server.output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return server;
}

async function kill(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

const epochOf = (server: ServerProcess): string =>
  /epoch (\w+)/.exec(server.output)?.[1] ?? 'unknown';

/** The page's log: `seq <n>`, `reset <epoch>`, `gap <json>`, `disconnected`, `done`. */
const logOf = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { sseLog: string[] }).sseLog.slice());

const seqsOf = (lines: string[]): number[] =>
  lines.filter((line) => line.startsWith('seq ')).map((line) => Number(line.slice(4)));

const oneToN = (n: number): number[] => Array.from({ length: n }, (_, index) => index + 1);

/** Opens the page, lets it receive 60 frames, SIGKILLs the server and starts another. */
async function restartMidRun(
  page: Page,
  port: number,
  env: Record<string, string>,
): Promise<{ first: ServerProcess; second: ServerProcess; log: string[] }> {
  const first = await startServer(port, env);
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(
    () =>
      (window as unknown as { sseLog: string[] }).sseLog.filter((l) => l.startsWith('seq'))
        .length >= 60,
    undefined,
    { timeout: 30_000 },
  );
  await kill(first);
  const second = await startServer(port, env);
  await page.waitForFunction(
    () => (window as unknown as { sseLog: string[] }).sseLog.includes('done'),
    undefined,
    { timeout: 60_000 },
  );
  return { first, second, log: await logOf(page) };
}

describe.skipIf(!hasChromium)('the SSE example server in Chromium, restarted mid-run', () => {
  let userDataDir: string;
  let context: BrowserContext;
  let redis: RedisServer | undefined;

  beforeAll(async () => {
    userDataDir = mkdtempSync(join(tmpdir(), 'rxjs-bp-sse-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    mkdirSync(artifacts, { recursive: true });
  }, 60_000);
  afterEach(async () => {
    for (const server of processes.splice(0)) await kill(server);
  });
  afterAll(async () => {
    await context?.close();
    await redis?.stop();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it.skipIf(redisVersion === undefined)(
    'on a Redis log: the page resumes with Last-Event-ID and has every seq exactly once',
    async () => {
      redis = await RedisServer.start();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      const { first, second, log } = await restartMidRun(page, await freePort(), {
        REDIS_URL: redis.url,
      });
      await page.screenshot({ path: join(artifacts, 'sse-server-redis.png') });
      await page.close();

      // The kill happened mid-run: the page lost its connection with part of the run.
      const cut = log.indexOf('disconnected');
      expect(cut).toBeGreaterThan(0);
      const before = seqsOf(log.slice(0, cut));
      expect(before.length).toBeGreaterThanOrEqual(60);
      expect(before.length).toBeLessThan(FRAMES);
      // The same log (the epoch is stored with the stream), read again from the page's cursor.
      expect(epochOf(second)).toBe(epochOf(first));
      expect(second.output).toContain(
        `Last-Event-ID ${epochOf(first)}:${before[before.length - 1]}`,
      );
      expect(seqsOf(log)).toEqual(oneToN(FRAMES));
      expect(log.filter((line) => line.startsWith('reset') || line.startsWith('gap'))).toEqual([]);
      expect(errors).toEqual([]);
    },
    120_000,
  );

  it('on an in-memory log: the page gets a reset with the new epoch and reads the new log from its start', async () => {
    const port = await freePort();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const { first, second, log } = await restartMidRun(page, port, {});
    await page.screenshot({ path: join(artifacts, 'sse-server-memory.png') });
    await page.close();

    expect(epochOf(second)).not.toBe(epochOf(first));
    const reset = log.indexOf(`reset ${epochOf(second)}`);
    expect(reset).toBeGreaterThan(0);
    expect(log.filter((line) => line.startsWith('reset'))).toHaveLength(1);
    // Before the reset: the first log's run up to the kill, in order; after it: all of the new
    // log's run, from seq 1, exactly once.
    const before = seqsOf(log.slice(0, reset));
    expect(before).toEqual(oneToN(before.length));
    expect(before.length).toBeLessThan(FRAMES);
    expect(second.output).toContain(`Last-Event-ID ${epochOf(first)}:${before.length}`);
    expect(seqsOf(log.slice(reset))).toEqual(oneToN(FRAMES));
    expect(log.filter((line) => line.startsWith('gap'))).toEqual([]);
    expect(errors).toEqual([]);

    // The same run over the server's WebSocket (toWebSocket), from the start of its log.
    const seqs = await new Promise<number[]>((resolve, reject) => {
      const received: number[] = [];
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?after=${epochOf(second)}:0`);
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { seq: number; kind: string };
        received.push(frame.seq);
        if (frame.kind === 'run.finished') {
          socket.close();
          resolve(received);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
    expect(seqs).toEqual(oneToN(FRAMES));
  }, 120_000);
});

describe('the SSE example server', () => {
  it('typechecks against the library source', () => {
    const tsc = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      { cwd: exampleDir, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 60_000);
});
