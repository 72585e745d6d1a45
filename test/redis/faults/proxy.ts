/**
 * A fault-injecting TCP proxy on loopback, in front of a redis-server, for the fault specs. Each
 * client connection gets its own upstream connection; the faults act on the connections open
 * when they are armed:
 *
 * - `loseNextReply()`: the next bytes the server sends are dropped and that client is cut (the
 *   command ran; its answer never arrives).
 * - `delay(ms)`: requests reach the server `ms` later (0: again at once).
 * - `holdNextRequest()`: the next request is held, and its client is cut at once (it sees a
 *   lost connection and retries elsewhere); `release()` delivers the request to the server later,
 *   on its own upstream connection, as a packet stuck in the network would arrive.
 * - `cut()`: every open connection is closed (a FIN to both sides).
 * - `halfOpen()`: every open connection stops carrying anything, both ways, and stays open (a
 *   peer gone without a FIN); new connections work.
 * - `retarget(port)`: new connections go to another server (a failover behind one address).
 */
import { createServer, type Server, Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Nothing passes any more, nothing is closed. */
  frozen: boolean;
}

export class FaultProxy {
  readonly port: number;
  /** Connections accepted so far. */
  accepted = 0;
  private readonly links = new Set<Link>();
  /** Upstream connections of frozen links whose client left: open until `stop()`. */
  private readonly stuck = new Set<Socket>();
  private loseReply: (() => void) | undefined;
  private holdRequest: ((held: () => void) => void) | undefined;
  private delayMs = 0;

  private constructor(
    private readonly server: Server,
    port: number,
    private target: number,
  ) {
    this.port = port;
  }

  /** Listens on a free loopback port and forwards to `target` (a port on 127.0.0.1). */
  static start(target: number): Promise<FaultProxy> {
    return new Promise((resolve) => {
      let proxy: FaultProxy | undefined;
      const server = createServer((client) => proxy?.accept(client));
      server.listen(0, '127.0.0.1', () => {
        proxy = new FaultProxy(server, (server.address() as { port: number }).port, target);
        resolve(proxy);
      });
    });
  }

  /** Resolves once a reply was dropped and its client cut. */
  loseNextReply(): Promise<void> {
    return new Promise((resolve) => {
      this.loseReply = resolve;
    });
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * Resolves, once the next request was held and its client cut, with a function that delivers
   * it to the server.
   */
  holdNextRequest(): Promise<() => Promise<void>> {
    return new Promise((resolve) => {
      this.holdRequest = (deliver) =>
        resolve(async () => {
          deliver();
          await new Promise((done) => setTimeout(done, 50));
        });
    });
  }

  cut(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
  }

  halfOpen(): void {
    for (const link of this.links) link.frozen = true;
  }

  retarget(port: number): void {
    this.target = port;
  }

  async stop(): Promise<void> {
    this.cut();
    for (const upstream of this.stuck) upstream.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = new Socket();
    const link: Link = { client, upstream, frozen: false };
    this.links.add(link);
    upstream.connect(this.target, '127.0.0.1');
    client.on('data', (data) => {
      if (link.frozen) return;
      const hold = this.holdRequest;
      if (hold !== undefined) {
        this.holdRequest = undefined;
        // The client sees its connection lost; the request stays in "the network".
        link.frozen = true;
        client.destroy();
        hold(() => upstream.write(data));
        return;
      }
      if (this.delayMs > 0) {
        setTimeout(() => {
          if (!link.frozen && !upstream.destroyed) upstream.write(data);
        }, this.delayMs);
      } else upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (link.frozen) return;
      const lose = this.loseReply;
      if (lose !== undefined) {
        this.loseReply = undefined;
        client.destroy();
        upstream.destroy();
        lose();
        return;
      }
      client.write(data);
    });
    const close = () => {
      this.links.delete(link);
      // A held request still reaches the server after its client is gone.
      if (link.frozen) this.stuck.add(upstream);
      else upstream.destroy();
      client.destroy();
    };
    client.on('error', close);
    client.on('close', close);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      this.links.delete(link);
      if (!link.frozen) client.destroy();
    });
  }
}
