import net from 'node:net';

/**
 * How the proxy treats connections:
 * - `pass`: forwards bytes both ways untouched.
 * - `refuse`: nothing listens on the port, so connecting fails with ECONNREFUSED (the client
 *   knows for sure that nothing was sent).
 * - `reset`: accepts, then answers with a TCP RST (a load balancer dropping connections).
 * - `blackhole`: accepts and reads, never forwards or answers (the worst outage: a client learns
 *   nothing until its own timeout).
 * - `slow`: forwards, but every chunk in each direction waits `slowDelayMs` first.
 */
export type ProxyMode = 'pass' | 'refuse' | 'reset' | 'blackhole' | 'slow';

export interface TcpProxyOptions {
  /** Where `pass` and `slow` forward to, e.g. `http://127.0.0.1:4566` (only host and port count). */
  target: string;
  /** Mode at start. Default `pass`. */
  mode?: ProxyMode;
  /** Delay added to every chunk in `slow` mode. Milliseconds, default 1500. */
  slowDelayMs?: number;
}

/**
 * A TCP proxy between a service and one of its dependencies, whose failure mode a test switches
 * at will. Switching mode cuts every open connection, as a real network outage would, so pooled
 * keep-alive sockets cannot carry the old behaviour into the new mode.
 */
export class TcpProxy {
  private mode: ProxyMode;
  private readonly target: { host: string; port: number };
  private readonly slowDelayMs: number;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: net.Server | undefined;
  private port = 0;
  /** Connections accepted so far, by the mode they met. */
  readonly accepted: Record<ProxyMode, number> = { pass: 0, refuse: 0, reset: 0, blackhole: 0, slow: 0 };

  private constructor(o: TcpProxyOptions) {
    const u = new URL(o.target);
    this.target = { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    this.mode = o.mode ?? 'pass';
    this.slowDelayMs = o.slowDelayMs ?? 1500;
    if (!(this.slowDelayMs >= 0)) throw new RangeError(`TcpProxy option slowDelayMs must be >= 0, got ${o.slowDelayMs}`);
  }

  /** Starts a proxy on a free port of 127.0.0.1; the port stays the same across mode changes. */
  static async start(o: TcpProxyOptions): Promise<TcpProxy> {
    const p = new TcpProxy(o);
    const wanted = p.mode;
    p.mode = 'pass';
    await p.listen();
    await p.setMode(wanted);
    return p;
  }

  /** `http://127.0.0.1:<port>`: give it to the client as the dependency's endpoint. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  /** Changes the failure mode, cutting every open connection. */
  async setMode(mode: ProxyMode): Promise<void> {
    this.dropConnections();
    const wasListening = this.server !== undefined;
    this.mode = mode;
    if (mode === 'refuse' && wasListening) await this.unlisten();
    if (mode !== 'refuse' && !wasListening) await this.listen();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await this.unlisten();
  }

  private async listen(): Promise<void> {
    const server = net.createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private async unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dropConnections(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => this.sockets.delete(s));
  }

  private onConnection(client: net.Socket): void {
    const mode = this.mode;
    this.accepted[mode]++;
    this.track(client);
    switch (mode) {
      case 'refuse': // a connection that raced the listener closing
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'blackhole':
        client.on('data', () => undefined);
        return;
      case 'pass':
      case 'slow': {
        const upstream = net.connect(this.target.port, this.target.host);
        this.track(upstream);
        const both = () => {
          client.destroy();
          upstream.destroy();
        };
        client.once('close', both);
        upstream.once('close', both);
        if (mode === 'pass') {
          client.pipe(upstream);
          upstream.pipe(client);
        } else {
          this.forwardSlowly(client, upstream);
          this.forwardSlowly(upstream, client);
        }
      }
    }
  }

  /** Every chunk (and the final end) waits the same delay, so order is kept. */
  private forwardSlowly(from: net.Socket, to: net.Socket): void {
    const later = (fn: () => void) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!to.destroyed) fn();
      }, this.slowDelayMs);
      this.timers.add(t);
    };
    from.on('data', (chunk: Buffer) => later(() => to.write(chunk)));
    from.once('end', () => later(() => to.end()));
  }
}
