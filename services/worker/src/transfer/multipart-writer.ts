/**
 * Streams one object into S3 on `@aws-sdk/client-s3`'s multipart API, its parts copied into the
 * buffers of a shared PartPool (so memory is bounded by the pool, not by files or their size).
 * Used by the export transfer; the partner transfers stream run files from URLs through it too.
 *
 * - An object that fits in one part (the source ended before a second part began) is one
 *   PutObject; anything larger is a multipart upload with up to `concurrency` parts in flight.
 * - Each part is one Quilt chunk: its SHA-256, computed once, is both the manifest's chunk digest
 *   and the part's signed payload hash (see part-hasher.ts).
 * - A part or PUT that fails transiently (no answer, 429, 5xx) is sent again, up to
 *   `attempts` times in all, on top of the SDK's own retries.
 * - On any failure, or when `signal` aborts, the source is destroyed, parts in flight are
 *   cancelled and the multipart upload is aborted (so no parts linger and bill) before the error
 *   is thrown. A CreateMultipartUpload, PutObject or CompleteMultipartUpload already sent is not
 *   cancelled: cut off, it could still create an upload or an object unseen. It finishes; the
 *   upload is then aborted, and an object is returned so the caller can roll it back. A declared
 *   `size` is enforced: more bytes fail at once, fewer before S3 completes.
 *
 * Errors are thrown as they came (SDK errors, `SizeMismatch` PermanentError, `TransferAborted`);
 * the caller classifies them for its own job.
 */
import type { Readable } from 'node:stream';
import pRetry from 'p-retry';
import { PackagerError, PermanentError, TransientError } from '@bp/shared';
import type { ChunkedHash } from '@bp/shared/quilt/hash';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { PartHasher } from './part-hasher.ts';
import { type PartPool, sharedPartPool } from './part-pool.ts';

export interface UploadStreamOptions {
  bucket: string;
  key: string;
  /** Part buffers; their size is the part size. Default the process-wide pool (sharedPartPool). */
  pool?: PartPool;
  /** Bytes the source will send, when known: enforced exactly. Unknown: the object is hashed with 8 MiB chunks. */
  size?: number;
  /** Parts of this object in flight at once. Default 4. */
  concurrency?: number;
  /** Sends of one part (or PUT) in all, for transient failures. Default 3. */
  attempts?: number;
  contentType?: string;
  signal?: AbortSignal;
  /**
   * Checks the bytes as they stream, e.g. a ZIP entry's CRC-32: `update` sees every chunk, and
   * `verify` runs once the source has ended, before the object is created; it throws to refuse it.
   */
  check?: StreamCheck;
  /** Hears the upload id once the multipart upload exists (for logs and tests). */
  onMultipartStarted?: (uploadId: string) => void;
  /**
   * Called once every part of a multipart upload is in, before CompleteMultipartUpload is sent:
   * from then on the object holds no part buffer, while S3 may take a while to assemble it.
   */
  onCompleting?: () => void;
}

export interface StreamCheck {
  update(chunk: Buffer): void;
  verify(): void;
}

/** The object as stored: size and hash computed from the bytes as they streamed. */
export interface UploadedObject {
  size: number;
  hash: ChunkedHash;
  versionId?: string;
  etag?: string;
}

const PAYLOAD_HASH = 'x-amz-content-sha256';

