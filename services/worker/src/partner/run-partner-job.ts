import { describeError, type ExecutionError, type ExecutionRecord, isRetryable, serializeJobMessage, TransientError } from '@bp/shared';
import type { PartnerJobMessage } from '@bp/shared/partners/event';
import { processMetrics } from '@bp/shared/metrics/index';
import type { WorkerDeps } from '../context.ts';
import { Heartbeat } from '../heartbeat.ts';
import { gaveUpMessage, type JobOutcome, retryDelaySeconds } from '../retry-policy.ts';
import type { PartnerStepContext } from './context.ts';
import { PARTNER_STEPS, RESULT_STEPS } from './kinds.ts';
import { libStorageWriter, type ObjectWriter } from './object-writer.ts';
import { runPackageName, runResourceKey } from './run-names.ts';

/** Longest wait before a job whose run is busy (another event of the run is processing) looks again. */
const RUN_BUSY_MAX_DELAY_SECONDS = 30;

/**
 * Runs (or resumes) one partner event's job: the execution lease, then the run lease (one event of
 * a run at a time, held in the entries table under the run's key), then the kind's steps from
 * PARTNER_STEPS, each checkpointed. Receives are limited by the partner's `maxRetries` (and the
 * queue's redrive policy): a transient failure after the last one fails the event with its reason
 * and dead-letters the message. A permanent failure (refused URL, size or hash mismatch) fails at once.
 */
