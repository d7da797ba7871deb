import { describeError, entryKey, type ExecutionError, type ExecutionRecord, isRetryable, type JobMessage, newExecutionId, PermanentError, serializeJobMessage, type StepName } from '@bp/shared';
import { type BenchlingClient, BenchlingNotFoundError } from '@bp/shared/benchling/index';
import type { PublishedPackage } from '@bp/shared/executions/index';
import { PackagingCanvas } from './canvas/worker-canvas.ts';
import type { StepContext, StepResult, WorkerDeps } from './context.ts';
import { enqueueFollowUp } from './follow-up.ts';
import { gaveUpMessage, type JobOutcome, retryDelaySeconds } from './retry-policy.ts';
import { awaitExport, type ExportReady } from './steps/await-export.ts';
import { type EntrySnapshot, fetchEntry } from './steps/fetch-entry.ts';
import { publish, type Published } from './steps/publish.ts';
import { type ExportStarted, startExport } from './steps/start-export.ts';
import { transfer, type TransferSummary } from './steps/transfer.ts';
import { type MetadataWritten, writeMetadata } from './steps/write-metadata.ts';
import { Heartbeat } from './heartbeat.ts';
import { processMetrics } from '@bp/shared/metrics/index';

type Outputs = ExecutionRecord['outputs'];

/** Steps that can take minutes: operators see them as the current step while they run. */
const LONG_STEPS = new Set<StepName>(['await-export', 'transfer', 'publish']);

/** The steps in order; each reads the outputs of the ones before it. */
const PIPELINE: Array<{ name: StepName; run(ctx: StepContext, o: Outputs): Promise<StepResult<unknown>> }> = [
  { name: 'fetch-entry', run: (ctx) => fetchEntry(ctx) },
  { name: 'start-export', run: (ctx) => startExport(ctx) },
  { name: 'await-export', run: (ctx, o) => awaitExport(ctx, o['start-export'] as ExportStarted) },
  { name: 'transfer', run: (ctx, o) => transfer(ctx, o['await-export'] as ExportReady) },
  { name: 'write-metadata', run: (ctx, o) => writeMetadata(ctx, o['fetch-entry'] as EntrySnapshot, o.transfer as TransferSummary) },
  {
    name: 'publish',
    run: (ctx, o) => publish(ctx, o['fetch-entry'] as EntrySnapshot, o.transfer as TransferSummary, o['write-metadata'] as MetadataWritten),
  },
  { name: 'update-canvas', run: (ctx, o) => showResult(ctx, o) },
];

/** What an attempt learnt before it threw: lets the caller end the entry's hold when it gives up. */
export interface PackagingAttempt {
  /** The entry the job is for, once known (a canvas-only job learns it from Benchling). */
  entryId?: string;
}

/**
 * Runs (or resumes) one `entry.package` execution. Holds the execution lease and the entry lease
 * while it works; a trigger for an entry that is already being packaged is coalesced into one
 * follow-up run. Returns what to do with the SQS message. An error it throws leaves the entry
 * lease with this execution; `attempt` says which entry, for a caller that gives up on the job.
 */
