import { createHash } from 'node:crypto';
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
  /** Send this many body bytes, then wait for `resume` before sending the rest. */
  pauseAfterBytes?: number;
  resume?: Promise<void>;
  /** Answer Range requests with the whole body and 200, as a server without Range support does. */
  ignoreRange?: boolean;
  /** Serve Range requests from this body instead (the object changed between requests). */
  rangeBody?: Buffer;
  /** Answer 503 to Range requests that start before this byte (a resume fails, the tail still works). */
  refuseRangeBefore?: number;
  /** Answer 307 to this path (on the same server) instead. */
  redirectTo?: string;
}

/**
 * A real HTTP server standing in for S3's presigned export URLs: bodies go out in 64 KiB
 * writes, as a network would deliver them. Like S3 it answers `Range: bytes=a-b` with 206 and
 * sends an ETag, honouring `If-Match` (412 when it differs).
 */
export class ExportServer {
  readonly routes = new Map<string, Served>();
  readonly requests: string[] = [];
  /** `path bytes=a-b` for every Range request. */
  readonly rangeRequests: string[] = [];
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push(url.pathname);
      const r = this.routes.get(url.pathname) ?? { status: 404, body: Buffer.from('<Error><Code>NoSuchKey</Code></Error>') };
      if (r.redirectTo) return res.writeHead(307, { location: r.redirectTo }).end();
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      if (range && !r.ignoreRange && (r.status ?? 200) === 200) {
        this.rangeRequests.push(`${url.pathname} ${req.headers.range}`);
        if (r.refuseRangeBefore !== undefined && Number(range[1]) < r.refuseRangeBefore) return res.writeHead(503).end();
        const whole = r.rangeBody ?? r.body ?? Buffer.alloc(0);
        const etag = etagOf(whole);
        if (req.headers['if-match'] && req.headers['if-match'] !== etag) return res.writeHead(412).end();
        const first = Number(range[1]);
        const last = Math.min(Number(range[2]), whole.length - 1);
        if (first > last) return res.writeHead(416, { 'content-range': `bytes */${whole.length}` }).end();
        const part = whole.subarray(first, last + 1);
        res.writeHead(206, { 'content-length': String(part.length), 'content-range': `bytes ${first}-${last}/${whole.length}`, etag });
        return res.end(part);
      }
      const body = r.body ?? Buffer.alloc(0);
      // A chunked response must not also declare its length.
      const length = r.headers?.['transfer-encoding'] ? {} : { 'content-length': String(body.length) };
      res.writeHead(r.status ?? 200, { ...length, etag: etagOf(body), ...r.headers });
      const limit = Math.min(body.length, r.stallAfterBytes ?? r.cutAfterBytes ?? body.length);
      for (let o = 0; o < limit; o += 65_536) {
        if (r.pauseAfterBytes !== undefined && o >= r.pauseAfterBytes && o - 65_536 < r.pauseAfterBytes) await r.resume;
        const chunk = body.subarray(o, Math.min(limit, o + 65_536));
        // Before a cut, let every byte go out first: the client sees the headers and `limit` bytes, then the break.
        if (r.cutAfterBytes !== undefined) await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
        else res.write(chunk);
      }
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

function etagOf(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}
