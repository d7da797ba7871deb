import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  awsMayHaveSucceeded,
  describeError,
  type JobMessage,
  JobMessageSchema,
  newExecutionId,
  newQueuedExecution,
  serializeJobMessage,
} from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { OpsUsageError, SendOutcomeUnknownError } from './errors.ts';

export interface RepackageRequest {
  tenantId: string;
  entryId: string;
  /**
   * Tenant origin, e.g. `https://acme.benchling.com` (the worker serves it only if BENCHLING_TENANTS lists the tenant at exactly this base
   * URL).
   */
  baseURL: string;
  /** Benchling app id, when the canvas should be updated by an app other than the default. */
  appId?: string;
  /** Who asked: goes into the trigger as `userId` and into the history. Default `ops`. */
  requestedBy?: string;
}

export interface RepackageResult {
  executionId: string;
  jobsMessageId: string;
  job: JobMessage;
}

/**
 * Starts a fresh packaging of one entry, as the ingress does for a webhook: the QUEUED execution
 * record first (operators see it at once), then the job message. Trigger type `ops.repackage`,
 * webhook id `ops:<uuid>`. If the send certainly failed the record is marked FAILED, so nothing
 * sits QUEUED without a job. If its outcome is unknown (timed out, connection broken after the
 * request went out) the record stays QUEUED and SendOutcomeUnknownError names it: the job may be
 * on the queue, and failing it would mark FAILED a job the worker then runs. An entry being
 * packaged right now is coalesced by the worker as usual.
 */
export async function repackage(deps: OpsDeps, r: RepackageRequest): Promise<RepackageResult> {
  const now = deps.clock();
  const executionId = newExecutionId(now);
  const job: JobMessage = {
    v: 1,
    kind: 'entry.package',
    executionId,
    tenantId: r.tenantId,
    baseURL: r.baseURL.replace(/\/$/, ''),
    ...(r.appId ? { appId: r.appId } : {}),
    entryId: r.entryId,
    trigger: { webhookId: `ops:${randomUUID()}`, type: 'ops.repackage', receivedAt: now.toISOString(), userId: r.requestedBy ?? 'ops' },
  };
  const checked = JobMessageSchema.safeParse(job);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new OpsUsageError(`cannot build the job: ${issue?.path.join('.') || '(job)'}: ${issue?.message ?? 'invalid'}`);
  }
  await deps.executions.create(
    newQueuedExecution({ executionId, tenantId: job.tenantId, kind: job.kind, entryId: r.entryId, trigger: job.trigger, now }),
  );
  try {
    const sent = await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.names.jobsQueueUrl, MessageBody: serializeJobMessage(job) }));
    return { executionId, jobsMessageId: sent.MessageId ?? 'unknown', job };
  } catch (err) {
    const e = describeError(err);
    if (awsMayHaveSucceeded(err)) {
      throw new SendOutcomeUnknownError(
        `the job of execution ${executionId} may or may not have been sent (${e.class}: ${e.message}); it stays QUEUED. ` +
          `If \`pnpm ops executions show ${executionId}\` shows no attempt within a few minutes, repackage again.`,
        { cause: err, details: { executionId } },
      );
    }
    await deps.executions
      .fail(executionId, undefined, {
        step: 'enqueue',
        class: e.class,
        message: `could not send the job: ${e.message}`,
        retryable: true,
        at: deps.clock().toISOString(),
      })
      .catch(() => undefined);
    throw err;
  }
}
