import { PermanentError } from '@bp/shared';
import { buildPackagerMessage, type ManifestEntry, publishDirect, publishViaQueue, readLatest } from '@bp/shared/quilt/index';
import type { PartnerStepContext } from '../context.ts';
import type { StoredRunFile } from '../stream-file.ts';
import { readList } from './fetch-files.ts';
import type { RevisionPlan } from './write-documents.ts';

export interface RevisionPublished {
  mode: 'direct' | 'queue';
  packageName: string;
  /** Top hash (direct mode). */
  topHash?: string;
  /** False when the latest revision already had this content. */
  created?: boolean;
  /** The merged metadata's QC summary, if the run has one yet (for the entry's linked-run list). */
  qc?: { passed?: boolean; recommendation?: string; next_step?: string };
  publishedAt: string;
}

/**
 * Step `publish`: a new revision of the run's package = the latest revision, minus the files this
 * event replaces, plus its files and documents, with its metadata merged over the latest's. Events
 * of one run are serialised by the run lease, so QC and analysis revisions add to what sequencing
 * published whatever order they arrive in. Resumed after a crash, it finds its own revision as the
 * latest with the same content and writes nothing.
 */
export async function publishRevision(ctx: PartnerStepContext): Promise<RevisionPublished> {
  const { s3, sqs, config } = ctx.deps;
  const bucket = config.names.bucket;
  const plan = ctx.outputs['write-documents'] as RevisionPlan;
  const files: StoredRunFile[] = [];
  for (const key of plan.fileListKeys) files.push(...(await readList(ctx, key)));
  files.push(...plan.documents);
  const added = new Set(files.map((f) => f.logicalKey));

  const latest = await readLatest(s3, bucket, ctx.packageName);
  const kept = (latest?.entries ?? []).filter(
    (e) => !added.has(e.logicalKey) && !plan.replacePrefixes.some((p) => e.logicalKey.startsWith(p)),
  );
  const userMeta = { ...((latest?.meta.userMeta as Record<string, unknown> | undefined) ?? {}), ...plan.metadata };
  const qc = userMeta.qc as RevisionPublished['qc'] | undefined;
  const publishedAt = ctx.deps.clock().toISOString();

  if (config.publishMode === 'queue') {
    const queueUrl = config.names.packagerQueueUrl;
    if (!queueUrl) throw new PermanentError('QUILT_PUBLISH=queue needs PACKAGER_QUEUE_URL', { code: 'Config' });
    // The engine packages every object under the prefix: the files are there; the metadata travels inline.
    await publishViaQueue(
      sqs,
      queueUrl,
      buildPackagerMessage({ bucket, packageName: ctx.packageName, metadata: userMeta, commitMessage: plan.message }),
    );
    return { mode: 'queue', packageName: ctx.packageName, ...(qc ? { qc } : {}), publishedAt };
  }
  const entries: ManifestEntry[] = [
    ...kept,
    ...files.map((f) => ({
      logicalKey: f.logicalKey,
      physicalKey: { bucket, key: f.key, ...(f.versionId ? { versionId: f.versionId } : {}) },
      size: f.size,
      hash: f.hash,
      meta: f.sha256 ? { sha256: f.sha256 } : {},
    })),
  ];
  const result = await publishDirect(
    { s3, logger: ctx.log },
    { bucket, packageName: ctx.packageName, message: plan.message, userMeta, entries, now: new Date(plan.at) },
  );
  ctx.log.info(result.created ? 'run package revision published' : 'run package unchanged: no new revision', {
    packageName: ctx.packageName,
    topHash: result.topHash,
  });
  return {
    mode: 'direct',
    packageName: ctx.packageName,
    topHash: result.topHash,
    created: result.created,
    ...(qc ? { qc } : {}),
    publishedAt,
  };
}
