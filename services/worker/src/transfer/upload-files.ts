import type { S3Client } from '@aws-sdk/client-s3';
import type { PartPool } from './part-pool.ts';
import type { TransferredFile } from './types.ts';
import { aborted, uploadEntry } from './upload-entry.ts';
import type { PlannedFile } from './zip-plan.ts';

export interface UploadFilesOptions {
  bucket: string;
  /** Part buffers (their size is the part size), shared with the rest of the process. */
  pool: PartPool;
  /** Parts of one file in parallel. */
  queueSize: number;
  /** Files of at most one part uploaded in parallel. */
  fileConcurrency: number;
  signal?: AbortSignal;
}

/**
 * Uploads the planned files and returns them in ZIP order. Small files (one part or less) go
 * up to `fileConcurrency` at a time, because for them a request's latency, not bandwidth, is the
 * cost; a larger file sends its parts alone, already `queueSize` parts wide, so memory stays at
 * about max(fileConcurrency, queueSize + 1) part buffers of the shared pool, which bounds the
 * whole process whatever the number of transfers. Once a large file's parts are all in, it holds
 * no buffer while S3 assembles it (CompleteMultipartUpload), so the next files start meanwhile.
 *
 * On the first failure no new file starts, the files in flight are stopped, and the first error
 * is thrown once they have settled. Every file that did complete is in `completed` by then, so the
 * caller can delete it.
 */
export async function uploadFiles(
  s3: S3Client,
  files: PlannedFile[],
  o: UploadFilesOptions,
  completed: TransferredFile[],
): Promise<TransferredFile[]> {
  const results: TransferredFile[] = new Array(files.length);
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  /** Every upload until it settles. */
  const inFlight = new Set<Promise<void>>();
  /** The uploads still sending bytes: a large file leaves once only its completion remains. */
  const sending = new Set<Promise<void>>();
  let firstError: unknown;

  const start = (file: PlannedFile, index: number) => {
    let completing!: () => void;
    const onCompleting = new Promise<void>((resolve) => (completing = resolve));
    const p = uploadEntry(s3, {
      bucket: o.bucket,
      file,
      pool: o.pool,
      queueSize: o.queueSize,
      signal,
      onCompleting: completing,
    }).then(
      (done) => {
        results[index] = done;
        completed.push(done);
      },
      (err: unknown) => {
        // Siblings stopped because of this error fail with TransferAborted; the first error is the story.
        if (firstError === undefined) {
          firstError = err;
          stop.abort(err);
        }
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    const stillSending = Promise.race([tracked, onCompleting]).finally(() => sending.delete(stillSending));
    sending.add(stillSending);
  };

  for (const [index, file] of files.entries()) {
    const alone = file.size > o.pool.partBytes;
    // A large file waits for the files still sending to drain, and nothing starts beside it.
    while (firstError === undefined && sending.size > 0 && (alone || sending.size >= o.fileConcurrency)) await Promise.race(sending);
    if (firstError !== undefined) break;
    if (o.signal?.aborted) {
      firstError = aborted(o.signal.reason);
      break;
    }
    start(file, index);
    if (alone) await Promise.race(sending);
  }
  await Promise.all(inFlight);
  if (firstError === undefined && o.signal?.aborted) firstError = aborted(o.signal.reason);
  if (firstError !== undefined) throw firstError;
  return results;
}
