import { SendMessageCommand } from '@aws-sdk/client-sqs';
import pRetry from 'p-retry';
import { type JobMessage, newExecutionId, newQueuedExecution, type Trigger } from '@bp/shared';
import type { WorkerDeps } from './context.ts';

/**
 * Enqueues one new execution for an entry whose triggers were coalesced while it was being packaged.
 * The record is written before the message so the follow-up is visible to operators at once.
 */
export async function enqueueFollowUp(deps: WorkerDeps, previous: JobMessage & { entryId: string }, trigger: Trigger): Promise<string> {
  const now = deps.clock();
  const executionId = newExecutionId(now);
  const job: JobMessage = {
    v: 1,
    kind: 'entry.package',
    executionId,
    tenantId: previous.tenantId,
    baseURL: previous.baseURL,
    ...(previous.appId ? { appId: previous.appId } : {}),
    entryId: previous.entryId,
    trigger: { ...trigger, webhookId: trigger.webhookId || `rerun:${previous.executionId}` },
  };
  await deps.executions.create(newQueuedExecution({ executionId, tenantId: job.tenantId, kind: job.kind, entryId: job.entryId, trigger: job.trigger, now }));
  await pRetry(() => deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.config.names.jobsQueueUrl, MessageBody: JSON.stringify(job) })), {
    retries: 5,
    minTimeout: 200,
    randomize: true,
  });
  return executionId;
}
