/**
 * What the fault specs share: a redis-server (killed and restarted by PID), a fault proxy in
 * front of it, buses and clients that are closed after each test, and small helpers.
 */
import { Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import type { AgentEvent } from '../../../src/bus/types.js';
import { createRedisBus, type RedisEventBus } from '../../../src/redis/RedisEventBus.js';
import { RedisServer, type RedisServerOptions } from '../redisServer.js';
import { FaultProxy } from './proxy.js';

/** `REDIS_FAULTS_LONG=1` (npm run test:faults): the long runs; else the short form CI runs. */
export const LONG = process.env.REDIS_FAULTS_LONG === '1';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Everything an observable emits, and how it ended. */
export function collect<T>(source: Observable<T>): {
  values: T[];
  done: () => boolean;
  error: () => unknown;
} {
  const values: T[] = [];
  let completed = false;
  let failure: unknown;
  source.subscribe({
    next: (value) => values.push(value),
    complete: () => {
      completed = true;
    },
    error: (error) => {
      failure = error;
    },
  });
  return { values, done: () => completed, error: () => failure };
}

/** An event with a unique id (the checker tells events apart by it). */
export const event = (id: string | number, extra: Partial<AgentEvent> = {}): AgentEvent => ({
  kind: 'tick',
  runId: 'r',
  payload: { id: String(id) },
  ...extra,
});

export type BusOptions = Partial<Parameters<typeof createRedisBus>[0]>;

/** A server, a proxy in front of it, and what each test opened (closed by `reset`). */
export class FaultWorld {
  server!: RedisServer;
  proxy!: FaultProxy;
  private readonly clients: Redis[] = [];
  private readonly buses: RedisEventBus[] = [];
  private streams = 0;

  async start(options: RedisServerOptions = {}): Promise<void> {
    this.server = await RedisServer.start(options);
    this.proxy = await FaultProxy.start(this.server.port);
  }

  stream(): string {
    return `faults-${++this.streams}`;
  }

  /** A client, straight to the server or (`viaProxy`) through the proxy. */
  client(viaProxy = false): Redis {
    const redis = new Redis(viaProxy ? this.proxy.port : this.server.port, '127.0.0.1', {
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
    });
    redis.on('error', () => undefined);
    this.clients.push(redis);
    return redis;
  }

  async bus(stream: string, options: BusOptions & { viaProxy?: boolean } = {}) {
    const { viaProxy, ...rest } = options;
    const created = await createRedisBus({
      redis: this.client(viaProxy),
      stream,
      retryDelayMs: 20,
      blockMs: 300,
      ...rest,
    });
    this.buses.push(created);
    return created;
  }

  async reset(): Promise<void> {
    this.proxy.delay(0);
    for (const created of this.buses.splice(0)) await created.close();
    for (const redis of this.clients.splice(0)) redis.disconnect();
    if (!this.server.running) await this.server.restart();
  }

  async stop(): Promise<void> {
    await this.proxy?.stop();
    await this.server?.stop();
  }
}
