import { open } from 'node:fs/promises';
import { PermanentError, TransientError } from '@bp/shared';

export interface DownloadOptions {
  /** URL to GET; only its origin and path appear in errors (the query holds a signature). */
  url: string;
  /** File to create; must not exist. */
  dest: string;
  /** Most bytes accepted; more is a ZipTooLarge PermanentError. */
  maxBytes: number;
  /** Milliseconds without a byte after which the download counts as stalled. */
  stallTimeoutMs: number;
  fetch: typeof fetch;
  signal?: AbortSignal;
}

/** Status codes that say the URL will never work: the export expired, was deleted, or was never ours. */
const PERMANENT_STATUS: Record<number, string> = { 403: 'DownloadForbidden', 404: 'DownloadNotFound', 410: 'DownloadGone' };

/**
 * Streams a URL's body into a new file, never holding more than one network chunk in memory,
 * and classifies every failure: refused URLs are permanent, unavailable servers, broken and
 * stalled connections are transient. Returns the byte count.
 */
export async function downloadToFile(o: DownloadOptions): Promise<number> {
  const where = describeUrl(o.url);
  const stall = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(), o.stallTimeoutMs);
  };
  const signal = o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal;
  const failure = (err: unknown, what: string): Error => {
    if (err instanceof PermanentError || err instanceof TransientError) return err;
    if (o.signal?.aborted) return new TransientError(`export download from ${where} aborted`, { code: 'TransferAborted', cause: o.signal.reason });
    if (stall.signal.aborted) {
      return new TransientError(`export download from ${where} stalled: no data for ${o.stallTimeoutMs} ms`, { code: 'DownloadStalled', details: { url: where } });
    }
    return new TransientError(`export download from ${where} ${what}: ${(err as Error).message}`, { code: 'DownloadInterrupted', cause: err, details: { url: where } });
  };

  armStallTimer();
  try {
    let res: Response;
    try {
      res = await o.fetch(o.url, { signal, redirect: 'follow' });
    } catch (err) {
      throw failure(err, 'failed');
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res, where);
    }
    if (!res.body) throw new TransientError(`export download from ${where} returned no body`, { code: 'DownloadInterrupted', details: { url: where } });
    // Content-Length describes the encoded body; only trust it when the bytes arrive as sent.
    const declared = res.headers.get('content-encoding') ? undefined : parseLength(res.headers.get('content-length'));
    if (declared !== undefined && declared > o.maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw tooLarge(where, declared, o.maxBytes);
    }

    const file = await open(o.dest, 'wx', 0o600);
    let bytes = 0;
    try {
      for await (const chunk of res.body) {
        armStallTimer();
        bytes += chunk.byteLength;
        if (bytes > o.maxBytes) throw tooLarge(where, bytes, o.maxBytes);
        await file.write(chunk);
      }
    } catch (err) {
      throw failure(err, 'broke off');
    } finally {
      await file.close();
    }
    if (declared !== undefined && bytes !== declared) {
      throw new TransientError(`export download from ${where} ended after ${bytes} of ${declared} bytes`, { code: 'DownloadInterrupted', details: { url: where } });
    }
    return bytes;
  } finally {
    clearTimeout(stallTimer);
  }
}

function statusError(res: Response, where: string): Error {
  const details = { url: where, status: res.status };
  const permanent = PERMANENT_STATUS[res.status];
  if (permanent) return new PermanentError(`export download from ${where} refused: HTTP ${res.status}`, { code: permanent, details });
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return new TransientError(`export download from ${where} unavailable: HTTP ${res.status}`, {
      code: 'DownloadUnavailable',
      details,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    });
  }
  return new PermanentError(`export download from ${where} rejected: HTTP ${res.status}`, { code: 'DownloadRejected', details });
}

function tooLarge(where: string, bytes: number, max: number): PermanentError {
  return new PermanentError(`export ZIP from ${where} is larger than ${max} bytes (at least ${bytes})`, {
    code: 'ZipTooLarge',
    details: { url: where, bytes, maxZipBytes: max },
  });
}

/** `Retry-After` as milliseconds: either delta-seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseLength(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** Origin and path only: a presigned URL's query string is a credential. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
