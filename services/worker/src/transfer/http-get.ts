import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/** An answer to a GET: status, headers, and the body as Buffers. */
export interface HttpAnswer {
  status: number;
  /** A response header (lower-case name), or undefined. */
  header(name: string): string | undefined;
  body: AsyncIterable<Buffer>;
  /** Drops the body unread (the connection is closed, not drained). */
  discard(): void;
}

/** GETs a URL: the export downloads' one HTTP call, so tests and other transports can stand in for it. */
export type HttpGet = (url: string, o: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<HttpAnswer>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * HttpGet on node:http / node:https. The export body is the hot path of a transfer, and Node's
 * own client hands the socket's Buffers straight on: measured against fetch on the same 20 MB
 * download, about a third less CPU once warm, and no undici to load on the first one.
 * Redirects are followed (up to 5), as fetch would; the body's errors (a reset, an abort)
 * reject its iteration.
 */
export const nodeHttpGet: HttpGet = async (url, o) => {
  let target = url;
  for (let hop = 0; ; hop++) {
    const res = await request(target, o);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location || hop === MAX_REDIRECTS) return answer(res);
    res.destroy();
    target = new URL(location, target).toString();
  }
};

function request(url: string, o: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<IncomingMessage> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = client.get(url, { headers: o.headers ?? {}, ...(o.signal ? { signal: o.signal } : {}) }, resolve);
    req.once('error', reject);
  });
}

function answer(res: IncomingMessage): HttpAnswer {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: res,
    discard: () => res.destroy(),
  };
}
