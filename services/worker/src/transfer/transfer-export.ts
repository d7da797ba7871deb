/**
 * Streaming export transfer: Benchling's export ZIP → files under a prefix in S3.
 *
 * 1. GET the presigned URL, refusing more than `limits.maxZipBytes`. A connection that breaks or
 *    stalls mid-body is picked up where it stopped, by Range under the same ETag (up to 3 times).
 * 2. Read the whole central directory — at the end of the ZIP, so fetched with an HTTP Range
 *    request for the tail while the download's body waits (see ExportZipReader) — and refuse the
 *    ZIP if anything is unsafe (`..`, absolute paths, drive letters, symlinks, too many entries,
 *    too large, too compressed, duplicates): an unsafe ZIP uploads nothing, and its download is
 *    stopped.
 * 3. Stream each file entry, in ZIP order, straight from the download (or, for small ZIPs,
 *    servers without Range support and out-of-order ZIPs, from a temp file in `tmpDir` as the
 *    download writes it), through inflate → the multipart writer (multipart-writer.ts): each 8 MiB part is copied into
 *    a buffer of the process-wide PartPool, hashed once for Quilt's `sha2-256-chunked` hash, and
 *    that digest is its signed payload hash. Memory is bounded by the pool, whatever the export
 *    size or the number of transfers running. The streamed bytes must
 *    match the declared sizes, so a lying header cannot smuggle a bomb past the checks of step 2.
 * 4. All or nothing: if anything fails or the signal aborts, the in-flight multipart upload is
 *    aborted and the objects already written by this call are deleted (by version id when the
 *    bucket is versioned, which restores any previous version). A download that breaks is the
 *    error reported, whatever the readers saw of it. The temp file is always removed.
 *
 * Errors: PermanentError for a refused URL (403/404/410) or an unsafe/corrupt ZIP (codes
 * `ZipTraversal`, `ZipAbsolutePath`, `ZipBadPath`, `ZipSymlink`, `ZipBomb`, `ZipTooManyEntries`,
 * `ZipTooLarge`, `ZipDuplicatePath`, `ZipPathConflict`, `ZipEncrypted`, `ZipUnsupported`, `ZipCorrupt`);
 * TransientError for network trouble, 5xx/429, S3 failures without a 4xx answer, and
 * `TransferAborted`. IAM: s3:PutObject, s3:AbortMultipartUpload, s3:DeleteObject and
 * s3:DeleteObjectVersion on the prefix.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import yauzl, { type ZipFile } from 'yauzl-promise';
import { PermanentError, describeError } from '@bp/shared';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { describeUrl } from './download-errors.ts';
import { startDownload } from './download-export.ts';
import { ExportZipReader, httpRangeFetcher } from './export-zip-reader.ts';
import { nodeHttpGet } from './http-get.ts';
import type { TransferDeps, TransferOptions, TransferredFile } from './types.ts';
import { aborted } from './multipart-writer.ts';
import { DEFAULT_PART_BYTES, PartPool, sharedPartPool } from './part-pool.ts';
import { uploadFiles } from './upload-files.ts';
import { validateZipLimits } from './zip-limits.ts';
import { planZipEntries, zipReadError } from './zip-plan.ts';

const MiB = 1024 * 1024;
const DEFAULTS = { queueSize: 4, fileConcurrency: 4, stallTimeoutMs: 60_000, followFromBytes: 8 * MiB };
/** S3's smallest multipart part (all but the last), bytes. */
const MIN_PART_BYTES = 5 * MiB;
/**
 * Most bytes of the ZIP's tail (its central directory) fetched by Range and held in memory while
 * the directory is read; a larger directory is read from the spool once the download has it.
 * About 100 bytes an entry: room for ~150,000 entries.
 */
const MAX_DIRECTORY_BYTES = 16 * MiB;
/** Parallel deletes while rolling back. */
const ROLLBACK_CONCURRENCY = 8;

