import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PackagerError, PermanentError, TransientError } from '@bp/shared';
import { chunkSizeFor, HashingPassThrough } from '@bp/shared/quilt/hash';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { collectPartDigests } from './part-digests.ts';
import type { TransferredFile } from './types.ts';
import { type PlannedFile, zipReadError } from './zip-plan.ts';

export interface UploadEntryOptions {
  bucket: string;
  file: PlannedFile;
  /** Multipart part size, bytes. */
  partSizeBytes: number;
  /** Parts uploaded in parallel. */
  queueSize: number;
  signal?: AbortSignal;
}

/**
 * Streams one ZIP entry's decompressed bytes through the hasher into S3 (one PUT when the file
 * fits in a part, a multipart upload otherwise). The bytes must match the declared size exactly:
 * a lying header fails the stream before S3 completes the object, and lib-storage then aborts
 * the multipart upload. On `signal` the stream is failed the same way, so the in-flight multipart
 * upload is aborted before this returns.
 */
export async function uploadEntry(s3: S3Client, o: UploadEntryOptions): Promise<TransferredFile> {
  const { file } = o;
  if (o.signal?.aborted) throw aborted(o.signal.reason);
  const source = await openEntry(file, o.signal);
  // Each part is one hash chunk when the sizes agree: the signer can reuse the chunk's digest.
  const digests = chunkSizeFor(file.size) === o.partSizeBytes ? collectPartDigests(s3, o.bucket, file.key) : undefined;
  const hashing = new HashingPassThrough(file.size, digests?.onChunk);
  // leavePartsOnError false: any failure aborts the multipart upload so no parts linger (and bill).
  const upload = new Upload({
    client: s3,
    params: { Bucket: o.bucket, Key: file.key, Body: hashing },
    partSize: o.partSizeBytes,
    queueSize: o.queueSize,
    leavePartsOnError: false,
  });

  // The first failure decides the class; later ones are its echoes through the other streams.
  let first: { err: unknown; side: Side } | undefined;
  const fail = (err: unknown, side: Side) => {
    first ??= { err, side };
    // Always destroy with an error: a body that merely ends would let S3 complete a truncated object.
    hashing.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  const onAbort = () => fail(aborted(o.signal?.reason), 'abort');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // yauzl's stream errors first when inflating or the CRC check fails.
  source.once('error', (err) => fail(err, 'zip'));
  try {
    const [, uploaded] = await Promise.allSettled([
      pipeline(source, hashing).catch((err: unknown) => {
        fail(err, 'zip');
        throw err;
      }),
      upload.done().catch((err: unknown) => {
        fail(err, 's3');
        throw err;
      }),
    ]);
    // S3 completes an object only after the body ended, i.e. after every declared byte was hashed:
    // a completed upload is a good file even if an abort arrived meanwhile, and must be reported so it can be rolled back.
    if (uploaded.status === 'rejected') throw classify(first?.err ?? uploaded.reason, first?.side ?? 's3', file);
    const result = uploaded.value;
    return {
      logicalKey: file.logicalKey,
      key: file.key,
      size: hashing.bytes,
      hash: hashing.hash,
      ...(result.VersionId ? { versionId: result.VersionId } : {}),
      ...(result.ETag ? { etag: result.ETag } : {}),
    };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    digests?.release();
  }
}

/**
 * The entry's data stream. Its local header may wait on the download (entries are read in
 * order), so a stop signal ends the wait; a stream that opens after that is closed at once.
 */
async function openEntry(file: PlannedFile, signal: AbortSignal | undefined): Promise<Readable> {
  const opening = file.entry.openReadStream();
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([opening, stopped]);
  } catch (err) {
    opening.then((s) => s.destroy(), () => undefined);
    throw zipReadError(err, file.entry.filename);
  } finally {
    signal?.removeEventListener('abort', onAbort!);
  }
}

type Side = 'zip' | 's3' | 'abort';

/** Gives every failure a class: our own errors keep theirs, ZIP problems are permanent, S3 trouble depends on S3's answer. */
function classify(err: unknown, side: Side, file: PlannedFile): PackagerError {
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
  if (side === 'zip') return zipReadError(err, file.entry.filename);
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const details = { key: file.key, status, s3Code: e.name };
  const message = `upload of ${file.key} failed: ${e.name}: ${e.message}`;
  // S3 received other bytes than were hashed (the signed payload hash is the chunk digest): damaged on the way, so send again.
  if (e.name === 'XAmzContentSHA256Mismatch' || e.name === 'BadDigest') {
    return new TransientError(`upload of ${file.key} arrived damaged (${e.name}): ${e.message}`, { code: 'S3DigestMismatch', cause: err, details });
  }
  // No status means the request never got an answer (network, timeout): worth another try.
  if (status === undefined || status === 429 || status >= 500 || e.$retryable) return new TransientError(message, { code: 'S3Upload', cause: err, details });
  return new PermanentError(message, { code: 'S3UploadRejected', cause: err, details });
}

/** The error a transfer stopped by its signal ends with: retryable, since nothing was wrong with the export. */
export function aborted(reason: unknown): TransientError {
  return new TransientError('export transfer aborted', { code: 'TransferAborted', cause: reason });
}
