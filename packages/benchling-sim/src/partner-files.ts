import { createCipheriv, createHash } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { byteRange, ifMatchFails } from './byte-range.ts';

/**
 * A sequencing partner's file server for a run: every file's bytes are generated from its run id,
 * path and size (AES-128-CTR keystream keyed by them), so any byte range can be produced at once
 * without storing anything, a multi-GB file streams in constant memory, and the same file is
 * the same bytes on every request (and in every process). URLs:
 * `/partner-runs/<run>/<path>?size=N` — Range and If-Match as S3 answers them (byte-range.ts), a
 * strong ETag; `&redirect=<url>` answers 302 to that URL instead (for the worker's redirect checks).
 */
export const PARTNER_FILES_PATH = '/partner-runs';

/** URL of a generated run file on a server at `base`. */
export function partnerFileUrl(base: string, runId: string, path: string, size: number): string {
  const p = path.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/$/, '')}${PARTNER_FILES_PATH}/${encodeURIComponent(runId)}/${p}?size=${size}`;
}

const BLOCK = 16;
const STREAM_CHUNK = 256 * 1024;

function keyFor(runId: string, path: string, size: number): Buffer {
  return createHash('sha256').update(`${runId}\n${path}\n${size}`).digest().subarray(0, 16);
}

/** Bytes [start, end) of a generated file. */
export function* runFileChunks(runId: string, path: string, size: number, start = 0, end = size): Generator<Buffer> {
  const key = keyFor(runId, path, size);
  const firstBlock = Math.floor(start / BLOCK);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(firstBlock), 8);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const zeros = Buffer.alloc(STREAM_CHUNK);
  let pos = firstBlock * BLOCK;
  while (pos < end) {
    const n = Math.min(STREAM_CHUNK, end - pos);
    let out = cipher.update(zeros.subarray(0, n));
    if (pos < start) out = out.subarray(start - pos);
    pos += n;
    if (out.length > 0) yield out;
  }
}

/** Hex SHA-256 of a generated file (streams it: seconds per GB). */
export function runFileSha256(runId: string, path: string, size: number): string {
  const h = createHash('sha256');
  for (const c of runFileChunks(runId, path, size)) h.update(c);
  return h.digest('hex');
}

/** Node request handler for `/partner-runs/...`; calls `next` (or 404s) for any other path. */
export function handlePartnerFile(req: IncomingMessage, res: ServerResponse, next?: () => void): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = new RegExp(`^${PARTNER_FILES_PATH}/([^/]+)/(.+)$`).exec(url.pathname);
  const size = Number(url.searchParams.get('size'));
  if (!m || !Number.isSafeInteger(size) || size < 0 || (req.method !== 'GET' && req.method !== 'HEAD')) {
    if (next) next();
    else res.writeHead(404).end();
    return;
  }
  const redirect = url.searchParams.get('redirect');
  if (redirect) {
    res.writeHead(302, { location: redirect }).end();
    return;
  }
  const runId = decodeURIComponent(m[1]!);
  const path = m[2]!.split('/').map(decodeURIComponent).join('/');
  const etag = `"${keyFor(runId, path, size).toString('hex')}"`;
  let start = 0;
  let end = size;
  let status = 200;
  const headers: Record<string, string | number> = { etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (ifMatchFails(req.headers['if-match'], etag)) return void res.writeHead(412, { etag }).end();
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
  if (range) {
    ({ start, end } = range);
    status = 206;
    headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
  }
  headers['content-length'] = end - start;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return void res.end();
  const chunks = runFileChunks(runId, path, size, start, end);
  const pump = () => {
    for (;;) {
      const c = chunks.next();
      if (c.done) return void res.end();
      if (!res.write(c.value)) return void res.once('drain', pump);
    }
  };
  res.on('close', () => chunks.return(undefined));
  pump();
}

/** A standalone partner file server (tests, the bench); `pnpm sim serve` mounts the same handler. */
export async function startPartnerFileServer(
  port = 0,
  host = '127.0.0.1',
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = http.createServer((req, res) => handlePartnerFile(req, res));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
