import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { PartnerEvent } from '@bp/shared/partners/event';
import { hashBuffer } from '@bp/shared/quilt/hash';
import { type EntryRef, enrichRun } from '@bp/warehouse';
import type { PartnerStepContext } from '../context.ts';
import type { StoredRunFile } from '../stream-file.ts';
import { type FilesFetched, readList } from './fetch-files.ts';
import { qcSummary, variantSummary } from './summaries.ts';

/** What the `publish` step turns into a revision: files to add, what they replace, metadata to merge. */
export interface RevisionPlan {
  /** Commit message. */
  message: string;
  /** S3 keys of file lists written by fetch-files. */
  fileListKeys: string[];
  /** Small documents written by this step (run.json, README.md, qc.json, …). */
  documents: StoredRunFile[];
  /** Logical-key prefixes whose earlier files this revision replaces (e.g. `data/`). */
  replacePrefixes: string[];
  /** Top-level keys merged over the latest revision's metadata. */
  metadata: Record<string, unknown>;
  /** The revision's time (checkpointed, so a resumed publish reuses it). */
  at: string;
  /** Benchling entries the run's samples were registered in (from the warehouse): the run is linked to them. */
  linkedEntries?: EntryRef[];
}

/** Metadata every revision of a run carries: partner, run, samples and, when named, the Benchling entry. */
function runMetadata(ctx: PartnerStepContext): Record<string, unknown> {
  const e = ctx.job.event;
  return {
    partner: { id: ctx.job.partnerId },
    run: e.run,
    ...(e.samples ? { samples: e.samples } : {}),
    ...(e.benchling?.entryId
      ? { benchling: { entryId: e.benchling.entryId, ...(e.benchling.tenantId ? { tenantId: e.benchling.tenantId } : {}) } }
      : {}),
  };
}

function eventSummary(ctx: PartnerStepContext): Record<string, unknown> {
  const e = ctx.job.event;
  return {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    executionId: ctx.execution.executionId,
    webhookId: ctx.job.trigger.webhookId,
    receivedAt: ctx.job.trigger.receivedAt,
  };
}

/** Step `write-documents` of sequencing.complete: run.json and README.md beside the data files. */
export async function writeRunDocuments(ctx: PartnerStepContext): Promise<RevisionPlan> {
  const fetched = ctx.outputs['fetch-files'] as FilesFetched;
  const files = await readList(ctx, fetched.fileListKey);
  const e = ctx.job.event;
  const fileList = files.map((f) => ({
    path: f.path,
    logicalKey: f.logicalKey,
    size: f.size,
    ...(f.sha256 ? { sha256: f.sha256 } : {}),
    hash: f.hash,
  }));
  const runJson = {
    run: e.run,
    samples: e.samples ?? [],
    partner: { id: ctx.job.partnerId },
    event: eventSummary(ctx),
    benchling: e.benchling ?? null,
    files: fileList,
    next_step: 'quality_control',
  };
  // The warehouse (when configured) says which Benchling entity each sample is and which entry it
  // was registered in: samples.json, a `samples` summary, and links to those entries. A failed
  // lookup fails the step (retried like any transient failure): never published without it.
  const enrichment = e.samples?.length ? await enrichRun(ctx.deps.warehouse, e.samples) : undefined;
  const documents = [
    await putDocument(ctx, 'run.json', JSON.stringify(runJson, null, 2), 'application/json'),
    await putDocument(ctx, 'README.md', renderReadme(ctx, e, files), 'text/markdown; charset=utf-8'),
  ];
  for (const d of enrichment?.documents ?? []) documents.push(await putDocument(ctx, d.logicalKey, d.text, d.contentType));
  return {
    message: `${ctx.job.partnerId} sequencing.complete ${e.id}`,
    fileListKeys: [fetched.fileListKey],
    documents,
    replacePrefixes: ['data/'],
    metadata: {
      ...runMetadata(ctx),
      ...(enrichment?.metadata ?? {}),
      sequencing: { event: eventSummary(ctx), fileCount: files.length, totalBytes: fetched.totalBytes, next_step: 'quality_control' },
    },
    at: fetched.fetchedAt,
    ...(enrichment?.linkedEntries.length ? { linkedEntries: enrichment.linkedEntries } : {}),
  };
}

