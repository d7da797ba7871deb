import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { PermanentError } from '@bp/shared';
import { transferExport, type TransferredFile } from '../transfer/index.ts';
import type { StepContext, StepResult } from '../context.ts';
import type { ExportReady } from './await-export.ts';
import { assertPackageOwner } from '../package-owner.ts';

export interface TransferSummary {
  fileCount: number;
  totalBytes: number;
  /** Where the full file list (keys, sizes, hashes) is kept: too large for a DynamoDB item. */
  fileListKey: string;
}

/** Private state of the packager in the bucket, outside every package prefix. */
export function executionStateKey(executionId: string, name: string): string {
  return `.benchling-packager/executions/${executionId}/${name}`;
}

/** Streams the export ZIP into S3 under the package prefix, hashing as it goes. */
export async function transfer(ctx: StepContext, ready: ExportReady, packageName: string): Promise<StepResult<TransferSummary>> {
  const { config, s3 } = ctx.deps;
  await assertPackageOwner(s3, { bucket: config.names.bucket, packageName, tenantId: ctx.job.tenantId, entryId: ctx.job.entryId });
  // The execution's own spool directory: emptied first (a killed attempt may have left a partial
  // ZIP there) and removed afterwards, whatever happens.
  const tmpDir = path.join(config.tmpDir, ctx.executionId);
  await rm(tmpDir, { recursive: true, force: true });
  let files: TransferredFile[];
  try {
    files = await transferExport(
      { s3, logger: ctx.log },
      {
        downloadUrl: await downloadLink(ctx, ready),
        bucket: config.names.bucket,
        prefix: `${packageName}/`,
        limits: config.zipLimits,
        tmpDir,
        signal: ctx.signal,
      },
    );
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  const fileListKey = executionStateKey(ctx.executionId, 'files.json');
  await s3.send(
    new PutObjectCommand({ Bucket: config.names.bucket, Key: fileListKey, Body: JSON.stringify(files), ContentType: 'application/json' }),
  );
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  ctx.log.info('export transferred', { fileCount: files.length, totalBytes });
  return { output: { fileCount: files.length, totalBytes, fileListKey } };
}

/** Reads back the file list a transfer step wrote. */
export async function readFileList(ctx: StepContext, summary: TransferSummary): Promise<TransferredFile[]> {
  const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: ctx.deps.config.names.bucket, Key: summary.fileListKey }));
  const text = await res.Body?.transformToString();
  if (!text) throw new PermanentError(`file list ${summary.fileListKey} is empty`, { code: 'StateMissing' });
  return JSON.parse(text) as TransferredFile[];
}

/**
 * The export's presigned download link, asked of its task now: the checkpoint keeps no link with
 * its signature (a credential, and one that expires), so an attempt resumed later gets a fresh one.
 * A record written before links were stripped still holds its full link.
 */
async function downloadLink(ctx: StepContext, ready: ExportReady): Promise<string> {
  if (!ready.taskId) return ready.downloadURL;
  const task = await ctx.benchling.getTask(ready.taskId);
  if (task.status !== 'SUCCEEDED' || !task.downloadURL) {
    throw new PermanentError(`export task ${ready.taskId} no longer offers its download (${task.status})`, { code: 'ExportMalformed' });
  }
  return task.downloadURL;
}
