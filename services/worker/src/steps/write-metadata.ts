import { PutObjectCommand } from '@aws-sdk/client-s3';
import { hashBuffer } from '@bp/shared/quilt/hash';
import type { StepContext, StepResult } from '../context.ts';
import type { EntrySnapshot } from './fetch-entry.ts';
import type { TransferSummary } from './transfer.ts';
import type { ExportReady } from './await-export.ts';
import type { ExportStarted } from './start-export.ts';
import { readFileList } from './transfer.ts';
import type { TransferredFile } from '../transfer/index.ts';
import { ENTRY_METADATA_KEYS } from '@bp/shared/quilt/reserved-keys';
import { caseCollisionWarning, caseOnlyCollisions } from '../case-collisions.ts';
import { enrichEntry } from './enrich-entry.ts';

export interface MetadataWritten {
  files: TransferredFile[];
  /** Package metadata beside `benchling` (the warehouse summary, when a warehouse is configured). */
  userMeta?: Record<string, unknown>;
}

/** The three files every package carries besides the export: entry.json, input.json, README.md. */
export async function writeMetadata(
  ctx: StepContext,
  a: { entry: EntrySnapshot; started: ExportStarted; ready: ExportReady; transferred: TransferSummary; packageName: string },
): Promise<StepResult<MetadataWritten>> {
  const { entry, transferred, packageName } = a;
  const { config, s3, clock } = ctx.deps;
  const exportFiles = await readFileList(ctx, transferred);
  const full = entry.fields === undefined ? await ctx.benchling.getEntry(entry.id) : entry;
  const exportedAt = a.ready.readyAt;
  const enrichment = await enrichEntry(ctx, entry.id);
  const fileList = exportFiles.map((f) => ({ logicalKey: f.logicalKey, size: f.size, hash: f.hash }));
  const entryJson = {
    entryId: entry.id,
    displayId: entry.displayId,
    name: entry.name,
    webURL: entry.webURL,
    creator: entry.creator,
    authors: entry.authors,
    createdAt: entry.createdAt,
    modifiedAt: entry.modifiedAt,
    schema: entry.schema,
    fields: full.fields,
    customFields: full.customFields,
    exportedAt,
    trigger: ctx.job.trigger,
    files: fileList,
    ...enrichment.metadata,
  };
  const inputJson = {
    executionId: ctx.executionId,
    tenantId: ctx.job.tenantId,
    baseURL: ctx.job.baseURL,
    trigger: ctx.job.trigger,
    exportTaskId: a.started.taskId,
    exportFormat: config.exportFormat,
    workerId: config.workerId,
    attempts: ctx.attempt,
    packagedAt: clock().toISOString(),
  };
  const documents: Array<[string, string, string]> = [
    [ENTRY_METADATA_KEYS.entry, JSON.stringify(entryJson, null, 2), 'application/json'],
    [ENTRY_METADATA_KEYS.input, JSON.stringify(inputJson, null, 2), 'application/json'],
    [ENTRY_METADATA_KEYS.readme, renderReadme(entry, exportFiles, exportedAt), 'text/markdown; charset=utf-8'],
    ...enrichment.documents.map((d): [string, string, string] => [d.logicalKey, d.text, d.contentType]),
  ];
  const written: TransferredFile[] = [];
  for (const [logicalKey, text, contentType] of documents) {
    const body = Buffer.from(text, 'utf8');
    const key = `${packageName}/${logicalKey}`;
    const res = await s3.send(new PutObjectCommand({ Bucket: config.names.bucket, Key: key, Body: body, ContentType: contentType }));
    written.push({ logicalKey, key, size: body.length, hash: hashBuffer(body), ...(res.VersionId ? { versionId: res.VersionId } : {}) });
  }
  return { output: { files: written, ...(Object.keys(enrichment.metadata).length ? { userMeta: enrichment.metadata } : {}) } };
}

function renderReadme(entry: EntrySnapshot, files: TransferredFile[], exportedAt: string): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  const lines = [
    `# ${entry.name} (${entry.displayId})`,
    '',
    entry.webURL ? `Benchling entry: [${entry.displayId}](${entry.webURL})` : `Benchling entry ${entry.id}`,
    '',
    `Exported ${exportedAt}; last modified in Benchling ${entry.modifiedAt ?? 'unknown'}.`,
    '',
    ...caseCollisionWarning(caseOnlyCollisions(files.map((f) => f.logicalKey)), (k) => `\`${k.replace(/`/g, "'")}\``),
    `## Files (${files.length})`,
    '',
    '| file | size |',
    '|---|---|',
    ...files.slice(0, 500).map((f) => `| ${f.logicalKey.replace(/\|/g, '\\|')} | ${mib(f.size)} |`),
    ...(files.length > 500 ? [`| … and ${files.length - 500} more | |`] : []),
    '',
    "`entry.json` holds the entry's fields and the full file list with hashes; `input.json` says what triggered this revision.",
    '',
  ];
  return lines.join('\n');
}
