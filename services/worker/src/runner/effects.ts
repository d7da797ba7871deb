import { type AnyJobMessage, describeError, type ExecutionError, type Logger } from '@bp/shared';
import type { WorkerDeps } from '../context.ts';
import type { ResourceHold } from './job-kind.ts';
import type { Journal } from './journal.ts';
import { type Decision, type JobOutcome, retryDelaySeconds } from './outcome.ts';

/**
 * Carries out a decision: records it on the execution, keeps or ends the resource lease, tells
 * the canvas, counts it. Returns the message's outcome. A record that could not be written sends
 * the message back (with backoff) so the next delivery decides again: never deleted unrecorded.
 */
export async function carryOut(
  d: Decision,
  x: {
    deps: WorkerDeps;
    job: AnyJobMessage;
    err: unknown;
    journal: Journal;
    hold: ResourceHold | undefined;
    owned: boolean;
    log: Logger;
    receiveCount: number;
    startedAt?: string | undefined;
  },
): Promise<JobOutcome> {
  const { deps, job, journal, hold, log } = x;
  const { config, executions, metrics } = deps;
  const described = describeError(x.err);
  const error: ExecutionError = {
    step: journal.current === 'start' ? 'setup' : journal.current,
    ...described,
    message: d.reason,
    at: deps.clock().toISOString(),
  };
  log[d.execution === 'failed' ? 'error' : 'warn']('attempt ended by an error', {
    cause: d.cause,
    step: error.step,
    error: described,
    receiveCount: x.receiveCount,
    outcome: d.message,
  });
  try {
    if (d.execution === 'retry' && x.owned) {
      // The next attempt's time is recorded for operators and the partner events API ("next retry").
      const requeueDelaySeconds = d.message.action === 'retry' ? d.message.delaySeconds : undefined;
      await journal.with((pending) =>
        executions.recordRetry(job.executionId, config.workerId, error.step, error, {
          ...(pending ? { pending } : {}),
          ...(requeueDelaySeconds !== undefined ? { requeueDelaySeconds } : {}),
        }),
      );
      metrics.retryScheduled(error.step, error.class);
    } else if (d.execution === 'failed') {
      // Forced (no worker id) when this attempt never held the execution: there is no lease to check.
      const processingMs = x.startedAt ? Math.max(0, deps.clock().getTime() - Date.parse(x.startedAt)) : undefined;
      await journal.with((pending) =>
        executions.fail(
          job.executionId,
          x.owned ? config.workerId : undefined,
          error,
          pending,
          processingMs !== undefined ? { processingMs } : undefined,
        ),
      );
      metrics.executionFinished(job.kind, 'FAILED');
      if (d.cause === 'gave-up') metrics.dlqMoved('dead_lettered', 'max_receives');
    }
  } catch (recordErr) {
    // A dead-lettered message keeps the job (and its reason) in the DLQ whatever the record says.
    if (d.message.action === 'deadLetter') {
      log.warn('could not record the failure; the message goes to the DLQ all the same', { error: describeError(recordErr) });
    } else {
      log.warn('could not record how the attempt ended; the message comes back', { error: describeError(recordErr) });
      return d.message.action === 'retry' ? d.message : { action: 'retry', delaySeconds: retryDelaySeconds(x.receiveCount) };
    }
  }
  if (!hold) return d.message;
  try {
    if (d.resource === 'hold') await hold.extend((d.holdSeconds ?? config.visibilityTimeoutSeconds) * 1000);
    if (d.resource === 'end') {
      if (d.execution === 'failed') await hold.showFailure?.(error);
      await hold.end();
    }
  } catch (holdErr) {
    // Best effort: a lease left behind lapses by itself; a coalesced trigger waits for that.
    log.warn('could not settle the resource lease', { resource: hold.key, error: describeError(holdErr) });
  }
  return d.message;
}

/** If a message we cannot run still names an execution, mark that execution FAILED with the reason. */
export async function failNamedExecution(deps: WorkerDeps, body: string | undefined, reason: string): Promise<void> {
  let executionId: unknown;
  try {
    executionId = (JSON.parse(body ?? '') as { executionId?: unknown }).executionId;
  } catch {
    return;
  }
  if (typeof executionId !== 'string' || executionId.length === 0 || executionId.length > 200) return;
  const existing = await deps.executions.get(executionId).catch(() => undefined);
  if (!existing) return;
  await deps.executions
    .fail(executionId, undefined, { step: 'parse', class: 'BadMessage', message: reason, retryable: false, at: deps.clock().toISOString() })
    .catch((err: unknown) => deps.logger.warn('could not mark the execution failed', { executionId, error: describeError(err) }));
}
