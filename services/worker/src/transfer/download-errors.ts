/**
 * What a failed export download means for the job: every answer and every broken connection is
 * turned into a PermanentError (the URL will never work, the ZIP is too large) or a
 * TransientError (unavailable, interrupted, stalled, aborted), with the URL's origin and path
 * only: a presigned URL's query string is a credential.
 */
import { type ErrorCode, PermanentError, TransientError } from '@bp/shared';
import type { HttpAnswer } from './http-get.ts';

/** Status codes that say the URL will never work: the export expired, was deleted, or was never ours. */
const PERMANENT_STATUS: Record<number, ErrorCode> = { 403: 'DownloadForbidden', 404: 'DownloadNotFound', 410: 'DownloadGone' };

/** The error for a non-2xx answer. */
export function statusError(res: HttpAnswer, where: string): Error {
  const details = { url: where, status: res.status };
  const permanent = PERMANENT_STATUS[res.status];
  if (permanent) return new PermanentError(`export download from ${where} refused: HTTP ${res.status}`, { code: permanent, details });
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return new TransientError(`export download from ${where} unavailable: HTTP ${res.status}`, {
      code: 'DownloadUnavailable',
      details,
      retryAfterMs: retryAfterMs(res.header('retry-after')),
    });
  }
  return new PermanentError(`export download from ${where} rejected: HTTP ${res.status}`, { code: 'DownloadRejected', details });
}

/**
 * The error for a request or body that failed: our own errors keep their class; otherwise the
 * signal's abort, then a stall (the stall timer fired), then a plain interruption.
 */
export function connectionError(
  err: unknown,
  o: { where: string; what: string; signal: AbortSignal | undefined; stalled: boolean; stallTimeoutMs: number },
): Error {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  if (o.signal?.aborted)
    return new TransientError(`export download from ${o.where} aborted`, { code: 'TransferAborted', cause: o.signal.reason });
  if (o.stalled) {
    return new TransientError(`export download from ${o.where} stalled: no data for ${o.stallTimeoutMs} ms`, {
      code: 'DownloadStalled',
      details: { url: o.where },
    });
  }
  return new TransientError(`export download from ${o.where} ${o.what}: ${(err as Error).message}`, {
    code: 'DownloadInterrupted',
    cause: err,
    details: { url: o.where },
  });
}

/** A body that ended at the wrong length. */
export function interrupted(where: string, got: number, wanted: string): TransientError {
  return new TransientError(`export download from ${where} ended after ${got} bytes, ${wanted}`, {
    code: 'DownloadInterrupted',
    details: { url: where },
  });
}

/** Whether a resumed request could pick the body up where `err` stopped it. */
export function isResumable(err: unknown): boolean {
  return err instanceof TransientError && (err.code === 'DownloadInterrupted' || err.code === 'DownloadStalled');
}

export function tooLarge(where: string, bytes: number, max: number): PermanentError {
  return new PermanentError(`export ZIP from ${where} is larger than ${max} bytes (at least ${bytes})`, {
    code: 'ZipTooLarge',
    details: { url: where, bytes, maxZipBytes: max },
  });
}

/** `Retry-After` as milliseconds: either delta-seconds or an HTTP date. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Content-Length as a number, or undefined if absent or not a plain integer. */
export function parseLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
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