export async function runPackaging(deps: WorkerDeps, job: JobMessage, receiveCount: number, signal: AbortSignal, attempt: PackagingAttempt = {}): Promise<JobOutcome> {
  const { config, executions, entries } = deps;
  const leaseMs = config.visibilityTimeoutSeconds * 1000;
  const log = deps.logger.child({ executionId: job.executionId, webhookId: job.trigger.webhookId, entryId: job.entryId });

  const begun = await executions.beginAttempt(job.executionId, { workerId: config.workerId, leaseMs });
  if (begun.alreadyFinished) {
    log.info('execution already finished: message acknowledged', { status: begun.record.status });
    // A crash between finishing and handing the entry on leaves the entry lease (and any coalesced
    // trigger) with this execution: finish that now. A no-op when it was done.
    const finishedEntryId = job.entryId ?? begun.record.entryId;
    if (finishedEntryId) await finishEntry(deps, entryKey(job.tenantId, finishedEntryId), { ...job, entryId: finishedEntryId }, log);
    return { action: 'done' };
  }
  let execution = begun.record;
  const benchling = deps.benchlingFor(job);
  const entryId = job.entryId ?? (await entryOfCanvas(benchling, job));
  attempt.entryId = entryId;
  const key = entryKey(job.tenantId, entryId);
  const jobWithEntry = { ...job, entryId };

  // One packaging per entry at a time.
  const lease = await entries.acquireEntryLease(key, job.executionId, leaseMs);
  if (!lease.acquired) {
    // canvas: a click of the update button while a packaging runs (the button is disabled then, but a
    // stale page or a double click still sends one) starts nothing: the running one reads the entry anyway.
    if (job.trigger.buttonId) {
      await executions.supersede(job.executionId, `entry ${entryId} is already being packaged by ${lease.heldBy}`);
      processMetrics().executionFinished(job.kind, 'SUPERSEDED');
      log.info('update button clicked while packaging runs: nothing started', { runningExecutionId: lease.heldBy });
      return { action: 'done' };
    }
    const rerun = await entries.requestRerun(key, job.trigger, job.executionId);
    if (rerun.leaseHeld) {
      await executions.supersede(job.executionId, `entry ${entryId} is being packaged by ${lease.heldBy}; one follow-up run will pick up this change`);
      processMetrics().executionFinished(job.kind, 'SUPERSEDED');
      log.info('coalesced into the running execution', { runningExecutionId: lease.heldBy });
      return { action: 'done' };
    }
    // The holder released between our two calls: our request may now start a follow-up, and we may
    // also run ourselves — take the lease again (the follow-up, if any, will find current state).
    const again = await entries.acquireEntryLease(key, job.executionId, leaseMs);
    if (!again.acquired) {
      await executions.recordRetry(job.executionId, config.workerId, 'acquire-entry', { step: 'acquire-entry', class: 'EntryBusy', message: `entry ${entryId} is busy`, retryable: true, at: deps.clock().toISOString() });
      return { action: 'retry', delaySeconds: retryDelaySeconds(1) };
    }
  }

  // Marks when this attempt holds the entry: the fault suite's no-two-runs-at-once check starts here.
  await executions.recordStepStart(job.executionId, config.workerId, 'acquire-entry', { tenantId: job.tenantId, entryId });
  const entryState = await entries.get(key);
  const stale = staleSnapshot(execution, entryState?.lastPublished);
  if (stale) {
    // This run stopped (its worker died) after reading the entry, its lease lapsed, and a later run
    // read the entry again and published it: going on would publish, and write under the prefix,
    // an older state than the package already has. That later run covered this trigger too.
    await executions.supersede(job.executionId, stale);
    processMetrics().executionFinished(job.kind, 'SUPERSEDED');
    log.info('superseded: a later run published the entry after this one read it', { reason: stale });
    await finishEntry(deps, key, jobWithEntry, log);
    return { action: 'done' };
  }
  const canvasId = job.canvasId ?? entryState?.canvasId;
  if (job.canvasId && entryState?.canvasId !== job.canvasId) {
    await entries.setCanvas(key, { canvasId: job.canvasId, appId: job.appId, featureId: job.trigger.featureId });
  }

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  // A listener added to a signal that has already fired never runs.
  if (signal.aborted) onAbort();
  const heartbeat = new Heartbeat({
    intervalMs: config.heartbeatSeconds * 1000,
    beat: async () => {
      await executions.extendLease(job.executionId, config.workerId, leaseMs);
      await entries.extendEntryLease(key, job.executionId, leaseMs);
    },
    onLost: (err) => {
      log.warn('lease lost: stopping this attempt', { error: describeError(err) });
      controller.abort(err);
    },
  });

  let packageName: string | undefined;
  const ctx: StepContext = {
    job: jobWithEntry,
    execution,
    deps,
    benchling,
    log,
    signal: controller.signal,
    packageName() {
      const entry = execution.outputs['fetch-entry'] as EntrySnapshot | undefined;
      packageName ??= entry ? packageNameFor(config.packagePrefix, entry.displayId) : undefined;
      if (!packageName) throw new PermanentError('package name asked for before fetch-entry ran', { code: 'Internal' });
      return packageName;
    },
  };
  const canvas = canvasId ? new PackagingCanvas(deps, benchling, jobWithEntry, canvasId) : undefined;
  let currentStep = 'start';
  let stepStartedAt = Date.now();
  // The entry's latest package is recorded as soon as it is published, so neither a later failure
  // (the canvas) nor a crash can leave it out; a resumed run records it again (a no-op then).
  const notePublished = async () => {
    const p = execution.outputs.publish as Published | undefined;
    // A revision that went to the history (a later one was already published) is not the entry's latest.
    if (!p || p.latest === false) return;
    await entries.recordPublished(key, { executionId: job.executionId, packageName: p.packageName, ...(p.topHash ? { topHash: p.topHash } : {}), at: p.publishedAt });
  };
  try {
    heartbeat.start();
    await notePublished();
    if (canvas && !execution.outputs['fetch-entry']) {
      await showOnCanvas(ctx, () => canvas.started(deps.clock().toISOString()));
    }
    for (const step of PIPELINE) {
      if (execution.outputs[step.name] !== undefined) continue;
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error('aborted');
      currentStep = step.name;
      const slog = log.child({ step: step.name });
      ctx.log = slog;
      // Short steps are recorded once, when they checkpoint; long ones also say when they start.
      if (LONG_STEPS.has(step.name)) await executions.recordStepStart(job.executionId, config.workerId, step.name);
      if (canvas && (LONG_STEPS.has(step.name) || step.name === 'start-export')) await canvas.step(step.name); // canvas: progress message
      const started = Date.now();
      stepStartedAt = started;
      const result = await step.run({ ...ctx, log: slog, execution }, execution.outputs);
      if ('waitSeconds' in result) {
        // Free the slot: come back later. Keep the entry lease across the wait (once no beat can cut it back).
        await heartbeat.settle();
        await entries.extendEntryLease(key, job.executionId, (result.waitSeconds + config.visibilityTimeoutSeconds) * 1000);
        await executions.requeueForPoll(job.executionId, config.workerId, result.waitSeconds);
        slog.info('export still running: re-enqueued', { delaySeconds: result.waitSeconds });
        processMetrics().stepFinished(step.name, 'requeued', (Date.now() - started) / 1000);
        return { action: 'requeue', body: serializeJobMessage(result.job), delaySeconds: result.waitSeconds };
      }
      execution = await executions.checkpoint(job.executionId, config.workerId, step.name, result.output);
      ctx.execution = execution;
      if (step.name === 'publish') await notePublished();
      slog.info('step succeeded', { ms: Date.now() - started });
      processMetrics().stepFinished(step.name, 'succeeded', (Date.now() - started) / 1000);
    }
    const published = execution.outputs.publish as Published;
    await executions.succeed(job.executionId, config.workerId);
    processMetrics().executionFinished(job.kind, 'SUCCEEDED');
    log.info('execution succeeded', { packageName: published.packageName, topHash: published.topHash });
    await finishEntry(deps, key, jobWithEntry, log);
    return { action: 'done' };
  } catch (err) {
    // The leases are set below (released, or held across a retry's delay): no beat may land after that.
    await heartbeat.settle();
    const described = describeError(err);
    const error: ExecutionError = { step: currentStep, ...described, at: deps.clock().toISOString() };
    if (currentStep !== 'start') processMetrics().stepFinished(currentStep, 'failed', (Date.now() - stepStartedAt) / 1000);
    if (signal.aborted) {
      // Shutdown: hand the job back at once; the next worker resumes from the last checkpoint.
      await executions.recordRetry(job.executionId, config.workerId, currentStep, { ...error, message: `worker shutting down: ${error.message}` });
      await entries.extendEntryLease(key, job.executionId, leaseMs);
      return { action: 'retry', delaySeconds: 0 };
    }
    if (isRetryable(err) && receiveCount < deps.maxReceiveCount) {
      const delaySeconds = retryDelaySeconds(receiveCount);
      log.warn('attempt failed, will retry', { step: currentStep, error: described, receiveCount, delaySeconds });
      await executions.recordRetry(job.executionId, config.workerId, currentStep, error);
      processMetrics().retryScheduled(currentStep, described.class);
      await entries.extendEntryLease(key, job.executionId, (delaySeconds + config.visibilityTimeoutSeconds) * 1000);
      return { action: 'retry', delaySeconds };
    }
    const final = isRetryable(err) ? { ...error, message: gaveUpMessage(receiveCount, error.message) } : error;
    log.error('execution failed', { step: currentStep, error: final });
    await executions.fail(job.executionId, config.workerId, final);
    processMetrics().executionFinished(job.kind, 'FAILED');
    if (isRetryable(err)) processMetrics().dlqMoved('dead_lettered', 'max_receives');
    if (canvas) await showOnCanvas(ctx, () => canvas.failed(final));
    await finishEntry(deps, key, jobWithEntry, log);
    // A transient failure on the last receive goes on to the DLQ through the redrive policy.
    return isRetryable(err) ? { action: 'retry', delaySeconds: 0 } : { action: 'done' };
  } finally {
    heartbeat.stop();
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Why a resumed run's snapshot is stale, or undefined: another run published the entry after this
 * run read it (it could only have read it later, under the entry lease this run had lost). A run
 * that has published already is not stale: it only has to finish.
 */
function staleSnapshot(execution: ExecutionRecord, lastPublished: PublishedPackage | undefined): string | undefined {
  const snapshot = execution.outputs['fetch-entry'] as EntrySnapshot | undefined;
  if (!snapshot?.fetchedAt || !lastPublished || execution.outputs.publish !== undefined) return undefined;
  if (lastPublished.executionId === execution.executionId || lastPublished.at <= snapshot.fetchedAt) return undefined;
  return `a later run (${lastPublished.executionId}) published this entry at ${lastPublished.at}, after this run read it at ${snapshot.fetchedAt}`;
}

/**
 * Releases the entry, or hands its lease to the single follow-up run that coalesced triggers asked
 * for and starts it. Safe to repeat: a redelivered message completes a hand-off a crash cut short.
 * A no-op when this execution no longer holds the entry (and has no hand-off left to complete).
 */
export async function finishEntry(deps: WorkerDeps, key: string, job: JobMessage & { entryId: string }, log: StepContext['log']): Promise<void> {
  const leaseMs = deps.config.visibilityTimeoutSeconds * 1000;
  const end = await deps.entries.handOffEntryLease(key, job.executionId, newExecutionId(deps.clock()), leaseMs);
  const handoff = end.outcome === 'handedOff' ? end : end.outcome === 'notHeld' ? end.pendingHandoff : undefined;
  if (!handoff) return;
  const followUp = await enqueueFollowUp(deps, job, handoff.trigger, handoff.to);
  log.info('started the follow-up run for changes made while packaging', { followUpExecutionId: followUp, resumedHandoff: end.outcome === 'notHeld' });
}

async function showResult(ctx: StepContext, o: Outputs): Promise<StepResult<unknown>> {
  const canvasId = ctx.job.canvasId ?? (await ctx.deps.entries.get(entryKey(ctx.job.tenantId, ctx.job.entryId)))?.canvasId;
  if (!canvasId) return { output: { skipped: 'no canvas for this entry' } };
  const p = o.publish as Published;
  try {
    // canvas: the main view, with the file count and size read back from the published manifest.
    await new PackagingCanvas(ctx.deps, ctx.benchling, ctx.job, canvasId).published(p.publishedAt, p.created === false);
  } catch (err) {
    // The scientist removed the canvas: the package is published all the same, and nothing is left to show it on.
    if (!(err instanceof BenchlingNotFoundError)) throw err;
    ctx.log.warn('the canvas is gone: the result is not shown', { canvasId });
    return { output: { canvasId, skipped: 'the canvas no longer exists' } };
  }
  return { output: { canvasId } };
}

/** Canvas updates while running are best effort: a canvas error must not fail a package. */
async function showOnCanvas(ctx: StepContext, show: () => Promise<void>): Promise<void> {
  try {
    await show();
  } catch (err) {
    ctx.log.warn('could not update the canvas', { error: describeError(err) });
  }
}

async function entryOfCanvas(benchling: BenchlingClient, job: JobMessage): Promise<string> {
  if (!job.canvasId) throw new PermanentError('job names neither an entry nor a canvas', { code: 'BadMessage' });
  const canvas = await benchling.getCanvas(job.canvasId);
  const resourceId = (canvas as { resourceId?: string }).resourceId;
  if (!resourceId) throw new PermanentError(`canvas ${job.canvasId} is not attached to an entry`, { code: 'CanvasWithoutEntry' });
  return resourceId;
}

export function packageNameFor(prefix: string, displayId: string): string {
  const name = displayId.replace(/[^\w-]/g, '_');
  return `${prefix}/${name}`;
}
