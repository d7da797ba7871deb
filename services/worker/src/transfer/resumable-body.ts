import { connectionError, interrupted, isResumable, parseLength, statusError, tooLarge } from './download-errors.ts';
import { collectDeadChunks } from './dead-chunks.ts';
import type { HttpAnswer, HttpGet } from './http-get.ts';

export interface BodyOptions {
  /** URL to GET; `where` (origin and path) names it in errors. */
  url: string;
  where: string;
  /** Most bytes accepted; more is a ZipTooLarge PermanentError. */
  maxBytes: number;
  /** Milliseconds without a byte after which the connection counts as stalled. */
  stallTimeoutMs: number;
  get: HttpGet;
  signal?: AbortSignal;
}

/** What the response said about the body before its first byte. */
export interface DownloadHead {
  /** Content-Length when the bytes arrive as sent (no content-encoding); otherwise unknown. */
  size?: number;
  /** The object's ETag, for ranged reads of the same object (`If-Match`). */
  etag?: string;
}

/** A response body read in order, picked up again by Range when its connection breaks or stalls. */
export interface ResumableBody {
  readonly head: DownloadHead;
  /** Times a broken or stalled connection was picked up where it stopped. */
  readonly resumes: number;
  /** The next chunk, `null` once the body ended whole; rejects with a classified error. */
  pull(): Promise<Buffer | null>;
  /** Drops the connection: nobody reads the rest. */
  close(): Promise<void>;
}

/** Most times one body is picked up again after its connection broke or stalled. */
const MAX_RESUMES = 3;

/**
 * GETs `url` and returns its body once the headers are in (a refused or unavailable URL, or a
 * declared length above `maxBytes`, rejects here, classified). A connection that breaks or stalls
 * mid-body is resumed by a Range request for the rest, under If-Match with the first answer's
 * ETag, counted only if it is a 206 for exactly those bytes of an object of the same size; up to
 * MAX_RESUMES times. The stall timer runs only while a chunk is awaited from the network, so a
 * reader that pauses the body is not a stalled server.
 */
export async function openResumableBody(o: BodyOptions): Promise<ResumableBody> {
  // One stall timer per request: a stalled connection is given up, and may be resumed by another.
  let stall = new AbortController();
  const attemptSignal = (): AbortSignal => {
    stall = new AbortController();
    return o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal;
  };
  let signal = attemptSignal();
  // One timer for the whole body, not a new one per chunk (a Timeout made and cleared per 64 KiB
  // chunk was a measurable share of a small export's CPU): `waitingSince` says whether, and since
  // when, a chunk or an answer is awaited; the timer aborts the request only if that wait has
  // lasted stallTimeoutMs, and otherwise looks again when it could have. Unref'd: the request
  // itself keeps the process alive.
  let waitingSince: number | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  const checkStall = () => {
    stallTimer = undefined;
    if (waitingSince === undefined) return;
    const left = waitingSince + o.stallTimeoutMs - performance.now();
    if (left <= 0) stall.abort();
    else stallTimer = setTimeout(checkStall, left).unref();
  };
  const startWaiting = () => {
    waitingSince = performance.now();
    stallTimer ??= setTimeout(checkStall, o.stallTimeoutMs).unref();
  };
  const stopWaiting = () => {
    waitingSince = undefined;
  };
  const failure = (err: unknown, what: string) =>
    connectionError(err, { where: o.where, what, signal: o.signal, stalled: stall.signal.aborted, stallTimeoutMs: o.stallTimeoutMs });

  let res: HttpAnswer;
  startWaiting();
  try {
    res = await o.get(o.url, { signal });
  } catch (err) {
    throw failure(err, 'failed');
  } finally {
    stopWaiting();
  }
  if (res.status < 200 || res.status > 299) {
    res.discard();
    throw statusError(res, o.where);
  }
  // Content-Length describes the encoded body; only trust it when the bytes arrive as sent.
  const declared = res.header('content-encoding') ? undefined : parseLength(res.header('content-length'));
  if (declared !== undefined && declared > o.maxBytes) {
    res.discard();
    throw tooLarge(o.where, declared, o.maxBytes);
  }
  const etag = res.header('etag');
  let iterator: AsyncIterator<Buffer> = res.body[Symbol.asyncIterator]();
  let received = 0;
  let resumes = 0;

  const resume = async (cause: Error): Promise<AsyncIterator<Buffer> | undefined> => {
    if (!isResumable(cause) || declared === undefined || resumes >= MAX_RESUMES || o.signal?.aborted) return undefined;
    resumes++;
    await iterator.return?.().catch(() => undefined);
    signal = attemptSignal();
    startWaiting();
    try {
      const rest = await getExactRange(o.get, o.url, {
        first: received,
        last: declared - 1,
        total: declared,
        ...(etag ? { etag } : {}),
        signal,
      });
      return rest?.body[Symbol.asyncIterator]();
    } catch {
      return undefined;
    } finally {
      stopWaiting();
    }
  };

  const pull = async (): Promise<Buffer | null> => {
    for (;;) {
      startWaiting();
      let broke: Error | undefined;
      let chunk: Buffer | undefined;
      try {
        const r = await iterator.next();
        if (!r.done) chunk = r.value;
        // A body that ends short of its Content-Length broke off as surely as one that errors.
        else if (declared !== undefined && received !== declared) broke = interrupted(o.where, received, `of ${declared}`);
        else return null;
      } catch (err) {
        broke = failure(err, 'broke off');
      } finally {
        stopWaiting();
      }
      if (broke) {
        // Every byte is in: only the end of the body was lost.
        if (declared !== undefined && received === declared) return null;
        const rest = await resume(broke);
        if (!rest) throw broke;
        iterator = rest;
        continue;
      }
      received += chunk!.length;
      collectDeadChunks(chunk!.length);
      if (received > o.maxBytes) throw tooLarge(o.where, received, o.maxBytes);
      if (declared !== undefined && received > declared) throw interrupted(o.where, received, `more than the ${declared} it declared`);
      return chunk!;
    }
  };

  return {
    head: { ...(declared !== undefined ? { size: declared } : {}), ...(etag ? { etag } : {}) },
    get resumes() {
      return resumes;
    },
    pull,
    close: async () => {
      stopWaiting();
      clearTimeout(stallTimer);
      stallTimer = undefined;
      await iterator.return?.().catch(() => undefined);
    },
  };
}

/**
 * GETs bytes [first, last] of the object at `url`, under If-Match when its ETag is known. The
 * answer counts only if it is a 206 for exactly those bytes of an object of `total` bytes, sent
 * as stored: then it is returned; otherwise it is dropped and the result is undefined. Network
 * errors throw.
 */
export async function getExactRange(
  get: HttpGet,
  url: string,
  o: { first: number; last: number; total: number; etag?: string; signal: AbortSignal },
): Promise<HttpAnswer | undefined> {
  const res = await get(url, {
    signal: o.signal,
    headers: { range: `bytes=${o.first}-${o.last}`, ...(o.etag ? { 'if-match': o.etag } : {}) },
  });
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.header('content-range') ?? '');
  const exact =
    res.status === 206 &&
    !res.header('content-encoding') &&
    !!range &&
    Number(range[1]) === o.first &&
    Number(range[2]) === o.last &&
    Number(range[3]) === o.total;
  if (exact) return res;
  res.discard();
  return undefined;
}
