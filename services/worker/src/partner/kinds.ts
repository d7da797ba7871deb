import type { PartnerJobKind } from '@bp/shared/partners/event';
import type { PartnerStep } from './context.ts';
import { checkSources } from './steps/check-sources.ts';
import { fetchFiles } from './steps/fetch-files.ts';
import { linkEntry } from './steps/link-entry.ts';
import { publishRevision } from './steps/publish-revision.ts';
import { recordError } from './steps/record-error.ts';
import { verifyUploads } from './steps/verify-uploads.ts';
import { writeAnalysis, writeQc, writeRunDocuments } from './steps/write-documents.ts';

/**
 * Each partner job kind's steps, in order: the one place that says what a partner event does.
 * Every step checkpoints its output in the execution record; a redelivered message resumes at the
 * first step without one. Steps that write into the run's package run under the run lease.
 */
export const PARTNER_STEPS: Record<PartnerJobKind, readonly PartnerStep[]> = {
  'partner.sequencing.complete': [
    { name: 'check-sources', run: checkSources },
    { name: 'fetch-files', run: (ctx) => fetchFiles(ctx, 'data/') },
    { name: 'write-documents', run: writeRunDocuments },
    { name: 'publish', run: publishRevision },
    { name: 'link-entry', run: linkEntry },
  ],
  'partner.qc.complete': [
    { name: 'write-documents', run: writeQc },
    { name: 'publish', run: publishRevision },
    { name: 'link-entry', run: linkEntry },
  ],
  'partner.analysis.complete': [
    { name: 'check-sources', run: checkSources },
    { name: 'fetch-files', run: (ctx) => fetchFiles(ctx, 'analysis/') },
    { name: 'write-documents', run: writeAnalysis },
    { name: 'publish', run: publishRevision },
    { name: 'link-entry', run: linkEntry },
  ],
  'partner.upload.complete': [{ name: 'verify-uploads', run: verifyUploads }],
  'partner.error.notification': [{ name: 'record-error', run: recordError }],
};

/** Steps whose output is the event's result (recorded on the execution when it finishes). */
export const RESULT_STEPS = new Set(['verify-uploads', 'record-error']);
