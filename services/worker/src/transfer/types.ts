import type { Logger } from '@bp/shared';
import type { ChunkedHash } from '@bp/shared/quilt/hash';
import type { S3Client } from '@aws-sdk/client-s3';
import type { HttpGet } from './http-get.ts';
import type { PartPool } from './part-pool.ts';
import type { ZipLimits } from './zip-limits.ts';

/** Collaborators of a transfer. */
export interface TransferDeps {
  s3: S3Client;
  logger: Logger;
  /** Part buffers; default the process-wide pool (sharedPartPool), which bounds every transfer's memory together. */
  parts?: PartPool;
}

/** One export ZIP to copy into S3. Validated once by `transferExport`; errors name the option. */
export interface TransferOptions {
  /** Presigned URL of the export ZIP (Benchling's `downloadURL`). Never logged in full. */
  downloadUrl: string;
  /** Destination bucket. */
  bucket: string;
  /** Key prefix every file goes under, ending in `/`, e.g. `benchling/EXP00001234/`. */
  prefix: string;
  /** Size, count and ratio limits that stop ZIP bombs; see DEFAULT_ZIP_LIMITS. */
  limits: ZipLimits;
  /**
   * Directory for the ZIP when it has to be spooled (created if missing): ZIPs below
   * `followFromBytes`, servers without Range support, out-of-order ZIPs. Needs up to
   * `limits.maxZipBytes` free then; a followed ZIP streams without touching it.
   */
  tmpDir: string;
  /** Multipart part size, bytes. Default 8 MiB, the shared pool's (S3 minimum 5 MiB); another size uses buffers of its own. */
  partSizeBytes?: number;
  /** Parts of one file uploaded in parallel. Default 4 (memory: see TransferDeps.parts). */
  queueSize?: number;
  /** Files of at most one part uploaded in parallel (larger files go one at a time). Default 4. */
  fileConcurrency?: number;
  /** Milliseconds the download may go without receiving a byte before it counts as stalled. Default 60,000. */
  stallTimeoutMs?: number;
  /** Stops the transfer: the in-flight multipart upload is aborted and finished files are deleted. */
  signal?: AbortSignal;
  /**
   * ZIPs at least this large have their directory fetched by Range so files upload while the rest
   * downloads; smaller ones are read once downloaded (one request, and little to gain). Default 8 MiB.
   */
  followFromBytes?: number;
  /** HTTP GET for the download and its Range requests. Default node:http / node:https (nodeHttpGet). */
  httpGet?: HttpGet;
}

/** A file of the export, now in S3. Size and hash were computed from the bytes as they streamed. */
export interface TransferredFile {
  /** Path inside the package: the ZIP path, sanitised and NFC-normalised, renamed if it is a reserved metadata name (exportLogicalKey). */
  logicalKey: string;
  /** S3 key: prefix + logicalKey. */
  key: string;
  /** Bytes. */
  size: number;
  hash: ChunkedHash;
  /** S3 version id when the bucket is versioned. */
  versionId?: string;
  etag?: string;
}
