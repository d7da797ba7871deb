import type { ExecutionStatus } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import { type DlqMessage, executionIdOf, receiveDlq, releaseMessages } from './dlq-messages.ts';

/** One line of `dlq peek`: the message, its job, and its execution's last error. */
export interface PeekedMessage {
  messageId: string;
  sentAt?: string;
  ageSeconds?: number;
  receiveCount?: number;
  executionId?: string;
  kind?: string;
  tenantId?: string;
  entryId?: string;
  trigger?: string;
  /** Status of the execution now (undefined when it does not exist or expired). */
  executionStatus?: ExecutionStatus;
  /** `Class: message` of the execution's last error, with the step it happened in. */
  lastError?: { step: string; class: string; message: string; at: string };
  /** Why the worker dead-lettered it itself (unreadable or unknown messages). */
  dlqReason?: string;
  /** Why the body is not a valid job. */
  unreadable?: string;
}

export interface PeekOptions {
  /** Most messages shown. Default 10. */
  limit?: number;
  /** Seconds each peeked message stays hidden while the peek collects the rest, before being released. Default 30. */
  holdSeconds?: number;
}

/**
 * Reads DLQ messages without consuming them: receives with a short visibility (so paging sees
 * each message once), then sets every one back to visible. Nothing is deleted.
 */
export async function peekDlq(deps: OpsDeps, o: PeekOptions = {}): Promise<PeekedMessage[]> {
  const limit = o.limit ?? 10;
  const held: DlqMessage[] = [];
  try {
    while (held.length < limit) {
      const batch = await receiveDlq(deps, { max: limit - held.length, holdSeconds: o.holdSeconds ?? 30 });
      if (batch.length === 0) break;
      held.push(...batch);
    }
    return await Promise.all(held.map((m) => describePeeked(deps, m)));
  } finally {
    await releaseMessages(
      deps,
      held.map((m) => m.receiptHandle),
    );
  }
}

async function describePeeked(deps: OpsDeps, m: DlqMessage): Promise<PeekedMessage> {
  const now = deps.clock().getTime();
  const executionId = executionIdOf(m);
  const exec = executionId ? await deps.executions.get(executionId) : undefined;
  const p = m.partnerJob;
  return {
    messageId: m.messageId,
    ...(m.sentAt ? { sentAt: m.sentAt, ageSeconds: Math.max(0, Math.round((now - Date.parse(m.sentAt)) / 1000)) } : {}),
    ...(m.receiveCount !== undefined ? { receiveCount: m.receiveCount } : {}),
    ...(m.job
      ? {
          executionId: m.job.executionId,
          kind: m.job.kind,
          tenantId: m.job.tenantId,
          trigger: m.job.trigger.type,
          ...(m.job.entryId ? { entryId: m.job.entryId } : {}),
        }
      : p
        ? { executionId: p.executionId, kind: p.kind, tenantId: `partner:${p.partnerId}`, trigger: p.trigger.type }
        : {}),
    ...(exec ? { executionStatus: exec.status } : {}),
    ...(exec?.lastError
      ? { lastError: { step: exec.lastError.step, class: exec.lastError.class, message: exec.lastError.message, at: exec.lastError.at } }
      : {}),
    ...(m.dlqReason ? { dlqReason: m.dlqReason } : {}),
    ...(m.unreadable ? { unreadable: m.unreadable } : {}),
  };
}
