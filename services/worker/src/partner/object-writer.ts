import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { chunkSizeFor } from '@bp/shared/quilt/hash';
import { collectPartDigests } from '../transfer/part-digests.ts';

/**
 * Where a run file's bytes go: the one seam between the partner pipeline and the S3 upload
 * machinery. Today it is lib-storage's Upload, as the entry pipeline uses; when the pooled writer
 * replaces it there, only `libStorageWriter` changes (or another ObjectWriter is passed in).
 */
export interface ObjectWriter {
  /** Starts one object of exactly `size` bytes. */
  begin(o: { bucket: string; key: string; size: number }): ObjectUpload;
}

export interface ObjectUpload {
  /** Hands each 8 MiB hash chunk's SHA-256 to the writer as it completes (a part's payload hash); optional. */
  onChunk?: (index: number, digest: Buffer) => void;
  /**
   * Streams `body` into the object; resolves once the object is complete. A body that errors
   * (or `signal`) must abort the upload so that no object and no parts are left.
   */
  write(body: Readable, signal?: AbortSignal): Promise<{ versionId?: string; etag?: string }>;
}

export interface LibStorageWriterOptions {
  /** Multipart part size, bytes. Default 8 MiB: one part is one hash chunk, so the signer reuses its digest. */
  partSizeBytes?: number;
  /** Parts uploaded in parallel. Default 4. Memory ≈ partSizeBytes × (queueSize + 1). */
  queueSize?: number;
}

/** ObjectWriter on @aws-sdk/lib-storage: one PUT for a small file, a multipart upload otherwise. */
export function libStorageWriter(s3: S3Client, o: LibStorageWriterOptions = {}): ObjectWriter {
  const partSize = o.partSizeBytes ?? 8 * 1024 * 1024;
  const queueSize = o.queueSize ?? 4;
  return {
    begin({ bucket, key, size }) {
      const digests = chunkSizeFor(size) === partSize ? collectPartDigests(s3, bucket, key) : undefined;
      return {
        ...(digests ? { onChunk: digests.onChunk } : {}),
        async write(body, signal) {
          // leavePartsOnError false: a failed body aborts the multipart upload, no parts linger.
          const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, partSize, queueSize, leavePartsOnError: false });
          const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
          signal?.addEventListener('abort', onAbort, { once: true });
          try {
            const done = await upload.done();
            return { ...(done.VersionId ? { versionId: done.VersionId } : {}), ...(done.ETag ? { etag: done.ETag } : {}) };
          } finally {
            signal?.removeEventListener('abort', onAbort);
            digests?.release();
          }
        },
      };
    },
  };
}