/** Step `write-documents` of qc.complete: qc.json, and the QC summary for the metadata. */
export async function writeQc(ctx: PartnerStepContext): Promise<RevisionPlan> {
  const summary = qcSummary(ctx.job.event.data ?? {});
  const qcJson = { event: eventSummary(ctx), ...summary, data: ctx.job.event.data ?? {} };
  const documents = [await putDocument(ctx, 'qc.json', JSON.stringify(qcJson, null, 2), 'application/json')];
  return {
    message: `${ctx.job.partnerId} qc.complete ${ctx.job.event.id}: ${summary.recommendation}`,
    fileListKeys: [],
    documents,
    replacePrefixes: [],
    metadata: { ...runMetadata(ctx), qc: { ...summary, event: eventSummary(ctx) } },
    at: ctx.deps.clock().toISOString(),
  };
}

/** Step `write-documents` of analysis.complete: the analysis files are in; add the variant summary. */
export async function writeAnalysis(ctx: PartnerStepContext): Promise<RevisionPlan> {
  const fetched = ctx.outputs['fetch-files'] as FilesFetched;
  const summary = variantSummary(ctx.job.event.data ?? {});
  const documents = [
    await putDocument(
      ctx,
      'analysis/variant-summary.json',
      JSON.stringify({ event: eventSummary(ctx), ...summary }, null, 2),
      'application/json',
    ),
  ];
  return {
    message: `${ctx.job.partnerId} analysis.complete ${ctx.job.event.id}: quality ${summary.qualityClass}`,
    fileListKeys: [fetched.fileListKey],
    documents,
    replacePrefixes: ['analysis/'],
    metadata: { ...runMetadata(ctx), analysis: { ...summary, fileCount: fetched.fileCount, event: eventSummary(ctx) } },
    at: fetched.fetchedAt,
  };
}

async function putDocument(ctx: PartnerStepContext, logicalKey: string, text: string, contentType: string): Promise<StoredRunFile> {
  const body = Buffer.from(text, 'utf8');
  const key = `${ctx.prefix}${logicalKey}`;
  const res = await ctx.deps.s3.send(
    new PutObjectCommand({ Bucket: ctx.deps.config.names.bucket, Key: key, Body: body, ContentType: contentType }),
  );
  return {
    path: logicalKey,
    logicalKey,
    key,
    size: body.length,
    hash: hashBuffer(body),
    ...(res.VersionId ? { versionId: res.VersionId } : {}),
  };
}

function renderReadme(ctx: PartnerStepContext, e: PartnerEvent, files: StoredRunFile[]): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `# Sequencing run ${e.run.id} (${ctx.job.partnerId})`,
    '',
    [
      e.run.instrument && `Instrument ${e.run.instrument}`,
      e.run.flowcell && `flowcell ${e.run.flowcell}`,
      e.run.completedAt && `completed ${e.run.completedAt}`,
    ]
      .filter(Boolean)
      .join(', ') || 'No instrument details given.',
    '',
    e.benchling?.entryId ? `Benchling entry: ${e.benchling.entryId}` : 'No Benchling entry named.',
    '',
    `Samples: ${(e.samples ?? []).map((s) => s.name ?? s.id).join(', ') || 'none listed'}.`,
    '',
    `## Files (${files.length}, under data/)`,
    '',
    '| file | size |',
    '|---|---|',
    ...files.slice(0, 500).map((f) => `| ${cell(f.logicalKey)} | ${mib(f.size)} |`),
    ...(files.length > 500 ? [`| … and ${files.length - 500} more | |`] : []),
    '',
    'Next step: quality control. `run.json` holds the run, samples, event and the full file list with sizes and hashes.',
    '',
  ].join('\n');
}
