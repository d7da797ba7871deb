import { describeError, type JobMessage } from '@bp/shared';
import { createEntryCanvas, runCanvasView } from './canvas/worker-canvas.ts';
import type { WorkerDeps } from './context.ts';
import type { JobOutcome } from './retry-policy.ts';
import { retryDelaySeconds } from './retry-policy.ts';
import { processMetrics } from '@bp/shared/metrics/index';

/**
 * Short jobs that are one call each: creating an entry's canvas (`canvas.init`), answering a
 * canvas navigation click (`canvas.view`) and recording an app lifecycle event
 * (`app.lifecycle`). Same lease and failure rules as packaging, no steps.
 */
export async function runSimpleJob(deps: WorkerDeps, job: JobMessage, receiveCount: number): Promise<JobOutcome> {
  const { config, executions } = deps;
  const log = deps.logger.child({ executionId: job.executionId, webhookId: job.trigger.webhookId, entryId: job.entryId, kind: job.kind });
  const begun = await executions.beginAttempt(job.executionId, { workerId: config.workerId, leaseMs: config.visibilityTimeoutSeconds * 1000 });
  if (begun.alreadyFinished) return { action: 'done' };
  const step = job.kind === 'app.lifecycle' ? 'record-lifecycle' : 'update-canvas';
  try {
    // canvas: the canvas module (services/worker/src/canvas) does the work of both canvas kinds.
    const output = job.kind === 'canvas.init' ? await createEntryCanvas(deps, job) : job.kind === 'canvas.view' ? await runCanvasView(deps, job) : await recordLifecycle(deps, job);
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

async function recordLifecycle(deps: WorkerDeps, job: JobMessage): Promise<Record<string, unknown>> {
  await deps.installations.recordLifecycle({ tenantId: job.tenantId, appId: job.appId ?? 'unknown', type: job.trigger.type, at: job.trigger.receivedAt });
  return { recorded: job.trigger.type };
}