export async function runPartnerJob(deps: WorkerDeps, job: PartnerJobMessage, receiveCount: number, signal: AbortSignal, writer: ObjectWriter = libStorageWriter(deps.s3)): Promise<JobOutcome> {
  const { config, executions, entries } = deps;
  const leaseMs = config.visibilityTimeoutSeconds * 1000;
  const log = deps.logger.child({ executionId: job.executionId, webhookId: job.trigger.webhookId, partnerId: job.partnerId, runId: job.event.run.id, kind: job.kind });
  const begun = await executions.beginAttempt(job.executionId, { workerId: config.workerId, leaseMs });
  if (begun.alreadyFinished) {
    log.info('partner event already finished: message acknowledged', { status: begun.record.status });
    await entries.handOffEntryLease(runResourceKey(job.partnerId, job.event.run.id), job.executionId, 'none', leaseMs).catch(() => undefined);
    return { action: 'done' };
  }
  let execution = begun.record;
  const runKey = runResourceKey(job.partnerId, job.event.run.id);
  const lease = await entries.acquireEntryLease(runKey, job.executionId, leaseMs);
  if (!lease.acquired) {
    // Another event of this run is being processed: come back when its lease may have ended, as a
    // new message, so waiting does not use up the partner's retries.
    const delaySeconds = Math.max(1, Math.min(RUN_BUSY_MAX_DELAY_SECONDS, Math.ceil((lease.expiresAt - Date.now()) / 1000)));
    await executions.requeueForPoll(job.executionId, config.workerId, delaySeconds);
    log.info('run busy with another event: re-enqueued', { heldBy: lease.heldBy, delaySeconds });
    return { action: 'requeue', body: serializeJobMessage(job), delaySeconds };
  }

  // One attempt may run for the partner's timeout; shutdown and a lost lease stop it too.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timeout = setTimeout(
    () => controller.abort(new TransientError(`attempt exceeded the partner's timeout of ${job.policy.timeoutSeconds} s`, { code: 'PartnerTimeout' })),
    job.policy.timeoutSeconds * 1000,
  );
  const heartbeat = new Heartbeat({
    intervalMs: config.heartbeatSeconds * 1000,
    beat: async () => {
      await executions.extendLease(job.executionId, config.workerId, leaseMs);
      await entries.extendEntryLease(runKey, job.executionId, leaseMs);
    },
    onLost: (err) => {
      log.warn('lease lost: stopping this attempt', { error: describeError(err) });
      controller.abort(err);
    },
  });
  const packageName = runPackageName(job.policy.namespace, job.event.run.id);
  const ctx: PartnerStepContext = {
    job,
    execution,
    outputs: execution.outputs as Record<string, unknown>,
    deps,
    writer,
    log,
    signal: controller.signal,
    packageName,
    prefix: `${packageName}/`,
  };
  let currentStep = 'start';
  let result: unknown;
  try {
    heartbeat.start();
    for (const step of PARTNER_STEPS[job.kind] ?? []) {
      const done = (execution.outputs as Record<string, unknown>)[step.name];
      if (done !== undefined) {
        if (RESULT_STEPS.has(step.name)) result = done;
        continue;
      }
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error('aborted');
      currentStep = step.name;
      const started = Date.now();
      await executions.recordStepStart(job.executionId, config.workerId, step.name);
      const output = await step.run({ ...ctx, log: log.child({ step: step.name }), execution, outputs: execution.outputs as Record<string, unknown> });
      execution = await executions.checkpoint(job.executionId, config.workerId, step.name, output ?? null);
      if (RESULT_STEPS.has(step.name)) result = output;
      processMetrics().stepFinished(step.name, 'succeeded', (Date.now() - started) / 1000);
      log.info('step succeeded', { step: step.name, ms: Date.now() - started });
    }
    const published = (execution.outputs as Record<string, unknown>).publish as { packageName: string; topHash?: string } | undefined;
    await heartbeat.settle();
    await executions.succeed(job.executionId, config.workerId, published ? `${published.packageName}${published.topHash ? `@${published.topHash}` : ''}` : undefined, {
      processingMs: processingMs(execution, deps.clock()),
      ...(result !== undefined ? { result } : published ? { result: { package: { name: published.packageName, ...(published.topHash ? { topHash: published.topHash } : {}) } } } : {}),
    });
    processMetrics().executionFinished(job.kind, 'SUCCEEDED');
    log.info('partner event processed', { package: published?.packageName, topHash: published?.topHash });
    await releaseRun(deps, runKey, job.executionId);
    return { action: 'done' };
  } catch (err) {
    await heartbeat.settle();
    const cause = controller.signal.aborted && !signal.aborted ? (controller.signal.reason ?? err) : err;
    const error: ExecutionError = { step: currentStep, ...describeError(cause), at: deps.clock().toISOString() };
    if (currentStep !== 'start') processMetrics().stepFinished(currentStep, 'failed', 0);
    if (signal.aborted) {
      // Shutdown: hand the job back at once; the next worker resumes from the last checkpoint.
      await executions.recordRetry(job.executionId, config.workerId, currentStep, { ...error, message: `worker shutting down: ${error.message}` }, { requeueDelaySeconds: 0 });
      return { action: 'retry', delaySeconds: 0 };
    }
    // The partner's max retries bound the receives, within the queue's own redrive limit.
    const lastReceive = Math.min(deps.maxReceiveCount, Math.max(1, job.policy.maxRetries));
    if (isRetryable(cause) && receiveCount < lastReceive) {
      const delaySeconds = retryDelaySeconds(receiveCount);
      log.warn('partner event attempt failed, will retry', { step: currentStep, error, receiveCount, delaySeconds });
      await executions.recordRetry(job.executionId, config.workerId, currentStep, error, { requeueDelaySeconds: delaySeconds });
      processMetrics().retryScheduled(currentStep, error.class);
      await entries.extendEntryLease(runKey, job.executionId, (delaySeconds + config.visibilityTimeoutSeconds) * 1000).catch(() => undefined);
      return { action: 'retry', delaySeconds };
    }
    const final = isRetryable(cause) ? { ...error, message: gaveUpMessage(receiveCount, error.message) } : error;
    log.error('partner event failed', { step: currentStep, error: final });
    await executions.fail(job.executionId, config.workerId, final, { processingMs: processingMs(execution, deps.clock()) });
    processMetrics().executionFinished(job.kind, 'FAILED');
    await releaseRun(deps, runKey, job.executionId);
    if (!isRetryable(cause)) return { action: 'done' };
    processMetrics().dlqMoved('dead_lettered', 'max_receives');
    // On the queue's last receive its redrive moves the message; before that, we send it.
    return receiveCount >= deps.maxReceiveCount ? { action: 'retry', delaySeconds: 0 } : { action: 'deadLetter', reason: final.message };
  } finally {
    clearTimeout(timeout);
    heartbeat.stop();
    signal.removeEventListener('abort', onAbort);
  }
}

/** Milliseconds since the event's first attempt started. */
function processingMs(execution: ExecutionRecord, now: Date): number {
  const started = Date.parse(execution.startedAt ?? execution.createdAt);
  return Math.max(0, now.getTime() - started);
}

/** Ends this event's hold on the run. Partner events do not coalesce, so it is a plain release. */
async function releaseRun(deps: WorkerDeps, runKey: string, executionId: string): Promise<void> {
  try {
    await deps.entries.handOffEntryLease(runKey, executionId, 'none', deps.config.visibilityTimeoutSeconds * 1000);
  } catch (err) {
    deps.logger.warn('could not release the run lease; it lapses', { runKey, error: describeError(err) });
  }
}
