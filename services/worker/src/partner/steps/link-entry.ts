import { entryKey } from '@bp/shared';
import type { PartnerStepContext } from '../context.ts';
import type { RevisionPublished } from './publish-revision.ts';
import type { RevisionPlan } from './write-documents.ts';

/**
 * Step `link-entry`: the entries the run belongs to — the one the event names, and those its
 * samples were registered in (the warehouse) — list the run's package in their record (newest
 * first, with its QC state) for the canvas and `pnpm ops` to show. Entry records are keyed by
 * tenant and entry: without the event's tenant there is no record to write, and the package
 * metadata's links are all there are.
 */
export async function linkEntry(ctx: PartnerStepContext): Promise<Record<string, unknown>> {
  const b = ctx.job.event.benchling;
  const plan = ctx.outputs['write-documents'] as RevisionPlan | undefined;
  const entryIds = [...new Set([...(b?.entryId ? [b.entryId] : []), ...(plan?.linkedEntries ?? []).map((e) => e.id)])];
  if (entryIds.length === 0) return { skipped: 'the event names no Benchling entry and no sample was matched to one' };
  if (!b?.tenantId) return { skipped: 'the event names no Benchling tenant: only the package metadata links the entry', entryIds };
  const published = ctx.outputs.publish as RevisionPublished;
  const qc = published.qc;
  const linked: string[] = [];
  for (const entryId of entryIds) {
    await ctx.deps.entries.linkRun(entryKey(b.tenantId, entryId), {
      partnerId: ctx.job.partnerId,
      runId: ctx.job.event.run.id,
      packageName: published.packageName,
      ...(published.topHash ? { topHash: published.topHash } : {}),
      qc: qc
        ? {
            state: qc.passed ? 'passed' : 'failed',
            ...(qc.recommendation ? { recommendation: qc.recommendation } : {}),
            ...(qc.next_step ? { nextStep: qc.next_step } : {}),
          }
        : { state: 'pending' },
      at: published.publishedAt,
    });
    linked.push(entryId);
  }
  return { entryId: b.entryId ?? linked[0], tenantId: b.tenantId, linked };
}
