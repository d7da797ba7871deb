import { randomUUID } from 'node:crypto';
import { PARTNER_EVENT_TYPES, type PartnerEventType } from '@bp/shared/partners/event';
import { partnerFileUrl, runFileSha256 } from './partner-files.ts';

/** The event types a partner sends, as docs/partners.md lists them (one list, the ingress's). */
export { PARTNER_EVENT_TYPES };
export type PartnerEventTypeName = PartnerEventType;

export interface PartnerEventOptions {
  type: PartnerEventTypeName;
  runId: string;
  /** Base URL of the server that serves the run's files (`/partner-runs/…`): a running simulator. */
  filesBase: string;
  /** Files in the event (sequencing, analysis, upload). Default 3. */
  fileCount?: number;
  /** Total bytes of the run's files, split over them (the first takes the rest). Default 10 MiB. */
  totalBytes?: number;
  /** State each file's SHA-256 (computes it: seconds per GB). Default true. */
  withSha256?: boolean;
  entryId?: string;
  tenantId?: string;
  /** qc.complete: passed or not. Default true. */
  qcPassed?: boolean;
  /** `standard` or `ica` (an ICA v4 notification: ICA_EXEC_002 analysis succeeded). Default standard. */
  format?: 'standard' | 'ica';
}

/** The files of a simulated run: sizes summing to totalBytes, URLs on the simulator. */
export function runFiles(
  o: Pick<PartnerEventOptions, 'runId' | 'filesBase' | 'fileCount' | 'totalBytes' | 'withSha256'>,
  dir = 'reads',
): Array<{ path: string; url: string; size: number; sha256?: string }> {
  const n = Math.max(1, o.fileCount ?? 3);
  const total = o.totalBytes ?? 10 * 1024 * 1024;
  const each = Math.floor(total / n);
  return Array.from({ length: n }, (_, i) => {
    const path = `${dir}/sample${i + 1}_R1.fastq.gz`;
    const size = i === 0 ? total - each * (n - 1) : each;
    return {
      path,
      url: partnerFileUrl(o.filesBase, o.runId, path, size),
      size,
      ...(o.withSha256 === false ? {} : { sha256: runFileSha256(o.runId, path, size) }),
    };
  });
}

/** A partner event body as the partner would send it. */
export function buildPartnerEvent(o: PartnerEventOptions): Record<string, unknown> {
  const now = new Date().toISOString();
  const id = `evt_${randomUUID()}`;
  if (o.format === 'ica') return icaNotification(o, id, now);
  const base = {
    id,
    type: o.type,
    timestamp: now,
    run: { id: o.runId, instrument: 'NovaSeq X Plus', flowcell: `FC${o.runId.slice(-6).toUpperCase()}`, completedAt: now },
    samples: [{ id: 'S1', name: 'Sample 1', barcode: 'ACGTACGT' }],
    ...(o.entryId ? { benchling: { entryId: o.entryId, ...(o.tenantId ? { tenantId: o.tenantId } : {}) } } : {}),
  };
  switch (o.type) {
    case 'sequencing.complete':
    case 'upload.complete':
      return { ...base, files: runFiles(o) };
    case 'analysis.complete':
      return {
        ...base,
        files: runFiles({ ...o, fileCount: o.fileCount ?? 1, totalBytes: o.totalBytes ?? 64 * 1024 }, 'variants'),
        data: { variants: { total: 48213, snps: 41022, indels: 7191 }, qualityScore: 38.2 },
      };
    case 'qc.complete':
      return {
        ...base,
        data:
          o.qcPassed === false ? { passed: false, qualityScore: 22.4, coverage: 11 } : { passed: true, qualityScore: 35.8, coverage: 42.5 },
      };
    case 'error.notification':
      return { ...base, data: { severity: 'error', message: 'flowcell lane 3 failed: cluster density too low', code: 'LANE_FAILURE' } };
  }
}

/** An ICA v4 event notification, as ICA sends it (docs/partners.md). */
function icaNotification(o: PartnerEventOptions, id: string, now: string): Record<string, unknown> {
  return {
    correlationId: id,
    timestamp: now,
    eventCode: 'ICA_EXEC_002',
    eventParameters: { pipelineExecution: `exec-${o.runId}`, analysisPreviousStatus: 'INPROGRESS', analysisStatus: 'SUCCEEDED' },
    description: 'Analysis succeeded',
    projectId: 'proj-sim-0001',
    payloadVersion: 'v4',
    payload: {
      id: `ana-${o.runId}`,
      timeCreated: now,
      timeModified: now,
      owner: { id: 'user-sim' },
      tenant: { id: 'tenant-sim', name: 'sim-lab' },
      reference: o.runId,
      userReference: o.runId,
      pipeline: { id: 'pipe-dragen', urn: 'urn:ilmn:ica:pipeline:dragen-germline', code: 'DRAGEN Germline' },
      status: 'SUCCEEDED',
      startDate: now,
      endDate: now,
      summary: 'Analysis succeeded',
      analysisStorage: { id: 'storage-small', name: 'Small' },
      tags: { technicalTags: [], userTags: o.entryId ? [`benchling:${o.entryId}`] : [], referenceTags: [] },
    },
  };
}

/** `200MB`, `2GB`, `512KiB`, `1000` → bytes (MB and GB are binary, as file sizes are shown). */
export function parseByteSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(raw.trim());
  if (!m) throw new Error(`not a size: ${raw} (e.g. 200MB, 2GB)`);
  const unit = (m[2] ?? 'b').toLowerCase().replace('i', '');
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit]!;
  return Math.round(Number(m[1]) * mult);
}
