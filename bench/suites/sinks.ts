import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { from, type Subscription } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import { EventBus } from '../../src/bus/EventBus.js';
import type { EventFrame } from '../../src/bus/types.js';
import { toWebSocket } from '../../src/interop/toWebSocket.js';
import { collect, heapUsed, type Measurement, printTable, rate } from '../harness.js';
import type { BenchSuite } from './types.js';

/** Frames sent to one fast client per throughput case (about 150 bytes of JSON each). */
const THROUGHPUT_FRAMES = 200_000;
/** Throughput turns: each case keeps its best, the cases alternate within a turn. */
const TURNS = 5;
/** Connected clients in the memory cases, and how many of them stop reading. */
const CLIENTS = 1_000;
const STALLED = 100;
/**
 * Frames published in the memory cases, and the size of each payload: 6.4 MB per client, more
 * than the kernel buffers for a stalled loopback connection (about 4 MB), so the rest is the
 * server's. Each client's frames are serialized for it (`JSON.stringify`, toWebSocket's default).
 */
const MEMORY_FRAMES = 400;
const PAYLOAD_BYTES = 16_384;
const MB = 1_048_576;

const clientsFixture = join(import.meta.dirname, '../fixtures/wsClients.ts');

/** A ws server on a loopback port, handing out its connections in order. */
async function wsServer(): Promise<{
  url: string;
  next: () => Promise<WebSocket>;
  close: () => Promise<void>;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const arrived: WebSocket[] = [];
  const waiting: Array<(socket: WebSocket) => void> = [];
  server.on('connection', (socket) => {
    const take = waiting.shift();
    if (take === undefined) arrived.push(socket);
    else take(socket);
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: () => {
      const socket = arrived.shift();
      return socket !== undefined
        ? Promise.resolve(socket)
        : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** The clients' process: resolves `ready` once all are connected, `done` at the terminal frame. */
function startClients(
  url: string,
  clients: number,
  stalled: number,
): { child: ChildProcess; ready: Promise<void>; done: Promise<{ messages: number }> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', clientsFixture, url, String(clients), String(stalled)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  let onReady: () => void = () => {};
  let onDone: (result: { messages: number }) => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const done = new Promise<{ messages: number }>((resolve) => {
    onDone = resolve;
  });
  child.stdout?.on('data', (data) => {
    output += data.toString();
    if (output.includes('ready')) onReady();
    const line = output.split('\n').find((text) => text.startsWith('{'));
    if (line !== undefined) onDone(JSON.parse(line) as { messages: number });
  });
  return { child, ready, done };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

type Sender = (socket: WebSocket, frames: EventFrame[]) => Subscription | undefined;

/** The peer: every frame handed to `ws.send` at once; `ws` buffers what the socket cannot take. */
const bareLoop: Sender = (socket, frames) => {
  for (const value of frames) socket.send(JSON.stringify(value));
  return undefined;
};

/** The frames as an Observable: queued (losslessly here) while the socket is above its mark. */
const throughToWebSocket: Sender = (socket, frames) =>
  toWebSocket(socket, from(frames), { capacity: frames.length, overflow: 'error' }).subscribe();

/** The frames read from a bus's log at the socket's pace (its demand), as a server does. */
function throughBusReplay(bus: EventBus): Sender {
  return (socket) =>
    toWebSocket(
      socket,
      (demand) => bus.select({}, { after: 0, queue: { capacity: 256, overflow: 'error', demand } }),
      { capacity: 64, overflow: 'drop-oldest' },
    ).subscribe();
}

/** Sends the frames to one fast client over loopback; the time until it has the last one. */
async function throughput(name: string, send: Sender, frames: EventFrame[]): Promise<Measurement> {
  const server = await wsServer();
  const clients = startClients(server.url, 1, 0);
  const socket = await server.next();
  await clients.ready;
  collect();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const subscription = send(socket, frames);
  const { messages } = await clients.done;
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  subscription?.unsubscribe();
  await stop(clients.child);
  await server.close();
  if (messages !== frames.length) throw new Error(`${name}: ${messages} of ${frames.length}`);
  return {
    name,
    events: frames.length,
    ms,
    perSecond: frames.length / (ms / 1000),
    heapDeltaMb: 0,
    extra: { 'server CPU µs/frame': ((user + system) / frames.length).toFixed(2) },
  };
}

/** Heap used plus the buffers outside it (what ws and the sockets hold), after a GC. */
function memoryUsed(): number {
  const heap = heapUsed();
  return heap + process.memoryUsage().arrayBuffers;
}

/**
 * CLIENTS connections, STALLED of them not reading, each fed from the bus by `attach`; frames
 * published in batches (as an agent does), then the terminal frame. Measured once every reading
 * client has it: the memory above the same server idle with its clients connected.
 */
async function connected(
  name: string,
  attach: (bus: EventBus, socket: WebSocket) => Subscription,
): Promise<Measurement> {
  const server = await wsServer();
  const bus = new EventBus();
  const clients = startClients(server.url, CLIENTS, STALLED);
  const sockets: WebSocket[] = [];
  const subscriptions: Subscription[] = [];
  for (let index = 0; index < CLIENTS; index++) {
    const socket = await server.next();
    sockets.push(socket);
    subscriptions.push(attach(bus, socket));
  }
  await clients.ready;
  const idle = memoryUsed();
  const text = 'x'.repeat(PAYLOAD_BYTES);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let seq = 1; seq <= MEMORY_FRAMES; seq++) {
    bus.publish({ kind: 'model.delta', runId: 'r1', payload: { text } });
    if (seq % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  bus.publish({ kind: 'run.finished', runId: 'r1' });
  const { messages } = await clients.done;
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  // Let the sockets settle (a stalled client's buffer stops growing once its window is shut).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const above = (memoryUsed() - idle) / MB;
  // The stalled clients are the sockets left holding bytes (the server accepts in its own order).
  const buffered = sockets.reduce((sum, socket) => sum + socket.bufferedAmount, 0) / STALLED;
  const full = sockets.filter((socket) => socket.bufferedAmount > 0).length;
  for (const subscription of subscriptions) subscription.unsubscribe();
  await stop(clients.child);
  await server.close();
  bus.close();
  const frames = (MEMORY_FRAMES + 1) * (CLIENTS - STALLED);
  return {
    name,
    events: messages,
    ms,
    perSecond: messages / (ms / 1000),
    heapDeltaMb: above,
    extra: {
      'frames read': `${messages.toLocaleString('en-US')} of ${frames.toLocaleString('en-US')}`,
      'server CPU s': ((user + system) / 1e6).toFixed(1),
      'MB above idle': above.toFixed(1),
      'sockets holding bytes': full,
      'KiB buffered per stalled client': (buffered / 1024).toFixed(0),
    },
  };
}

const bareAttach = (bus: EventBus, socket: WebSocket): Subscription =>
  bus.select({}).subscribe((value) => socket.send(JSON.stringify(value)));

const sinkAttach = (bus: EventBus, socket: WebSocket): Subscription =>
  toWebSocket(
    socket,
    (demand) => bus.select({}, { queue: { capacity: 256, overflow: 'drop-oldest', demand } }),
    { capacity: 64, overflow: 'drop-oldest', epoch: bus.epoch },
  ).subscribe({ error: () => {} });

/** The throughput cases: each sender in turn, TURNS times, best kept. */
async function throughputCases(): Promise<void> {
  // Every case sends the bus's own frames (the same bytes), the last one terminal.
  const bus = new EventBus({ history: THROUGHPUT_FRAMES + 1 });
  for (let index = 0; index < THROUGHPUT_FRAMES; index++) {
    const text = `token ${index} of the model's answer, a delta of a few words`;
    bus.publish({ kind: 'model.delta', runId: 'r1', payload: { text } });
  }
  bus.publish({ kind: 'run.finished', runId: 'r1' });
  const frames: EventFrame[] = [];
  bus
    .replay({}, 0)
    .subscribe((value) => frames.push(value))
    .unsubscribe();
  if (frames.length !== THROUGHPUT_FRAMES + 1) throw new Error('the replay was not synchronous');
  const cases: Array<[string, Sender]> = [
    ['bare ws.send loop', bareLoop],
    ['toWebSocket(socket, from(frames))', throughToWebSocket],
    ['toWebSocket(socket, bus.select at the socket demand)', throughBusReplay(bus)],
  ];
  const best = new Map<string, Measurement>();
  for (let turn = 0; turn < TURNS; turn++) {
    for (const [name, send] of cases) {
      const result = await throughput(name, send, frames);
      const kept = best.get(name);
      if (kept === undefined || result.ms < kept.ms) best.set(name, result);
    }
  }
  bus.close();
  const rows = cases.map(([name]) => best.get(name) as Measurement);
  printTable(rows);
  const ratio = (rows[1]?.perSecond ?? 0) / (rows[0]?.perSecond ?? 1);
  console.log(
    `\ntoWebSocket / bare: ${(ratio * 100).toFixed(0)}% (goal >= 80%), ${rate(rows[1]?.perSecond ?? 0)} vs ${rate(rows[0]?.perSecond ?? 0)}\n`,
  );
}

export const suite: BenchSuite = {
  name: 'sinks',
  title: `toWebSocket to a fast client vs a bare ws.send loop over loopback (${THROUGHPUT_FRAMES.toLocaleString('en-US')} frames, best of ${TURNS}); memory with ${CLIENTS.toLocaleString('en-US')} clients of which ${STALLED} stalled`,
  async run() {
    if (process.env.SINKS_ONLY !== 'memory') await throughputCases();
    const memory = [
      await connected('bare: bus.select + ws.send per client', bareAttach),
      await connected('toWebSocket per client (bus.select at its demand)', sinkAttach),
    ];
    printTable(memory);
    console.log(
      `\n${CLIENTS} clients, ${STALLED} stalled, ${MEMORY_FRAMES} frames of ${PAYLOAD_BYTES} bytes: toWebSocket ${memory[1]?.heapDeltaMb.toFixed(1)} MB above idle (goal < 100 MB), bare ${memory[0]?.heapDeltaMb.toFixed(1)} MB`,
    );
  },
};
