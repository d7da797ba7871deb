import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describeError, type JobMessage, parseJobMessage } from '@bp/shared';
import { type PartnerJobMessage, PartnerJobMessageSchema } from '@bp/shared/partners/event';
import type { OpsDeps } from './deps.ts';

/** A DLQ message as ops sees it: the job it carries (if readable) and why it was dead-lettered (if said). */
export interface DlqMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** ISO time the message was first sent (kept across redrive to the DLQ). */
  sentAt?: string;
  /** Receives so far, the ones on the jobs queue included. */
  receiveCount?: number;
  /** The `error` attribute the worker sets when it dead-letters an unreadable message itself. */
  dlqReason?: string;
  job?: JobMessage;
  /** A sequencing-partner event's job (kind `partner.<type>`), replayed like any other. */
  partnerJob?: PartnerJobMessage;
  /** Why the body is not a valid job, when it is not. */
  unreadable?: string;
  /** The original message attributes, resent as they were on a replay. */
  attributes: Message['MessageAttributes'];
}

/**
 * Receives up to `max` DLQ messages and hides them for `holdSeconds` (so paging sees each once);
 * callers release what they do not delete with `releaseMessages`. A crashed caller's messages
 * reappear on their own after `holdSeconds`.
 */
export async function receiveDlq(deps: OpsDeps, o: { max: number; holdSeconds: number; waitSeconds?: number }): Promise<DlqMessage[]> {
  const res = await deps.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: deps.names.dlqUrl,
      MaxNumberOfMessages: Math.max(1, Math.min(10, o.max)),
      VisibilityTimeout: o.holdSeconds,
      WaitTimeSeconds: o.waitSeconds ?? 0,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      MessageAttributeNames: ['All'],
    }),
  );
  return (res.Messages ?? []).map(readDlqMessage);
}

export function readDlqMessage(m: Message): DlqMessage {
  const sent = Number(m.Attributes?.SentTimestamp);
  const count = Number(m.Attributes?.ApproximateReceiveCount);
  let job: JobMessage | undefined;
  let partnerJob: PartnerJobMessage | undefined;
  let unreadable: string | undefined;
  try {
    job = parseJobMessage(m.Body);
  } catch (err) {
    partnerJob = asPartnerJob(m.Body);
    if (!partnerJob) unreadable = describeError(err).message;
  }
  const reason = m.MessageAttributes?.error?.StringValue;
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(count) ? { receiveCount: count } : {}),
    ...(reason ? { dlqReason: reason } : {}),
    ...(job ? { job } : {}),
    ...(partnerJob ? { partnerJob } : {}),
    ...(unreadable ? { unreadable } : {}),
    attributes: m.MessageAttributes,
  };
}

function asPartnerJob(body: string | undefined): PartnerJobMessage | undefined {
  try {
    const r = PartnerJobMessageSchema.safeParse(JSON.parse(body ?? ''));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** The execution a DLQ message's job belongs to, whichever kind of job it is. */
export function executionIdOf(m: Pick<DlqMessage, 'job' | 'partnerJob'>): string | undefined {
  return m.job?.executionId ?? m.partnerJob?.executionId;
}

/** Makes held messages visible again at once (VisibilityTimeout 0). Best effort: they reappear anyway. */
export async function releaseMessages(deps: OpsDeps, receiptHandles: string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const chunk = receiptHandles.slice(i, i + 10);
    try {
      await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.names.dlqUrl,
          Entries: chunk.map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    } catch (err) {
      deps.logger?.warn('could not release DLQ messages; they reappear when their hold ends', {
        count: chunk.length,
        error: describeError(err),
      });
    }
  }
}
