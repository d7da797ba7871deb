import { DeleteMessageCommand, type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { awsMayHaveSucceeded, describeError, type ExecutionRecord } from '@bp/shared';
import type { OpsDeps } from './deps.ts';
import type { DlqMessage } from './dlq-messages.ts';
import { SendOutcomeUnknownError } from './errors.ts';
import type { ReplayMarkers } from './replay-markers.ts';

/** Reopen → send → marker → delete. Returns the jobs-queue MessageId. */
export async function move(deps: OpsDeps, markers: ReplayMarkers, m: DlqMessage, execution: ExecutionRecord, who: string): Promise<string> {
  const id = execution.executionId;
  const finished = execution.status === 'SUCCEEDED' || execution.status === 'SUPERSEDED';
  const reopened =
    execution.status === 'FAILED' ? await deps.executions.reopen(id, `DLQ replay by ${who} (DLQ message ${m.messageId})`) : execution;
  if (!finished && (reopened.status === 'SUCCEEDED' || reopened.status === 'SUPERSEDED'))
    throw new Error(`execution ${id} finished (${reopened.status}) while being replayed`);
  let jobsMessageId: string;
  try {
    const sent = await deps.sqs.send(
      new SendMessageCommand({ QueueUrl: deps.names.jobsQueueUrl, MessageBody: m.body, MessageAttributes: resendable(m) }),
    );
    jobsMessageId = sent.MessageId ?? 'unknown';
  } catch (err) {
    if (awsMayHaveSucceeded(err)) {
      // The job may be on the jobs queue: failing the execution again could mark FAILED a job the
      // worker then runs. It stays as it is, and so does the DLQ copy (released at the end of the
      // run): the worker absorbs a second copy, and a later replay finds what the first one did.
      const e = describeError(err);
      throw new SendOutcomeUnknownError(
        `outcome unknown: the send may or may not have reached the jobs queue (${e.class}: ${e.message}); ` +
          `execution left ${reopened.status}, DLQ message kept`,
        { cause: err, details: { executionId: id, dlqMessageId: m.messageId } },
      );
    }
    // Nothing was sent: put the execution back as it was, so it does not sit QUEUED with no job.
    if (execution.status === 'FAILED' && execution.lastError) {
      await deps.executions.fail(id, undefined, execution.lastError).catch(() => undefined);
    }
    throw err;
  }
  // The marker lets a run killed before the delete below finish the move without sending again.
  // Sent, we go on to the delete even if it cannot be written: a DLQ copy left behind would be sent again.
  const fresh = await markers
    .put({ dlqMessageId: m.messageId, ...(id ? { executionId: id } : {}), jobsMessageId, replayedBy: who })
    .catch((err: unknown) => {
      deps.logger?.warn('replay marker not written; deleting the DLQ copy all the same', {
        messageId: m.messageId,
        error: describeError(err),
      });
      return true;
    });
  if (!fresh)
    deps.logger?.warn('another replay had also sent this DLQ message; the worker absorbs the duplicate', {
      messageId: m.messageId,
      executionId: id,
    });
  try {
    await deleteFromDlq(deps, m);
  } catch (err) {
    // Sent and marked: the next run deletes it without sending again.
    deps.logger?.warn('replayed message not deleted from the DLQ; a rerun will delete it', {
      messageId: m.messageId,
      error: describeError(err),
    });
  }
  deps.logger?.info('DLQ message replayed', { messageId: m.messageId, executionId: id, jobsMessageId, replayedBy: who });
  return jobsMessageId;
}

export async function deleteFromDlq(deps: OpsDeps, m: DlqMessage): Promise<void> {
  await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.names.dlqUrl, ReceiptHandle: m.receiptHandle }));
}

/** The original attributes (as SendMessage wants them) plus where the copy came from. */
function resendable(m: DlqMessage): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(m.attributes ?? {})) {
    if (k === 'replayedFrom' || !v.DataType) continue;
    out[k] = {
      DataType: v.DataType,
      ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { BinaryValue: v.BinaryValue } : {}),
    };
  }
  out.replayedFrom = { DataType: 'String', StringValue: m.messageId };
  return out;
}
