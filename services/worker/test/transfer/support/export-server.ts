import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake export host answers for one path. */
export interface Served {
  status?: number;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Send the headers and this many body bytes, then go silent (a stalled connection). */
  stallAfterBytes?: number;
  /** Send the headers and this many body bytes, then cut the connection. */
  cutAfterBytes?: number;
}

/**
 * A real HTTP server standing in for S3's presigned export URLs: bodies go out in 64 KiB
 * writes, as a network would deliver them.
 */
export class ExportServer {
  readonly routes = new Map<string, Served>();
  readonly requests: string[] = [];
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push(url.pathname);
      const r = this.routes.get(url.pathname) ?? { status: 404, body: Buffer.from('<Error><Code>NoSuchKey</Code></Error>') };
      const body = r.body ?? Buffer.alloc(0);
      // A chunked response must not also declare its length.
      const length = r.headers?.['transfer-encoding'] ? {} : { 'content-length': String(body.length) };
      res.writeHead(r.status ?? 200, { ...length, ...r.headers });
      const limit = Math.min(body.length, r.stallAfterBytes ?? r.cutAfterBytes ?? body.length);
      for (let o = 0; o < limit; o += 65_536) res.write(body.subarray(o, Math.min(limit, o + 65_536)));
      if (r.cutAfterBytes !== undefined) res.socket?.destroy();
      else if (r.stallAfterBytes === undefined) res.end();
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  /** A presigned-looking URL for `path` (the query must never reach an error message). */
  url(path: string): string {
    const { port } = this.#server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}?X-Amz-Signature=secret-signature`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
