import { type AnyJobMessage, describeError, entryKey, isPartnerJob, type JobMessage, parseAnyJobMessage, PermanentError, TransientError } from '@bp/shared';
import { LeaseLostError } from '@bp/shared/executions/index';
import type { WorkerDeps } from './context.ts';
import { finishEntry, type PackagingAttempt, runPackaging } from './packaging.ts';
import { gaveUpMessage, type JobOutcome, leaseHeldDelaySeconds } from './retry-policy.ts';
import { runSimpleJob } from './simple-jobs.ts';
import { runPartnerJob } from './partner/index.ts';

/**
 * Reads one SQS message and runs its job. Never throws for a bad message: an unreadable or
 * unknown one is dead-lettered with its reason; anything unexpected leaves the message for a retry.
 */
export async function handleJob(deps: WorkerDeps, body: string | undefined, receiveCount: number, signal: AbortSignal): Promise<JobOutcome> {
  let job: AnyJobMessage;
  try {
    job = parseAnyJobMessage(body);
  } catch (err) {
    const reason = (err as Error).message;
    deps.logger.error('unreadable job message: dead-lettering it', { reason });
    await failNamedExecution(deps, body, reason);
    return { action: 'deadLetter', reason };
  }
  const attempt: PackagingAttempt = {};
  try {
    // PARTNERS (integration point): partner event kinds run through services/worker/src/partner/;
    // the coordinator re-points this line to the unified runner at merge.
    if (isPartnerJob(job)) return await runPartnerJob(deps, job, receiveCount, signal);
    return job.kind === 'entry.package' ? await runPackaging(deps, job, receiveCount, signal, attempt) : await runSimpleJob(deps, job, receiveCount);
  } catch (err) {
    if (err instanceof TransientError && err.code === 'LeaseHeld') {
      return { action: 'retry', delaySeconds: leaseHeldDelaySeconds(err, deps.config.visibilityTimeoutSeconds) };
    }
    if (err instanceof PermanentError && err.code === 'ExecutionNotFound') {
      // No record to mark FAILED: keep the message where an operator sees it, with the reason.
      deps.logger.error('job names an execution that does not exist: dead-lettering it', { executionId: job.executionId });
      await endEntryHold(deps, job, attempt, err);
      return { action: 'deadLetter', reason: err.message };
    }
    // Errors outside a step (a store or queue call): the message comes back and the run resumes.
    const e = describeError(err);
    deps.logger.error('job attempt failed outside the pipeline', { executionId: job.executionId, error: e, receiveCount });
    if (err instanceof PermanentError) {
      await deps.executions.fail(job.executionId, undefined, { step: 'setup', ...e, at: deps.clock().toISOString() }).catch(() => undefined);
      await endEntryHold(deps, job, attempt, err);
      return { action: 'done' };
    }
    if (receiveCount >= deps.maxReceiveCount) {
      // This was the last receive: SQS moves the message to the DLQ next, so say so on the execution.
      const error = { step: 'setup', ...e, message: gaveUpMessage(receiveCount, e.message), at: deps.clock().toISOString() };
      await deps.executions.fail(job.executionId, undefined, error).catch((failErr: unknown) =>
        deps.logger.warn('could not mark the execution failed', { executionId: job.executionId, error: describeError(failErr) }),
      );
      await endEntryHold(deps, job, attempt, err);
      return { action: 'retry', delaySeconds: 0 };
    }
    return { action: 'retry', delaySeconds: Math.min(60, 5 * receiveCount) };
  }
}

/**
 * The job is given up on outside the pipeline's own ending (its execution is FAILED, or its
 * message dead-lettered): end the execution's hold on the entry as a normal end does — start the
 * follow-up if triggers were coalesced meanwhile, release otherwise, or complete a hand-off a
 * failure cut short — so nothing waits for the lease to lapse. Only while this execution still
 * holds the entry (EntryStore.handOffEntryLease checks); never when another worker has taken the
 * execution over, as its run holds the entry under the same id. Best effort: a failure is logged.
 */
async function endEntryHold(deps: WorkerDeps, job: AnyJobMessage, attempt: PackagingAttempt, err: unknown): Promise<void> {
  if (isPartnerJob(job) || job.kind !== 'entry.package') return;
  const entryId = attempt.entryId ?? job.entryId;
  if (!entryId) return;
  const log = deps.logger.child({ executionId: job.executionId, entryId });
  if (err instanceof LeaseLostError && err.lease === 'execution' && err.owner && err.status === 'RUNNING') {
    log.warn('execution taken over by another worker: leaving the entry to it', { owner: err.owner });
    return;
  }
  try {
    await finishEntry(deps, entryKey(job.tenantId, entryId), { ...job, entryId }, log);
  } catch (endErr) {
    log.warn('could not hand the entry on; a coalesced trigger waits for the lease to lapse', { error: describeError(endErr) });
  }
}

/** If a message we cannot run still names an execution, mark that execution FAILED with the reason. */
async function failNamedExecution(deps: WorkerDeps, body: string | undefined, reason: string): Promise<void> {
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
