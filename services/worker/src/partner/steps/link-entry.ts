import { entryKey } from '@bp/shared';
import type { PartnerStepContext } from '../context.ts';
import type { RevisionPublished } from './publish-revision.ts';

/**
 * Step `link-entry`: when the event names a Benchling entry, the entry's record lists the run's
 * package (newest first, with its QC state) for the canvas to show. The entry record is keyed by
 * tenant and entry: without the tenant there is no record to write, and the package metadata's
 * link is all there is.
 */
export async function linkEntry(ctx: PartnerStepContext): Promise<Record<string, unknown>> {
  const b = ctx.job.event.benchling;
  if (!b?.entryId) return { skipped: 'the event names no Benchling entry' };
  if (!b.tenantId) return { skipped: 'the event names no Benchling tenant: only the package metadata links the entry' };
  const published = ctx.outputs.publish as RevisionPublished;
  const qc = published.qc;
  const stored = await ctx.deps.entries.linkRun(entryKey(b.tenantId, b.entryId), {
    partnerId: ctx.job.partnerId,
    runId: ctx.job.event.run.id,
    packageName: published.packageName,
    ...(published.topHash ? { topHash: published.topHash } : {}),
    qc: qc ? { state: qc.passed ? 'passed' : 'failed', ...(qc.recommendation ? { recommendation: qc.recommendation } : {}), ...(qc.next_step ? { nextStep: qc.next_step } : {}) } : { state: 'pending' },
    at: published.publishedAt,
  });
  return { entryId: b.entryId, tenantId: b.tenantId, stored };
}
