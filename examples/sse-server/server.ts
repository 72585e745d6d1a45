/**
 * An agent's events served to browsers with backpressure, over Server-Sent Events and over a
 * WebSocket. A fake agent publishes a run of `EVENTS` steps, `RATE` per second, then
 * `run.finished`; each client reads the bus's log at its own pace.
 *
 *   GET /         a page whose EventSource shows the run (and reconnects by itself)
 *   GET /events   the run as Server-Sent Events (`Last-Event-ID` resumes)
 *   WS  /ws       the run over a WebSocket (`?after=epoch:seq` resumes; a client full for 10 s
 *                 is closed with 4008 and its cursor)
 *
 * With `REDIS_URL` the bus is a RedisEventBus: its log outlives this process, so after a restart
 * the agent carries on where the log ends and clients resume without a gap. Without it the bus
 * is in memory: a restart starts a new log (a new epoch), and clients get `event: reset`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import {
  type AgentEvent,
  EventBus,
  type EventFrame,
  parseCursor,
  toWebSocket,
} from 'rxjs-backpressure';
import { serverSentEventsHandler } from 'rxjs-backpressure/node';
import { createRedisBus } from 'rxjs-backpressure/redis';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 8080);
const events = Number(process.env.EVENTS ?? 1000);
const rate = Number(process.env.RATE ?? 50);
const redisUrl = process.env.REDIS_URL;
const RUN = 'demo';

/** The part of a bus this server uses: both `EventBus` and `RedisEventBus` have it. */
type Bus = Pick<EventBus, 'epoch' | 'lastSeq' | 'select'> & {
  publish(event: AgentEvent): unknown;
  close(): unknown;
};

let redis: Redis | undefined;
let bus: Bus;
if (redisUrl === undefined) {
  bus = new EventBus({ history: 100_000 });
} else {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  bus = await createRedisBus({ redis, stream: process.env.STREAM ?? 'sse-demo' });
}

const page = readFileSync(new URL('./index.html', import.meta.url));
const sse = serverSentEventsHandler(
  bus,
  { runId: RUN },
  { queue: { capacity: 256, overflow: 'drop-oldest' }, retry: 250 },
);

const server = createServer((request, response) => {
  const path = new URL(request.url ?? '/', 'http://host').pathname;
  if (path === '/events') {
    console.log(`sse client: Last-Event-ID ${request.headers['last-event-id'] ?? 'none'}`);
    sse(request, response);
    return startAgent();
  }
  if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
    return;
  }
  response.writeHead(404).end();
});

const sockets = new WebSocketServer({ server, path: '/ws' });
sockets.on('connection', (socket, request) => {
  const after = parseCursor(new URL(request.url ?? '/', 'http://host').searchParams.get('after'));
  const frames = (demand: Observable<number>) =>
    bus.select(
      { runId: RUN },
      {
        ...(after && { after: after.seq, epoch: after.epoch }),
        queue: { capacity: 256, overflow: 'drop-oldest', demand },
      },
    );
  toWebSocket<EventFrame>(socket, frames, {
    capacity: 64,
    overflow: 'drop-oldest',
    epoch: bus.epoch,
    maxLag: { ms: 10_000 },
  }).subscribe({ error: (error: unknown) => console.warn(`websocket client: ${String(error)}`) });
  startAgent();
});

/**
 * The fake agent: one step every 1000/RATE ms, then `run.finished`. It starts with the first
 * client, or at once when the log already holds part of the run (a Redis log after a restart:
 * it carries on from there; this run is the stream's only content).
 */
let agent: ReturnType<typeof setInterval> | undefined;
function startAgent(): void {
  if (agent !== undefined) return;
  let step = bus.lastSeq;
  agent = setInterval(
    () => {
      if (step > events) {
        clearInterval(agent);
        return;
      }
      step++;
      const event: AgentEvent =
        step > events
          ? { kind: 'run.finished', runId: RUN, payload: { steps: events } }
          : { kind: 'step', runId: RUN, payload: { step } };
      Promise.resolve(bus.publish(event)).catch((error: unknown) => {
        console.error(`publish failed: ${String(error)}`);
        process.exit(1);
      });
    },
    Math.max(1, 1000 / rate),
  );
}
if (bus.lastSeq > 0) startAgent();

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port}/ (epoch ${bus.epoch}, head ${bus.lastSeq})`);
});

process.once('SIGTERM', () => {
  clearInterval(agent);
  sockets.close();
  server.close();
  server.closeAllConnections();
  void Promise.resolve(bus.close()).then(() => redis?.disconnect());
});
