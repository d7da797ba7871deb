import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { buildPackagerMessage, ENTRY_METADATA_KEYS, publishDirect, publishViaQueue } from '@bp/shared/quilt/index';
import { PermanentError } from '@bp/shared';
import type { StepContext, StepResult } from '../context.ts';
import type { EntrySnapshot } from './fetch-entry.ts';
import type { MetadataWritten } from './write-metadata.ts';
import type { ExportReady } from './await-export.ts';
import { readFileList, type TransferSummary } from './transfer.ts';

export interface Published {
  mode: 'direct' | 'queue';
  packageName: string;
  /** Top hash of the revision (direct mode). */
  topHash?: string;
  /** False when identical content was already the latest revision. */
  created?: boolean;
  /** False when a later revision was already published: this one went to the history (direct mode). */
  latest?: boolean;
  publishedAt: string;
}

/** Turns the files under the package prefix into a Quilt revision, the way configuration says. */
export async function publish(
  ctx: StepContext,
  a: { entry: EntrySnapshot; ready: ExportReady; transferred: TransferSummary; metadata: MetadataWritten; packageName: string },
): Promise<StepResult<Published>> {
  const { entry, transferred, metadata, packageName } = a;
  const { config, s3, sqs, clock } = ctx.deps;
  const bucket = config.names.bucket;
  const files = [...(await readFileList(ctx, transferred)), ...metadata.files];
  const commitMessage = `Benchling ${ctx.job.trigger.type} at ${ctx.job.trigger.receivedAt}`;
  const publishedAt = clock().toISOString();

  if (config.publishMode === 'queue') {
    const queueUrl = config.names.packagerQueueUrl;
    if (!queueUrl) throw new PermanentError('QUILT_PUBLISH=queue needs PACKAGER_QUEUE_URL', { code: 'Config' });
    // The engine packages every object under the prefix: remove files an earlier export had but this one has not.
    await removeStaleObjects(ctx, bucket, `${packageName}/`, new Set(files.map((f) => f.key)));
    await publishViaQueue(
      sqs,
      queueUrl,
      buildPackagerMessage({ bucket, packageName, metadataKey: ENTRY_METADATA_KEYS.entry, commitMessage }),
    );
    ctx.log.info('package handed to the packaging engine', { packageName });
    return { output: { mode: 'queue', packageName, publishedAt } };
  }

  const result = await publishDirect(
    { s3, logger: ctx.log },
    {
      bucket,
      packageName,
      message: commitMessage,
      userMeta: {
        benchling: {
          entryId: entry.id,
          displayId: entry.displayId,
          name: entry.name,
          webURL: entry.webURL ?? null,
          modifiedAt: entry.modifiedAt ?? null,
        },
        ...metadata.userMeta,
      },
      entries: files.map((f) => ({
        logicalKey: f.logicalKey,
        physicalKey: { bucket, key: f.key, ...(f.versionId ? { versionId: f.versionId } : {}) },
        size: f.size,
        hash: f.hash,
        meta: {},
      })),
      // A checkpointed time, so a publish resumed after a crash reuses the same timestamp pointer.
      now: new Date(a.ready.readyAt),
    },
  );
  ctx.log.info(result.created ? 'package revision published' : 'content unchanged: no new revision', {
    packageName,
    topHash: result.topHash,
    latest: result.latest,
  });
  return { output: { mode: 'direct', packageName, topHash: result.topHash, created: result.created, latest: result.latest, publishedAt } };
}

async function removeStaleObjects(ctx: StepContext, bucket: string, prefix: string, keep: Set<string>): Promise<void> {
  let token: string | undefined;
  do {
    const page = await ctx.deps.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const stale = (page.Contents ?? []).map((o) => o.Key!).filter((k) => !keep.has(k));
    if (stale.length > 0) {
      await ctx.deps.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: stale.map((Key) => ({ Key })), Quiet: true } }));
      ctx.log.info('removed files the new export no longer has', { count: stale.length });
    }
    token = page.NextContinuationToken;
  } while (token);
}
