import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { executionStateKey } from '../../steps/transfer.ts';
import { type PartnerStepContext, RUN_FILE_LIMITS } from '../context.ts';
import { streamRunFile, type StoredRunFile } from '../stream-file.ts';
import { checkFiles } from './check-sources.ts';

export interface FilesFetched {
  fileCount: number;
  totalBytes: number;
  /** Where the list of stored files (keys, sizes, hashes) is kept: too large for the execution record. */
  fileListKey: string;
  /** When the last file was stored; the revision's time. */
  fetchedAt: string;
}

/**
 * Step `fetch-files`: streams every listed file into the package under `dir` (`data/` or
 * `analysis/`), one at a time, each hashed as it streams. After each file the list so far is saved,
 * so an attempt resumed after a crash skips the files already stored whole.
 */
export async function fetchFiles(ctx: PartnerStepContext, dir: string): Promise<FilesFetched> {
  const { s3, config } = ctx.deps;
  const bucket = config.names.bucket;
  const partialKey = executionStateKey(ctx.execution.executionId, 'files.partial.json');
  const stored = await readList(ctx, partialKey);
  const done = new Map(stored.map((f) => [f.path, f]));
  for (const c of checkFiles(ctx.job.event.files ?? [], dir, ctx.job.policy)) {
    if (done.has(c.file.path)) continue;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const started = Date.now();
    const file = await streamRunFile(s3, ctx.writer, {
      path: c.file.path,
      source: c.source,
      ...(c.file.size !== undefined ? { expectedSize: c.file.size } : {}),
      ...(c.file.sha256 ? { expectedSha256: c.file.sha256 } : {}),
      bucket,
      key: `${ctx.prefix}${c.logicalKey}`,
      logicalKey: c.logicalKey,
      allowedUrlPatterns: ctx.job.policy.allowedUrlPatterns,
      maxBytes: RUN_FILE_LIMITS.maxFileBytes,
      stallTimeoutMs: RUN_FILE_LIMITS.stallTimeoutMs,
      signal: ctx.signal,
    });
    stored.push(file);
    done.set(file.path, file);
    await writeList(ctx, partialKey, stored);
    ctx.log.info('run file stored', { file: file.path, size: file.size, ms: Date.now() - started });
  }
  const fileListKey = executionStateKey(ctx.execution.executionId, `${dir.replace(/\/$/, '')}-files.json`);
  await writeList(ctx, fileListKey, stored);
  return {
    fileCount: stored.length,
    totalBytes: stored.reduce((n, f) => n + f.size, 0),
    fileListKey,
    fetchedAt: ctx.deps.clock().toISOString(),
  };
}

/** A file list saved by fetch-files; empty when there is none yet. */
export async function readList(ctx: PartnerStepContext, key: string): Promise<StoredRunFile[]> {
  try {
    const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: ctx.deps.config.names.bucket, Key: key }));
    return JSON.parse((await res.Body?.transformToString()) ?? '[]') as StoredRunFile[];
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return [];
    throw err;
  }
}

async function writeList(ctx: PartnerStepContext, key: string, files: StoredRunFile[]): Promise<void> {
  await ctx.deps.s3.send(
    new PutObjectCommand({ Bucket: ctx.deps.config.names.bucket, Key: key, Body: JSON.stringify(files), ContentType: 'application/json' }),
  );
}
