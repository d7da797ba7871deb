import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PackagerError, PermanentError, TransientError } from '@bp/shared';
import { type ChunkedHash, HashingPassThrough } from '@bp/shared/quilt/hash';
import { describeUrl } from '../transfer/download-errors.ts';
import { startDownload } from '../transfer/download-export.ts';
import { guardedHttpGet } from './guarded-get.ts';
import type { ObjectWriter } from './object-writer.ts';
import type { FileSource } from './source-policy.ts';

/** A run file, now in S3; size and hashes computed from the bytes as they streamed. */
export interface StoredRunFile {
  /** The path the partner gave. */
  path: string;
  logicalKey: string;
  key: string;
  size: number;
  hash: ChunkedHash;
  /** Hex SHA-256 of the whole file, when the partner gave one to check (then it matched). */
  sha256?: string;
  versionId?: string;
}

export interface StreamRunFileOptions {
  path: string;
  source: FileSource;
  /** Size and SHA-256 the partner stated, checked against the bytes. */
  expectedSize?: number;
  expectedSha256?: string;
  bucket: string;
  key: string;
  logicalKey: string;
  /** The partner's patterns: redirects must stay inside them. */
  allowedUrlPatterns: readonly string[];
  /** Most bytes one file may have. */
  maxBytes: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Streams one run file from its source into S3, hashing as it goes (Quilt's chunked hash always,
 * plain SHA-256 when the partner stated one). Memory is bounded by the writer's parts in flight;
 * a broken or stalled HTTP connection is resumed by Range under the same ETag (the export
 * download's machinery). A size or SHA-256 that does not match fails the body before the writer
 * completes the object, so a bad file leaves no object. Every error names the file.
 */
export async function streamRunFile(s3: S3Client, writer: ObjectWriter, o: StreamRunFileOptions): Promise<StoredRunFile> {
  try {
    const { body, size } = await openSource(s3, o);
    const upload = writer.begin({ bucket: o.bucket, key: o.key, size });
    const hashing = new HashingPassThrough(size);
    const check = o.expectedSha256 ? new Sha256Check(o.expectedSha256) : undefined;
    const stages: NodeJS.ReadWriteStream[] = check ? [check, hashing] : [hashing];
    let first: unknown;
    const fail = (err: unknown) => {
      first ??= err;
      // A body that merely ended would let S3 complete a truncated object: always destroy with an error.
      hashing.destroy(err instanceof Error ? err : new Error(String(err)));
    };
    const [piped, written] = await Promise.allSettled([
      (pipeline as (...s: unknown[]) => Promise<void>)(body, ...stages).catch((err: unknown) => {
        fail(err);
        throw err;
      }),
      upload.write(hashing, o.signal).catch((err: unknown) => {
        fail(err);
        throw err;
      }),
    ]);
    if (written.status === 'rejected' || piped.status === 'rejected')
      throw first ?? (written.status === 'rejected' ? written.reason : (piped as PromiseRejectedResult).reason);
    return {
      path: o.path,
      logicalKey: o.logicalKey,
      key: o.key,
      size: hashing.bytes,
      hash: hashing.hash,
      ...(o.expectedSha256 ? { sha256: o.expectedSha256.toLowerCase() } : {}),
      ...(written.value.versionId ? { versionId: written.value.versionId } : {}),
    };
  } catch (err) {
    throw namingFile(err, o.path, o.expectedSize);
  }
}

async function openSource(s3: S3Client, o: StreamRunFileOptions): Promise<{ body: Readable; size: number }> {
  if (o.source.kind === 's3') {
    const res = await s3.send(new GetObjectCommand({ Bucket: o.source.bucket, Key: o.source.key }));
    return { body: res.Body as Readable, size: sizeOf(o, res.ContentLength) };
  }
  const download = startDownload({
    url: o.source.url,
    dest: '',
    maxBytes: o.maxBytes,
    stallTimeoutMs: o.stallTimeoutMs,
    get: guardedHttpGet(o.path, o.allowedUrlPatterns),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const head = await download.head;
  const size = sizeOf(o, head.size);
  const reader = download.stream()!;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let c = await reader.next(); c; c = await reader.next()) yield c;
  }
  return { body: Readable.from(chunks(), { objectMode: false }), size };
}

/** The size to hash against: the partner's, checked against what the source declares; or the source's. */
function sizeOf(o: StreamRunFileOptions, declared: number | undefined): number {
  if (o.expectedSize !== undefined && declared !== undefined && declared !== o.expectedSize) {
    throw new PermanentError(`its source has ${declared} bytes, the event says ${o.expectedSize}`, { code: 'PartnerSizeMismatch' });
  }
  const size = o.expectedSize ?? declared;
  if (size === undefined) throw new PermanentError('neither the event nor the source states its size', { code: 'PartnerSizeUnknown' });
  if (size > o.maxBytes)
    throw new PermanentError(`it has ${size} bytes, more than the ${o.maxBytes} allowed`, { code: 'PartnerFileTooLarge' });
  return size;
}

/** Passes bytes on while hashing them; fails at the end, before the body ends, when the SHA-256 differs. */
class Sha256Check extends Transform {
  readonly #hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const got = this.#hash.digest('hex');
    if (got === this.expected.toLowerCase()) cb();
    else
      cb(
        new PermanentError(`its SHA-256 is ${got}, the event says ${this.expected.toLowerCase()}`, {
          code: 'PartnerHashMismatch',
          details: { sha256: got },
        }),
      );
  }
}

/** The same error, its message starting with the file it is about. */
function namingFile(err: unknown, path: string, expectedSize: number | undefined): PackagerError {
  const prefix = `file ${JSON.stringify(path)}: `;
  if (err instanceof PackagerError && err.message.startsWith('file ')) return err;
  if (err instanceof PermanentError && err.code === 'SizeMismatch') {
    return new PermanentError(`${prefix}the bytes do not match the stated size ${expectedSize ?? ''}`.trim(), {
      code: 'PartnerSizeMismatch',
      cause: err,
      details: { file: path },
    });
  }
  if (err instanceof PackagerError) {
    const opts = { code: err.code, cause: err, details: { ...err.details, file: path } };
    return err.retryable ? new TransientError(prefix + err.message, opts) : new PermanentError(prefix + err.message, opts);
  }
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const message = `${prefix}${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429)
    return new PermanentError(message, { code: 'S3Rejected', cause: err, details: { file: path, awsError: e.name } });
  return new TransientError(message, { code: 'TransferFailed', cause: err, details: { file: path, awsError: e.name } });
}

export { describeUrl };
