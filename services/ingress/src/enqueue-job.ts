import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { awsMayHaveSucceeded, type ErrorCode, type JobMessage, serializeJobMessage } from '@bp/shared';
import type { PartnerJobMessage } from '@bp/shared/partners/event';
import { AcceptUnavailableError } from '@bp/shared/dedupe';
import { type AcceptDeps, type AcceptOptions, type AcceptRequest, type AcceptResult, EXECUTION_STILL_QUEUED } from './accept.ts';

/*
 * Steps 2 and 3 of the accept protocol (see accept.ts): send the job, mark the dedupe record
 * ENQUEUED, and when the send fails, leave behind exactly what the retry needs.
 */

/** Step 2, SendMessage, then step 3 started (see AcceptResult.recorded); on a send failure, clean up and throw. */
export async function enqueue(
  deps: AcceptDeps,
  req: AcceptRequest,
  executionId: string,
  o: AcceptOptions & { created: boolean },
): Promise<AcceptResult> {
  const finishTimeoutMs = o.finishTimeoutMs ?? 500;
  // `Omit` over the union keeps only the common fields; the ingress built `job` for its kind.
  const message = { ...req.job, executionId } as JobMessage | PartnerJobMessage;
  const send = new SendMessageCommand({ QueueUrl: deps.names.jobsQueueUrl, MessageBody: serializeJobMessage(message) });
  // The SDK retries inside send(), and its error is the last attempt's: an earlier attempt that
  // timed out may have enqueued the job all the same. Each attempt's failure is looked at here
  // (the final error is looked at too below: it may come from before any attempt, e.g. an abort).
  let anAttemptMayHaveSucceeded = false;
  send.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (sendMayHaveSucceeded(err)) anAttemptMayHaveSucceeded = true;
        throw err;
      }
    },
    { step: 'deserialize', name: 'bpSendAttemptOutcome' },
  );
  try {
    await deps.sqs.send(send, { abortSignal: o.signal });
  } catch (err) {
    // Delete only what is certainly ours and certainly not backing a message.
    const removeRecords = o.created && !anAttemptMayHaveSucceeded && !sendMayHaveSucceeded(err);
    await releaseAfterFailedSend(deps, req.webhookId, executionId, removeRecords, finishTimeoutMs);
    throw unavailable('QueueUnavailable', 'SendMessage to the jobs queue failed', err, executionId);
  }
  // Step 3 runs after the answer: the job is on the queue, and the mark cannot fail the delivery.
  const recorded = markEnqueued(deps, req.webhookId, executionId, finishTimeoutMs);
  deps.marks?.add(req.webhookId, recorded);
  return { outcome: 'accepted', executionId, tookOver: !o.created, recorded };
}

export async function markEnqueued(deps: AcceptDeps, webhookId: string, executionId: string, timeoutMs: number): Promise<void> {
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.names.dedupeTable,
        Key: { webhookId },
        UpdateExpression: 'SET #state = :enqueued REMOVE pendingUntil',
        ConditionExpression: 'executionId = :id',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':enqueued': 'ENQUEUED', ':id': executionId },
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
  } catch (err) {
    // The job is on the queue, so the delivery is still accepted; the PENDING expiry resolves it.
    deps.logger?.warn('dedupe record not marked ENQUEUED; it stays PENDING until it expires', { executionId, error: errorText(err) });
  }
}

/**
 * Whether a failed SendMessage may still have enqueued the job: true for timeouts and broken
 * connections; false when SQS answered with an error or the connection was never made.
 */
export function sendMayHaveSucceeded(err: unknown): boolean {
  return awsMayHaveSucceeded(err);
}

/** `removeRecords`: delete both items; otherwise keep them and expire the PENDING so a retry takes over. */
async function releaseAfterFailedSend(
  deps: AcceptDeps,
  webhookId: string,
  executionId: string,
  removeRecords: boolean,
  timeoutMs: number,
): Promise<void> {
  const mine = {
    ConditionExpression: 'executionId = :id AND #state = :pending',
    ExpressionAttributeNames: { '#state': 'state' },
  };
  try {
    if (removeRecords) {
      await deps.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: deps.names.dedupeTable,
                Key: { webhookId },
                ...mine,
                ExpressionAttributeValues: { ':id': executionId, ':pending': 'PENDING' },
              },
            },
            {
              Delete: { TableName: deps.names.executionsTable, Key: { executionId }, ...EXECUTION_STILL_QUEUED },
            },
          ],
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } else {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.names.dedupeTable,
          Key: { webhookId },
          UpdateExpression: 'SET pendingUntil = :expired',
          ...mine,
          ExpressionAttributeValues: { ':id': executionId, ':pending': 'PENDING', ':expired': 0 },
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    }
  } catch (err) {
    deps.logger?.error('clean-up after a failed SendMessage did not complete; the PENDING record expires on its own', {
      executionId,
      error: errorText(err),
    });
  }
}

export function unavailable(code: ErrorCode, what: string, cause: unknown, executionId?: string): AcceptUnavailableError {
  return new AcceptUnavailableError(`${what}: ${errorText(cause)}`, { code, cause, details: executionId ? { executionId } : {} });
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return e?.name === 'AbortError' ? 'timed out (request budget spent)' : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}
