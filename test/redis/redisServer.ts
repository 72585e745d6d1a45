/**
 * Starts and stops a real redis-server for the redis specs and bench: its own loopback port, its
 * own temporary directory, append-only persistence with fsync on every write by default (so a
 * SIGKILL loses nothing Redis has acknowledged), or the settings a spec asks for. No mock stands
 * in for Redis anywhere.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary's version line, or `undefined` when it is not installed. */
export function redisServerVersion(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return undefined;
  return probe.stdout.trim();
}

/** Why redis specs are skipped, printed once by each spec file that skips. */
export const SKIP_MESSAGE =
  'redis-server is not installed: skipping the Redis specs (apt-get install redis-server to run them)';

/**
 * Where data directories go: /dev/shm when it exists (a RAM disk: the append-only file survives
 * a killed redis-server just the same, and fsync costs nothing on a shared CI disk), else tmpdir.
 */
function dataRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** A free loopback port, as the OS hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a {@link RedisServer} runs. */
export interface RedisServerOptions {
  /** Default `true`. */
  appendonly?: boolean;
  /** Default `'always'`. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More arguments for redis-server, e.g. `['--maxmemory', '10mb']`. */
  extra?: string[];
  /** More environment variables for redis-server (e.g. `LD_PRELOAD`). */
  env?: Record<string, string>;
}

/** One redis-server process that can be killed and started again on the same port and data. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  private child: ChildProcess | undefined;
  private options: Required<RedisServerOptions> = {
    appendonly: true,
    appendfsync: 'always',
    extra: [],
    env: {},
  };

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /**
   * Starts a server on a free loopback port with a fresh data directory. `appendfsync` defaults
   * to `always` (the specs: nothing acknowledged is lost to a SIGKILL); the bench uses Redis's own
   * default for append-only files, `everysec`. `appendonly: false` runs without an append-only
   * file (Redis's default: a restart loses everything); `extra` are more server arguments.
   */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(
      await freePort(),
      mkdtempSync(join(dataRoot(), 'rxjs-bp-redis-')),
    );
    server.options = {
      appendonly: options.appendonly ?? true,
      appendfsync: options.appendfsync ?? 'always',
      extra: options.extra ?? [],
      env: options.env ?? {},
    };
    await server.restart();
    return server;
  }

  /** The server process's id (while it runs). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True while the server process runs. */
  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Starts the server (again) on the same port and directory, reloading its append-only file. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        this.options.appendonly ? 'yes' : 'no',
        '--appendfsync',
        this.options.appendfsync,
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
        ...this.options.extra,
      ],
      { stdio: 'ignore', env: { ...process.env, ...this.options.env } },
    );
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`redis-server exited at start (port ${this.port})`);
      if (await answersPing(this.port)) return;
      await sleep(25);
    }
    throw new Error(`redis-server did not answer PING on port ${this.port} within 10 s`);
  }

  /** Kills the server at once (SIGKILL) and waits for it to be gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stops the server, removes its data directory. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}
