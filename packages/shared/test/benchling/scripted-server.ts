import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, e.g. `/api/v2/entries/etr_1`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer: a status with JSON body and headers, or `'hang'` to never answer. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/** Computes a reply; `n` counts requests to this route from 1. */
export type ReplyFn = (req: RecordedRequest, n: number) => Reply;

/**
 * A real HTTP server that answers each route from a script, in order, repeating the last reply,
 * and records every request so tests can count what the client actually sent.
 * `POST /api/v2/token` answers `token-1`, `token-2`, … (expires_in 900) unless scripted otherwise.
 */
export class ScriptedServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, { replies: (Reply | ReplyFn)[]; count: number }>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedServer> {
    let self: ScriptedServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        self!.answer(
          { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') },
          res,
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new ScriptedServer(server, `http://127.0.0.1:${port}`);
    self.script('POST', '/api/v2/token', (_req, n) => ({
      status: 200,
      body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 900 },
    }));
    return self;
  }

  /** Sets the replies for `METHOD path` (path without query), replacing any earlier script. */
  script(method: string, path: string, ...replies: (Reply | ReplyFn)[]): void {
    if (replies.length === 0) throw new Error('script needs at least one reply');
    this.routes.set(`${method} ${path}`, { replies, count: 0 });
  }

  /** Requests received for `METHOD path` (path without query). */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.split('?')[0] === path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: RecordedRequest, res: ServerResponse): void {
    this.requests.push(req);
    const route = this.routes.get(`${req.method} ${req.path.split('?')[0]}`);
    if (!route) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { type: 'invalid_request_error', message: `unscripted ${req.method} ${req.path}` } }));
      return;
    }
    route.count += 1;
    const step = route.replies[Math.min(route.count, route.replies.length) - 1]!;
    const reply = typeof step === 'function' ? step(req, route.count) : step;
    if (reply === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }
}
