import { BadMessageError, type EntryPackageJob, type ExecutionRecord, PermanentError } from '@bp/shared';
import type { BenchlingClient } from '@bp/shared/benchling/index';
import type { PublishedPackage } from '@bp/shared/executions/index';
import type { EntryJob, StepContext, WorkerDeps } from '../context.ts';
import type { JobKind } from '../runner/job-kind.ts';
import { type StepOutputs, Steps } from '../runner/steps.ts';
import { awaitExport } from '../steps/await-export.ts';
import { fetchEntry } from '../steps/fetch-entry.ts';
import { publish, type Published } from '../steps/publish.ts';
import { startExport } from '../steps/start-export.ts';
import { transfer } from '../steps/transfer.ts';
import { packagingCanvas, showOnCanvas, updateCanvas } from '../steps/update-canvas.ts';
import { writeMetadata } from '../steps/write-metadata.ts';
import { EntryHold } from './entry-hold.ts';
import { entryPackageName } from '../package-naming.ts';

/** What entry.package steps get: the step context, and the canvas to show the result on, if any. */
export interface EntryRun {
  ctx: StepContext;
  canvasId: string | undefined;
  /** Records the entry's latest package (EntryStore.recordPublished). */
  notePublished(p: Published): Promise<unknown>;
}

/**
 * The steps of `entry.package`, in order: the one declaration their names and order come from.
 * A resumed run starts at the first without an output. await-export and transfer are `long`
 * (written when they start, operators see them running); start-export, transfer and publish are
 * `durable` (their outputs are written before the next step: an export started twice, a transfer
 * repeated or a publish not recorded would cost). The entry's latest package is recorded
 * alongside publish's checkpoint, so neither a later failure (the canvas) nor a crash leaves it out.
 */
export const ENTRY_PACKAGE_STEPS = Steps.for<EntryRun>()
  .step('fetch-entry', (r) => fetchEntry(r.ctx))
  .step('start-export', (r) => startExport(r.ctx), { durable: true })
  .step('await-export', (r, o) => awaitExport(r.ctx, o['start-export']), { long: true })
  .step(
    'transfer',
    (r, o) => transfer(r.ctx, o['await-export'], entryPackageName(r.ctx.deps.config, r.ctx.job.tenantId, o['fetch-entry'].displayId)),
    { long: true, durable: true },
  )
  .step('write-metadata', (r, o) =>
    writeMetadata(r.ctx, {
      entry: o['fetch-entry'],
      started: o['start-export'],
      ready: o['await-export'],
      transferred: o.transfer,
      packageName: entryPackageName(r.ctx.deps.config, r.ctx.job.tenantId, o['fetch-entry'].displayId),
    }),
  )
  .step(
    'publish',
    (r, o) =>
      publish(r.ctx, {
        entry: o['fetch-entry'],
        ready: o['await-export'],
        transferred: o.transfer,
        metadata: o['write-metadata'],
        packageName: entryPackageName(r.ctx.deps.config, r.ctx.job.tenantId, o['fetch-entry'].displayId),
      }),
    { durable: true, alongside: (r, p) => r.notePublished(p) },
  )
  .step('update-canvas', (r, o) => updateCanvas(r.ctx, { canvasId: r.canvasId, published: o.publish }));

/** Each entry.package step's output, by step name: what a checkpointed record's `outputs` hold. */
export type EntryPackageOutputs = StepOutputs<typeof ENTRY_PACKAGE_STEPS>;