/** Streams `source` to s3://bucket/key through the pool's buffers; see the module comment. */
export async function uploadStream(s3: S3Client, source: Readable, o: UploadStreamOptions): Promise<UploadedObject> {
  const pool = o.pool ?? sharedPartPool();
  const partBytes = pool.partBytes;
  const concurrency = o.concurrency ?? 4;
  const { bucket: Bucket, key: Key } = o;
  if (o.size !== undefined && Math.ceil(o.size / partBytes) > 10_000) {
    throw new PermanentError(`${Key}: ${o.size} bytes need more than 10,000 parts of ${partBytes} bytes`, { code: 'ObjectTooLarge' });
  }
  const hasher = new PartHasher(o.size, partBytes);
  // Cancels the requests in flight once the upload has failed or is stopped.
  const stop = new AbortController();
  // Made when the first part goes, since only parts are cancelled: an object of one PUT (most
  // files) never needs it, and AbortSignal.any is a measurable share of a small file's CPU.
  let combined: AbortSignal | undefined;
  const signal = () => (combined ??= o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal);
  /** What can stop the upload so far: before the first part only the caller (nothing fails meanwhile), then the combined signal. */
  const stopping = () => combined ?? o.signal ?? stop.signal;
  const send = <T>(what: () => Promise<T>) => sendWithRetry(what, o.attempts ?? 3, signal(), true);
  // For the requests that create the object: never abandoned while in flight (see the module comment).
  const sendToEnd = <T>(what: () => Promise<T>) => sendWithRetry(what, o.attempts ?? 3, stopping(), false);

  let buf: Buffer | undefined;
  let filled = 0;
  let received = 0;
  let partNumber = 0;
  let uploadId: Promise<string> | undefined;
  const parts: Array<{ PartNumber: number; ETag: string }> = [];
  const inFlight = new Set<Promise<void>>();
  let failure = undefined as { err: unknown } | undefined;
  const throwIfFailed = () => {
    if (failure) throw failure.err;
  };
  const fail = (err: unknown) => {
    failure ??= { err };
    stop.abort(err);
    // Ends a wait on the source too (a part failed while the download is slow): the loop throws at once.
    if (!source.destroyed) source.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  const onAbort = () => source.destroy(aborted(o.signal?.reason));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  /** Sends the full buffer as the next part; waits while `concurrency` parts are in flight. */
  const dispatch = async (part: Buffer, length: number) => {
    // Its parts are cancelled on failure: from now on requests carry the combined signal.
    signal();
    const PartNumber = ++partNumber;
    const body = part.subarray(0, length);
    const digest = hasher.add(body);
    // Not cancelled once sent: cut off, it could still create an upload whose id we never learn, to linger and bill.
    uploadId ??= sendToEnd(() =>
      s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...(o.contentType ? { ContentType: o.contentType } : {}) })),
    ).then((r) => {
      if (!r.UploadId) throw new Error(`CreateMultipartUpload for ${Key} returned no UploadId`);
      o.onMultipartStarted?.(r.UploadId);
      return r.UploadId;
    });
    const upload = uploadId;
    const p = (async () => {
      try {
        const UploadId = await upload;
        const r = await send(() =>
          s3.send(
            withPayloadHash(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: length }), digest),
            { abortSignal: signal() },
          ),
        );
        parts.push({ PartNumber, ETag: r.ETag ?? '' });
      } finally {
        pool.release(part);
      }
    })().catch(fail);
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    while (!failure && inFlight.size >= concurrency) await Promise.race(inFlight);
  };

  try {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      throwIfFailed();
      // Web streams (Readable.fromWeb, fetch bodies) hand over Uint8Arrays: viewed as Buffers, not copied.
      const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      received += piece.length;
      if (o.size !== undefined && received > o.size) throw sizeMismatch(o.size, { receivedAtLeast: received });
      o.check?.update(piece);
      for (let at = 0; at < piece.length; ) {
        // A full buffer becomes a part only once more bytes come: if the source ends now, the object is one PUT.
        if (buf && filled === partBytes) {
          await dispatch(buf, filled);
          buf = undefined;
          throwIfFailed();
        }
        // Taken on the first byte, not before: a file still waiting for its bytes holds no buffer.
        if (!buf) {
          buf = await pool.acquire(stopping());
          filled = 0;
        }
        const n = Math.min(partBytes - filled, piece.length - at);
        piece.copy(buf, filled, at, at + n);
        filled += n;
        at += n;
      }
    }
    if (o.size !== undefined && received !== o.size) throw sizeMismatch(o.size, { received });
    o.check?.verify();

    if (partNumber === 0) {
      const body = buf ? buf.subarray(0, filled) : Buffer.alloc(0);
      const digest = hasher.add(body);
      const hash = hasher.finish();
      const r = await sendToEnd(() =>
        s3.send(
          withPayloadHash(
            new PutObjectCommand({
              Bucket,
              Key,
              Body: body,
              ContentLength: filled,
              ...(o.contentType ? { ContentType: o.contentType } : {}),
            }),
            digest,
          ),
        ),
      );
      return result(received, hash, r);
    }
    if (buf) {
      await dispatch(buf, filled);
      buf = undefined;
    }
    await Promise.all(inFlight);
    throwIfFailed();
    const hash = hasher.finish();
    const UploadId = await uploadId!;
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    o.onCompleting?.();
    const r = await sendToEnd(() =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } })),
    );
    return result(received, hash, r);
  } catch (err) {
    // Destroys the source with an error, so its producer learns the bytes were not taken.
    fail(err);
    await Promise.all(inFlight);
    await abortMultipart(s3, Bucket, Key, uploadId);
    // An abort is the story even when a request it cancelled failed first.
    throw o.signal?.aborted && !(failure!.err instanceof PackagerError) ? aborted(o.signal.reason) : failure!.err;
  } finally {
    if (buf) pool.release(buf);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

function result(size: number, hash: ChunkedHash, r: { VersionId?: string; ETag?: string }): UploadedObject {
  return { size, hash, ...(r.VersionId ? { versionId: r.VersionId } : {}), ...(r.ETag ? { etag: r.ETag } : {}) };
}

/** Gives the signer the part's chunk digest, so the SDK does not hash the body again. */
function withPayloadHash<C extends { middlewareStack: UploadPartCommand['middlewareStack'] | PutObjectCommand['middlewareStack'] }>(
  command: C,
  digest: string | undefined,
): C {
  if (!digest) return command;
  (command.middlewareStack as UploadPartCommand['middlewareStack']).add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[PAYLOAD_HASH] = digest;
      return next(args);
    },
    { step: 'build', name: 'bpChunkDigestAsPayloadHash' },
  );
  return command;
}

