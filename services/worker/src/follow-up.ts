import { SendMessageCommand } from '@aws-sdk/client-sqs';
import pRetry from 'p-retry';
import { type JobMessage, newQueuedExecution, serializeJobMessage, type Trigger } from '@bp/shared';
import { ExecutionExistsError } from '@bp/shared/executions/index';
import type { WorkerDeps } from './context.ts';

/**
 * Enqueues the follow-up execution `executionId` (already holding the entry lease, see
 * EntryStore.handOffEntryLease) for an entry whose triggers were coalesced while it was being
 * packaged. The record is written before the message so the follow-up is visible to operators at
 * once. Idempotent, for a redelivered message finishing a hand-off a crash interrupted: an existing
 * record is kept, and no message is sent once the follow-up has left QUEUED (it was enqueued).
 */
export async function enqueueFollowUp(
  deps: WorkerDeps,
  previous: JobMessage & { entryId: string },
  trigger: Trigger,
  executionId: string,
): Promise<string> {
  const now = deps.clock();
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
  try {
    await deps.executions.create(
      newQueuedExecution({ executionId, tenantId: job.tenantId, kind: job.kind, entryId: job.entryId, trigger: job.trigger, now }),
    );
  } catch (err) {
    if (!(err instanceof ExecutionExistsError)) throw err;
    if ((await deps.executions.get(executionId))?.status !== 'QUEUED') return executionId;
  }
  await pRetry(
    () => deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.config.names.jobsQueueUrl, MessageBody: serializeJobMessage(job) })),
    {
      retries: 5,
      minTimeout: 200,
      randomize: true,
    },
  );
  return executionId;
}