export const entryPackage: JobKind<EntryPackageJob, EntryRun> = {
  steps: ENTRY_PACKAGE_STEPS,

  async resource({ job, record, deps, log, learn }) {
    // A tenant whose Benchling the worker may not call fails here, before it takes (or coalesces into) the entry.
    if (learn) deps.benchlingFor(job);
    const entryId = job.entryId ?? record?.entryId ?? (learn ? await entryOfCanvas(deps.benchlingFor(job), job) : undefined);
    if (!entryId) return undefined;
    return new EntryHold(deps, { ...job, entryId }, log.child({ entryId }));
  },

  async admit({ job, record, deps, log, signal, hold }) {
    if (!(hold instanceof EntryHold)) throw new PermanentError('entry.package job without its entry', { code: 'Internal' });
    const entryId = hold.entryId;
    const jobWithEntry: EntryJob = { ...job, entryId };
    const entryState = await deps.entries.get(hold.key);
    const stale = staleSnapshot(record, entryState?.lastPublished);
    if (stale) {
      // This run stopped (its worker died) after reading the entry, its lease lapsed, and a later run
      // read the entry again and published it: going on would publish an older state than the
      // package already has. That later run covered this trigger too.
      await deps.executions.supersede(job.executionId, stale);
      deps.metrics.executionFinished(job.kind, 'SUPERSEDED');
      log.info('superseded: a later run published the entry after this one read it', { reason: stale });
      await hold.end();
      return { outcome: { action: 'done' } };
    }
    const canvasId = job.canvasId ?? entryState?.canvasId;
    hold.canvasId = canvasId;
    if (job.canvasId && entryState?.canvasId !== job.canvasId) {
      await deps.entries.setCanvas(hold.key, { canvasId: job.canvasId, appId: job.appId, featureId: job.trigger.featureId });
    }
    const benchling = deps.benchlingFor(job);
    const ctx: StepContext = {
      job: jobWithEntry,
      executionId: job.executionId,
      attempt: record.attempts,
      deps,
      benchling,
      log: log.child({ entryId }),
      signal,
    };
    const canvas = canvasId ? packagingCanvas(ctx, canvasId) : undefined;
    const notePublished = (p: Published) => recordPublished(deps, hold.key, job.executionId, p);
    // A run that stopped after publishing records the entry's latest package again (a no-op then).
    const published = checkpointed(record).publish;
    if (published) await notePublished(published);
    return {
      context: { ctx, canvasId, notePublished },
      beforeSteps: async () => {
        if (canvas) await showOnCanvas(ctx, () => canvas.started(deps.clock().toISOString()));
      },
      // Progress messages in the app session, for the steps a scientist waits on.
      beforeStep: async (name) => {
        if (canvas && PROGRESS_STEPS.has(name)) await showOnCanvas(ctx, () => canvas.step(name));
      },
    };
  },
};

/** Steps whose start the canvas's app session tells (the long ones, and asking Benchling to export). */
const PROGRESS_STEPS = new Set(['start-export', 'await-export', 'transfer', 'publish']);

/** The outputs a record holds are those the declaration's steps returned (the store keeps them as written). */
function checkpointed(record: ExecutionRecord): Partial<EntryPackageOutputs> {
  return record.outputs as Partial<EntryPackageOutputs>;
}

async function recordPublished(deps: WorkerDeps, key: string, executionId: string, p: Published): Promise<unknown> {
  // A revision that went to the history (a later one was already published) is not the entry's latest.
  if (p.latest === false) return;
  return deps.entries.recordPublished(key, {
    executionId,
    packageName: p.packageName,
    ...(p.topHash ? { topHash: p.topHash } : {}),
    at: p.publishedAt,
  });
}

/**
 * Why a resumed run's snapshot is stale, or undefined: another run published the entry after this
 * run read it (it could only have read it later, under the entry lease this run had lost). A run
 * that has published already is not stale: it only has to finish.
 */
function staleSnapshot(execution: ExecutionRecord, lastPublished: PublishedPackage | undefined): string | undefined {
  const snapshot = checkpointed(execution)['fetch-entry'];
  if (!snapshot?.fetchedAt || !lastPublished || execution.outputs.publish !== undefined) return undefined;
  if (lastPublished.executionId === execution.executionId || lastPublished.at <= snapshot.fetchedAt) return undefined;
  return (
    `a later run (${lastPublished.executionId}) published this entry at ` +
    `${lastPublished.at}, after this run read it at ${snapshot.fetchedAt}`
  );
}

async function entryOfCanvas(benchling: BenchlingClient, job: EntryPackageJob): Promise<string> {
  if (!job.canvasId) throw new BadMessageError('job names neither an entry nor a canvas');
  const canvas = await benchling.getCanvas(job.canvasId);
  const resourceId = (canvas as { resourceId?: string }).resourceId;
  if (!resourceId) throw new PermanentError(`canvas ${job.canvasId} is not attached to an entry`, { code: 'CanvasWithoutEntry' });
  return resourceId;
}
