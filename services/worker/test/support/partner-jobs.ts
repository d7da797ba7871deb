import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { newQueuedExecution, serializeJobMessage, type Trigger } from '@bp/shared';
import type { ExecutionStore } from '@bp/shared/executions/index';
import { PARTNER_JOB_KINDS, type PartnerEvent, type PartnerJobMessage, type PartnerPolicy } from '@bp/shared/partners/event';
import type { SQSClient } from '@aws-sdk/client-sqs';

let seq = 0;

/** The policy the registry would carry for a partner whose files come from `fileBase`. */
export function policyFor(fileBase: string, o: Partial<PartnerPolicy> = {}): PartnerPolicy {
  const escaped = fileBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    allowedUrlPatterns: [`^${escaped}/partner-runs/.*$`],
    allowedS3Prefixes: [],
    namespace: 'illumina',
    maxRetries: 3,
    timeoutSeconds: 600,
    ...o,
  };
}

/**
 * What the ingress does for an accepted partner event: the QUEUED execution record (its id is the
 * event id) carrying partner, type and run, and the job message. Returns the job; `enqueue` also sends it.
 */
export async function partnerJob(
  executions: ExecutionStore,
  o: { partnerId?: string; event: Omit<PartnerEvent, 'id' | 'timestamp'> & { id?: string; timestamp?: string }; policy: PartnerPolicy },
): Promise<PartnerJobMessage> {
  const now = new Date();
  const partnerId = o.partnerId ?? 'illumina';
  const eventId = `pev_${now.getTime().toString(36)}_${process.pid}_${seq++}`;
  const event: PartnerEvent = {
    id: o.event.id ?? `evt-${eventId}`,
    timestamp: o.event.timestamp ?? now.toISOString(),
    ...o.event,
  } as PartnerEvent;
  const trigger = { webhookId: `msg_${eventId}`, type: event.type, receivedAt: now.toISOString() };
  const job: PartnerJobMessage = {
    v: 1,
    kind: PARTNER_JOB_KINDS[event.type],
    executionId: eventId,
    partnerId,
    trigger,
    event,
    policy: o.policy,
  };
  const record = newQueuedExecution({
    executionId: eventId,
    tenantId: `partner:${partnerId}`,
    kind: 'entry.package',
    trigger: trigger as Trigger,
    now,
  });
  await executions.create({ ...record, kind: job.kind, partnerId, eventType: event.type, runId: event.run.id });
  return job;
}

/** Puts a partner job on the jobs queue, as the ingress would after recording it. */
export async function enqueuePartnerJob(sqs: SQSClient, queueUrl: string, job: PartnerJobMessage): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: serializeJobMessage(job) }));
}
