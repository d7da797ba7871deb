import { describeError, entryKey, type JobMessage, PermanentError } from '@bp/shared';
import { canvasBlocks, packageLink } from './canvas.ts';
import type { WorkerDeps } from './context.ts';
import type { JobOutcome } from './retry-policy.ts';
import { retryDelaySeconds } from './retry-policy.ts';
import { processMetrics } from '@bp/shared/metrics/index';

/**
 * Short jobs that are one call each: creating an entry's canvas (`canvas.init`) and recording an
 * app lifecycle event (`app.lifecycle`). Same lease and failure rules as packaging, no steps.
 */
export async function runSimpleJob(deps: WorkerDeps, job: JobMessage, receiveCount: number): Promise<JobOutcome> {
  const { config, executions } = deps;
  const log = deps.logger.child({ executionId: job.executionId, webhookId: job.trigger.webhookId, entryId: job.entryId, kind: job.kind });
  const begun = await executions.beginAttempt(job.executionId, { workerId: config.workerId, leaseMs: config.visibilityTimeoutSeconds * 1000 });
  if (begun.alreadyFinished) return { action: 'done' };
  const step = job.kind === 'canvas.init' ? 'update-canvas' : 'record-lifecycle';
  try {
    const output = job.kind === 'canvas.init' ? await createCanvas(deps, job) : await recordLifecycle(deps, job);
    await executions.checkpoint(job.executionId, config.workerId, 'update-canvas', output);
    await executions.succeed(job.executionId, config.workerId);
    processMetrics().executionFinished(job.kind, 'SUCCEEDED');
    log.info('execution succeeded', output);
    return { action: 'done' };
  } catch (err) {
    const e = describeError(err);
    const error = { step, ...e, at: deps.clock().toISOString() };
    if (e.retryable && receiveCount < deps.maxReceiveCount) {
      await executions.recordRetry(job.executionId, config.workerId, step, error);
      processMetrics().retryScheduled(step, e.class);
      return { action: 'retry', delaySeconds: retryDelaySeconds(receiveCount) };
    }
    await executions.fail(job.executionId, config.workerId, error);
    processMetrics().executionFinished(job.kind, 'FAILED');
    log.error('execution failed', { error });
    return e.retryable ? { action: 'retry', delaySeconds: 0 } : { action: 'done' };
  }
}

/** `v2.canvas.initialized` carries no canvas: create it, remember its id for the entry. */
async function createCanvas(deps: WorkerDeps, job: JobMessage): Promise<Record<string, unknown>> {
  if (!job.entryId) throw new PermanentError('canvas.init job has no entry id', { code: 'BadMessage' });
  if (!job.appId) throw new PermanentError('canvas.init job has no app id', { code: 'BadMessage' });
  const key = entryKey(job.tenantId, job.entryId);
  const state = await deps.entries.get(key);
  const featureId = job.trigger.featureId ?? deps.config.canvasFeatureId;
  if (state?.canvasId && state.featureId === featureId) return { canvasId: state.canvasId, reused: true };
  const last = state?.lastPublished;
  const blocks = canvasBlocks(
    {
      kind: 'idle',
      hasPackage: last
        ? { packageName: last.packageName, at: last.at, link: packageLink({ catalogUrl: deps.config.catalogUrl, bucket: deps.config.names.bucket, packageName: last.packageName }) }
        : undefined,
    },
    deps.config.updateButtonId,
  );
  const canvas = await deps.benchlingFor(job).createCanvas({ appId: job.appId, featureId, resourceId: job.entryId, blocks, enabled: true });
  await deps.entries.setCanvas(key, { canvasId: canvas.id, appId: job.appId, featureId });
  return { canvasId: canvas.id };
}

async function recordLifecycle(deps: WorkerDeps, job: JobMessage): Promise<Record<string, unknown>> {
  await deps.installations.recordLifecycle({ tenantId: job.tenantId, appId: job.appId ?? 'unknown', type: job.trigger.type, at: job.trigger.receivedAt });
  return { recorded: job.trigger.type };
}