/** Copies every file of the export ZIP at `o.downloadUrl` to `s3://bucket/prefix…`; returns them in ZIP order. */
export async function transferExport(deps: TransferDeps, o: TransferOptions): Promise<TransferredFile[]> {
  validateTransferOptions(o);
  const queueSize = o.queueSize ?? DEFAULTS.queueSize;
  const fileConcurrency = o.fileConcurrency ?? DEFAULTS.fileConcurrency;
  // Another part size than the shared pool's gets buffers of its own (tests and experiments).
  const pool =
    deps.parts ??
    (o.partSizeBytes !== undefined && o.partSizeBytes !== DEFAULT_PART_BYTES
      ? new PartPool({ partBytes: o.partSizeBytes, buffers: Math.max(fileConcurrency, queueSize + 1) })
      : sharedPartPool());
  const log = deps.logger.child({ transfer: { bucket: o.bucket, prefix: o.prefix } });
  const started = Date.now();
  if (o.signal?.aborted) throw aborted(o.signal.reason);

  await mkdir(o.tmpDir, { recursive: true });
  const zipPath = path.join(o.tmpDir, `export-${randomUUID()}.zip`);
  const uploaded: TransferredFile[] = [];
  // Stops the download when the transfer ends early (unsafe ZIP, failed upload, abort).
  const stopDownload = new AbortController();
  const downloadSignal = o.signal ? AbortSignal.any([o.signal, stopDownload.signal]) : stopDownload.signal;
  const get = o.httpGet ?? nodeHttpGet;
  const download = startDownload({
    url: o.downloadUrl,
    dest: zipPath,
    maxBytes: o.limits.maxZipBytes,
    stallTimeoutMs: o.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
    get,
    signal: downloadSignal,
  });
  let reader: ExportZipReader | undefined;
  try {
    const head = await download.head;
    // Small ZIPs, and ZIPs of unknown length (whose end is unknown until the download ends), are spooled.
    const follow = head.size !== undefined && head.size >= (o.followFromBytes ?? DEFAULTS.followFromBytes);
    if (!follow) download.spool();
    const zipBytes = head.size ?? (await download.done);
    reader = new ExportZipReader({
      path: zipPath,
      size: zipBytes,
      download,
      ...(follow
        ? {
            fetchRange: httpRangeFetcher({
              url: o.downloadUrl,
              size: zipBytes,
              ...(head.etag ? { etag: head.etag } : {}),
              get,
              signal: downloadSignal,
            }),
          }
        : {}),
      maxDirectoryBytes: MAX_DIRECTORY_BYTES,
    });
    const zip = await openZip(reader, zipBytes);
    let result: TransferredFile[];
    try {
      const files = await planZipEntries(zip, { prefix: o.prefix, limits: o.limits, zipBytes });
      const entries = reader.directoryRead(
        files.map((f) => ({ name: f.entry.filename, headerOffset: f.entry.fileHeaderOffset, compressedSize: f.entry.compressedSize })),
      );
      log.debug('export directory read', {
        url: describeUrl(o.downloadUrl),
        zipBytes,
        files: files.length,
        entries,
        downloadedBytes: download.bytes,
        ...reader.rangeStats,
        ms: Date.now() - started,
      });
      result = await uploadFiles(
        deps.s3,
        files,
        { bucket: o.bucket, pool, queueSize, fileConcurrency, ...(o.signal ? { signal: o.signal } : {}) },
        uploaded,
      );
      // Every file came from it, but the download must still end whole: a short or broken body fails the transfer.
      await download.done;
      // An abort that lands while the last object completes still means "stop": do not hand back files.
      if (o.signal?.aborted) throw aborted(o.signal.reason);
    } finally {
      // yauzl refuses to close while it counts a read in progress; that must not replace the real error
      // (the spool file is closed by reader.release() below either way).
      await zip.close().catch((err: unknown) => log.debug('ZIP reader not closed cleanly', { error: describeError(err) }));
    }
    const bytes = result.reduce((n, f) => n + f.size, 0);
    const ms = Date.now() - started;
    log.info('export transfer done', {
      files: result.length,
      bytes,
      zipBytes,
      ms,
      mbPerSecond: Math.round((bytes / MiB / Math.max(ms, 1)) * 1000 * 10) / 10,
      downloadResumes: download.resumes,
    });
    return result;
  } catch (caught) {
    // A download that broke first is the cause of whatever the readers then saw: report it, not its echo.
    const err = download.failure ?? caught;
    stopDownload.abort();
    if (uploaded.length > 0) await deleteUploaded(deps, o.bucket, uploaded, log);
    log.warn('export transfer failed', { error: describeError(err), filesRolledBack: uploaded.length });
    throw err;
  } finally {
    stopDownload.abort();
    await download.done.catch(() => undefined);
    await reader?.release();
    await rm(zipPath, { force: true });
  }
}

async function openZip(reader: ExportZipReader, size: number): Promise<ZipFile> {
  try {
    // Names come back raw (no backslash rewrite, no validation) so entry-path.ts applies one set of rules with our error codes.
    // Sizes are checked by our hasher, which knows the declared size; Mac Archive Utility's truncated sizes are not supported.
    return await yauzl.fromReader(reader, size, {
      validateFilenames: false,
      strictFilenames: true,
      validateEntrySizes: false,
      supportMacArchive: false,
    });
  } catch (err) {
    throw zipReadError(err);
  }
}

/** Best-effort rollback: a failed delete is logged, the original error still wins. */
async function deleteUploaded(deps: TransferDeps, bucket: string, files: TransferredFile[], log: TransferDeps['logger']): Promise<void> {
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      try {
        await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: f.key, ...(f.versionId ? { VersionId: f.versionId } : {}) }));
      } catch (err) {
        log.warn('rollback could not delete an uploaded object', { key: f.key, versionId: f.versionId, error: describeError(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROLLBACK_CONCURRENCY, files.length) }, worker));
}

function validateTransferOptions(o: TransferOptions): void {
  const bad = (name: string, why: string) => new PermanentError(`transfer option ${name} ${why}`, { code: 'TransferOptions' });
  try {
    new URL(o.downloadUrl);
  } catch {
    throw bad('downloadUrl', 'is not a URL');
  }
  if (!o.bucket) throw bad('bucket', 'is empty');
  if (!o.prefix.endsWith('/') || o.prefix.startsWith('/'))
    throw bad('prefix', `must end with "/" and not start with one, got ${JSON.stringify(o.prefix)}`);
  if (!o.tmpDir) throw bad('tmpDir', 'is empty');
  validateZipLimits(o.limits);
  if (o.partSizeBytes !== undefined && (!Number.isSafeInteger(o.partSizeBytes) || o.partSizeBytes < MIN_PART_BYTES)) {
    throw bad('partSizeBytes', `must be an integer of at least ${MIN_PART_BYTES}`);
  }
  if (o.queueSize !== undefined && (!Number.isSafeInteger(o.queueSize) || o.queueSize < 1))
    throw bad('queueSize', 'must be a positive integer');
  if (o.fileConcurrency !== undefined && (!Number.isSafeInteger(o.fileConcurrency) || o.fileConcurrency < 1))
    throw bad('fileConcurrency', 'must be a positive integer');
  if (o.stallTimeoutMs !== undefined && !(o.stallTimeoutMs > 0)) throw bad('stallTimeoutMs', 'must be positive');
  if (o.followFromBytes !== undefined && !(o.followFromBytes >= 0)) throw bad('followFromBytes', 'must be zero or more');
}
