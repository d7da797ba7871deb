import type { Readable } from 'node:stream';
import { crc32 } from '@node-rs/crc32';
import { PackagerError, PermanentError, TransientError } from '@bp/shared';
import type { S3Client } from '@aws-sdk/client-s3';
import { type StreamCheck, aborted, isS3Failure, uploadStream } from './multipart-writer.ts';
import type { PartPool } from './part-pool.ts';
import type { TransferredFile } from './types.ts';
import { type PlannedFile, zipReadError } from './zip-plan.ts';

export { aborted };

export interface UploadEntryOptions {
  bucket: string;
  file: PlannedFile;
  /** Part buffers, shared with every other upload of the process. */
  pool: PartPool;
  /** Parts uploaded in parallel. */
  queueSize: number;
  signal?: AbortSignal;
  /** Once every part of a multipart upload is in and only its completion remains (see uploadStream). */
  onCompleting?: () => void;
}

/**
 * Streams one ZIP entry's decompressed bytes into S3 through the multipart writer (one PUT when
 * the file fits in a part), hashing each part as it goes. The bytes must match the declared size
 * exactly: a lying header fails before S3 completes the object, and the writer then aborts the
 * multipart upload. On `signal` the same happens, before this returns.
 */
export async function uploadEntry(s3: S3Client, o: UploadEntryOptions): Promise<TransferredFile> {
  const { file } = o;
  if (o.signal?.aborted) throw aborted(o.signal.reason);
  // A stored entry's bytes are the file: its CRC-32 is checked by the writer as they stream, not
  // by a transform stream of yauzl's (a stream and a pipeline per file, the larger part of the
  // per-file CPU of small files). Deflated entries keep yauzl's inflate and check.
  const stored = !file.entry.isCompressed();
  const source = await openEntry(file, stored, o.signal);
  try {
    const done = await uploadStream(s3, source, {
      pool: o.pool,
      bucket: o.bucket,
      key: file.key,
      size: file.size,
      concurrency: o.queueSize,
      ...(stored ? { check: crc32Check(file) } : {}),
      ...(o.onCompleting ? { onCompleting: o.onCompleting } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    // S3 completes an object only after every declared byte was hashed: a completed upload is a good
    // file even if an abort arrived meanwhile, and must be reported so it can be rolled back.
    return {
      logicalKey: file.logicalKey,
      key: file.key,
      size: done.size,
      hash: done.hash,
      ...(done.versionId ? { versionId: done.versionId } : {}),
      ...(done.etag ? { etag: done.etag } : {}),
    };
  } catch (err) {
    throw classify(err, file);
  }
}

/**
 * The entry's data stream. Its local header may wait on the download (entries are read in
 * order), so a stop signal ends the wait; a stream that opens after that is closed at once.
 */
async function openEntry(file: PlannedFile, stored: boolean, signal: AbortSignal | undefined): Promise<Readable> {
  const opening = stored ? file.entry.openReadStream({ validateCrc32: false }) : file.entry.openReadStream();
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([opening, stopped]);
  } catch (err) {
    opening.then(
      (s) => s.destroy(),
      () => undefined,
    );
    throw zipReadError(err, file.entry.filename);
  } finally {
    signal?.removeEventListener('abort', onAbort!);
  }
}

/** The CRC-32 the central directory declares for a stored entry, computed over the bytes the writer takes. */
function crc32Check(file: PlannedFile): StreamCheck {
  let crc = 0;
  return {
    update(chunk) {
      crc = crc32(chunk, crc);
    },
    verify() {
      // As yauzl's own check would: the object is not created.
      if (crc !== file.entry.crc32)
        throw zipReadError(new Error(`CRC32 validation failed. Expected ${file.entry.crc32}, received ${crc}.`), file.entry.filename);
    },
  };
}

/** Gives every failure a class: our own errors keep theirs, ZIP problems are permanent, S3 trouble depends on S3's answer. */
function classify(err: unknown, file: PlannedFile): PackagerError {
  if (err instanceof PermanentError && err.code === 'SizeMismatch') {
    // More bytes than declared is the ZIP-bomb trick of a lying header; fewer is a damaged archive.
    const more = err.details.receivedAtLeast !== undefined;
    return new PermanentError(
      more
        ? `unsafe ZIP: entry ${JSON.stringify(file.entry.filename)} inflates past its declared ${file.size} bytes`
        : `corrupt ZIP: entry ${JSON.stringify(file.entry.filename)} ended short of its declared ${file.size} bytes`,
      { code: more ? 'ZipBomb' : 'ZipCorrupt', cause: err, details: { entry: file.entry.filename, declaredSize: file.size } },
    );
  }
  if (err instanceof PackagerError) return err;
  // Not ours and not S3's: inflating or the CRC check failed in yauzl's stream.
  if (!isS3Failure(err)) return zipReadError(err, file.entry.filename);
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const details = { key: file.key, status, s3Code: e.name };
  const message = `upload of ${file.key} failed: ${e.name}: ${e.message}`;
  // S3 received other bytes than were hashed (the signed payload hash is the chunk digest): damaged on the way, so send again.
  if (e.name === 'XAmzContentSHA256Mismatch' || e.name === 'BadDigest') {
    return new TransientError(`upload of ${file.key} arrived damaged (${e.name}): ${e.message}`, {
      code: 'S3DigestMismatch',
      cause: err,
      details,
    });
  }
  // No status means the request never got an answer (network, timeout): worth another try.
  if (status === undefined || status === 429 || status >= 500 || e.$retryable)
    return new TransientError(message, { code: 'S3Upload', cause: err, details });
  return new PermanentError(message, { code: 'S3UploadRejected', cause: err, details });
}