/** Errors S3 requests ended with, so a caller can tell them from its source's errors. */
const s3Failures = new WeakSet<object>();

/** Whether `err` came from an S3 request of uploadStream (rather than from its source or a size check). */
export function isS3Failure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && s3Failures.has(err);
}

/**
 * Retries a request that failed without an answer, or with 429/5xx; anything else, or an abort,
 * ends at once. `cancellable`: an abort also ends the retries of a request that is cancelled (its
 * SDK call has the same signal); otherwise the attempt is waited for and only the next one is not made.
 *
 * The first attempt is made here, outside p-retry: nearly every request succeeds at once, and
 * setting p-retry up costs a small file about as much CPU as the rest of its bookkeeping. A first
 * attempt that fails is handed to p-retry as its own first attempt, so the decision and the backoff
 * are p-retry's as before.
 */
async function sendWithRetry<T>(what: () => Promise<T>, attempts: number, signal: AbortSignal, cancellable: boolean): Promise<T> {
  const tagged = () =>
    what().catch((err: unknown) => {
      if (typeof err === 'object' && err !== null) s3Failures.add(err);
      throw err;
    });
  if (cancellable) signal.throwIfAborted();
  let first: unknown;
  try {
    const result = await tagged();
    if (cancellable) signal.throwIfAborted();
    return result;
  } catch (err) {
    // What p-retry decides for a first failure once stopped (no retry) or with no retries left.
    if (signal.aborted || attempts <= 1) throw err;
    first = err;
  }
  return pRetry((attempt) => (attempt === 1 ? Promise.reject(first) : tagged()), {
    retries: Math.max(0, attempts - 1),
    minTimeout: 100,
    maxTimeout: 2000,
    randomize: true,
    ...(cancellable ? { signal } : {}),
    shouldRetry: ({ error }) => !signal.aborted && isTransient(error),
  });
}

export function isTransient(err: unknown): boolean {
  if (err instanceof PermanentError) return false;
  if (err instanceof TransientError) return true;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e.name === 'AbortError') return false;
  const status = e.$metadata?.httpStatusCode;
  return (
    status === undefined ||
    status === 429 ||
    status >= 500 ||
    !!e.$retryable ||
    e.name === 'XAmzContentSHA256Mismatch' ||
    e.name === 'BadDigest'
  );
}

/** Aborts the multipart upload, if one was started; retried once, since a lingering upload bills for its parts. */
async function abortMultipart(s3: S3Client, Bucket: string, Key: string, uploadId: Promise<string> | undefined): Promise<void> {
  const UploadId = await uploadId?.catch(() => undefined);
  if (!UploadId) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      return;
    } catch {
      // Nothing else to do: the bucket's lifecycle rule for incomplete uploads is the backstop.
    }
  }
}

function sizeMismatch(expectedSize: number, details: { received: number } | { receivedAtLeast: number }): PermanentError {
  const message =
    'received' in details
      ? `received ${details.received} bytes, expected ${expectedSize}`
      : `received more than the expected ${expectedSize} bytes`;
  return new PermanentError(message, { code: 'SizeMismatch', details: { expectedSize, ...details } });
}

/** The error an upload stopped by its signal ends with: retryable, nothing was wrong with the bytes. */
export function aborted(reason: unknown): TransientError {
  return new TransientError('upload aborted', { code: 'TransferAborted', cause: reason });
}
