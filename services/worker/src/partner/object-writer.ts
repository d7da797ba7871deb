import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { uploadStream } from '../transfer/multipart-writer.ts';
import type { PartPool } from '../transfer/part-pool.ts';

/**
 * Where a run file's bytes go: the one seam between the partner pipeline and the S3 upload
 * machinery, which is the export transfer's pooled multipart writer (one process-wide pool of
 * part buffers, each part's chunk digest as its payload hash, abort on failure).
 */
export interface ObjectWriter {
  /** Starts one object of exactly `size` bytes. */
  begin(o: { bucket: string; key: string; size: number }): ObjectUpload;
}

export interface ObjectUpload {
  /**
   * Streams `body` into the object; resolves once the object is complete. A body that errors
   * (or `signal`) aborts the upload so that no object and no parts are left.
   */
  write(body: Readable, signal?: AbortSignal): Promise<{ versionId?: string; etag?: string }>;
}

/** ObjectWriter on the pooled multipart writer (services/worker/src/transfer/multipart-writer.ts). */
export function pooledWriter(s3: S3Client, o: { pool?: PartPool } = {}): ObjectWriter {
  return {
    begin({ bucket, key, size }) {
      return {
        async write(body, signal) {
          const done = await uploadStream(s3, body, {
            bucket,
            key,
            size,
            ...(o.pool ? { pool: o.pool } : {}),
            ...(signal ? { signal } : {}),
          });
          return { ...(done.versionId ? { versionId: done.versionId } : {}), ...(done.etag ? { etag: done.etag } : {}) };
        },
      };
    },
  };
}
