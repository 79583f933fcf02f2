/**
 * A loopback TCP proxy that a fault test puts between one client and a server (for example
 * one worker and ZooKeeper) to break the link for real:
 *
 *  - `pause()`: a silent partition. Connections stay open but no byte moves either way, and
 *    a close by either side is not passed on; new connections are accepted and held too. The
 *    client hears nothing (node-zookeeper-client does not notice this on its own), the server
 *    hears nothing (it expires the session after the session timeout).
 *  - `cut()`: every connection is reset at once, and new ones are refused until `restore()`.
 *  - `blackhole()`: every connection is reset at once, and new ones are accepted but never
 *    served nor closed (a server that is starting and drops what it accepted) until `restore()`;
 *    those stay dead.
 *  - `resume()` / `restore()` end the fault; `heal()` ends any.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpTarget {
  host: string;
  port: number;
}

interface Link {
  client: Socket;
  server: Socket;
  /** Which side ended or failed while paused, passed on at resume. */
  endedWhilePaused: boolean;
}

export class TcpProxy {
  readonly target: TcpTarget;
  readonly #server: Server;
  readonly #links = new Set<Link>();
  #paused = false;
  #refusing = false;
  #blackholing = false;
  readonly #held = new Set<Socket>();
  /** Connections accepted so far (a reconnecting client shows up here). */
  accepted = 0;

  private constructor(target: TcpTarget, server: Server) {
    this.target = target;
    this.#server = server;
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: TcpTarget): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(target, server);
    server.on('connection', (s) => proxy.#accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** `host:port` of the proxy, to put in a connect string. */
  get address(): string {
    const a = this.#server.address();
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Live connections. */
  get connections(): number {
    return this.#links.size;
  }

  #accept(client: Socket): void {
    this.accepted++;
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    if (this.#blackholing) {
      this.#held.add(client);
      client.pause();
      client.on('error', () => {});
      client.on('close', () => this.#held.delete(client));
      return;
    }
    const server = connect(this.target.port, this.target.host);
    const link: Link = { client, server, endedWhilePaused: false };
    this.#links.add(link);
    client.setNoDelay(true);
    server.setNoDelay(true);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (!this.#paused) from.resume();
          });
        }
      });
    };
    forward(client, server);
    forward(server, client);
    const close = () => {
      if (this.#paused) {
        link.endedWhilePaused = true;
        return;
      }
      this.#drop(link);
    };
    for (const s of [client, server]) {
      s.on('end', close);
      s.on('close', close);
      s.on('error', () => close());
    }
    if (this.#paused) {
      client.pause();
      server.pause();
    }
  }

  #drop(link: Link): void {
    if (!this.#links.delete(link)) return;
    link.client.destroy();
    link.server.destroy();
  }

  /** Silent partition: nothing moves, nothing closes, until {@link resume}. */
  pause(): void {
    this.#paused = true;
    for (const l of this.#links) {
      l.client.pause();
      l.server.pause();
    }
  }

  resume(): void {
    this.#paused = false;
    for (const l of [...this.#links]) {
      if (l.endedWhilePaused) {
        this.#drop(l);
        continue;
      }
      l.client.resume();
      l.server.resume();
    }
  }

  /** Resets every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.#refusing = true;
    for (const l of [...this.#links]) {
      this.#links.delete(l);
      l.client.resetAndDestroy();
      l.server.destroy();
    }
  }

  /** Resets every connection; new ones are accepted and then ignored, until {@link restore}. */
  blackhole(): void {
    this.#blackholing = true;
    for (const l of [...this.#links]) {
      this.#links.delete(l);
      l.client.resetAndDestroy();
      l.server.destroy();
    }
  }

  restore(): void {
    this.#refusing = false;
    this.#blackholing = false;
  }

  /** Ends any fault. */
  heal(): void {
    this.restore();
    this.resume();
  }

  async close(): Promise<void> {
    this.#paused = false;
    for (const l of [...this.#links]) this.#drop(l);
    for (const c of this.#held) c.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
