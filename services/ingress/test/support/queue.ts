import { waitUntil } from '@bp/local-stack';
import { type AwsClients, type JobMessage, parseJobMessage } from '@bp/shared';
import { GetCommand, ReceiveMessageCommand, ScanCommand } from './sdk.ts';

/**
 * Every job message currently on the queue (SendMessage has returned for all of them, so they
 * are visible). Received with a long visibility timeout so each is seen once.
 */
export async function drainJobs(aws: AwsClients, queueUrl: string): Promise<JobMessage[]> {
  const out: JobMessage[] = [];
  for (;;) {
    const res = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) return out;
    for (const m of msgs) out.push(parseJobMessage(m.Body));
  }
}

export async function getItem(aws: AwsClients, table: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  const res = await aws.doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return res.Item;
}

export async function scanAll(aws: AwsClients, table: string): Promise<Record<string, unknown>[]> {
  const res = await aws.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return res.Items ?? [];
}

/**
 * The dedupe record once it is marked ENQUEUED: the ingress marks it just after its 202, so a
 * test that reads it right after the answer waits for it (for up to `timeoutMs`).
 */
export async function enqueuedRecord(
  aws: AwsClients,
  table: string,
  webhookId: string,
  timeoutMs = 3000,
): Promise<Record<string, unknown>> {
  let item: Record<string, unknown> | undefined;
  await waitUntil(
    `dedupe record ${webhookId} marked ENQUEUED`,
    async () => {
      item = await getItem(aws, table, { webhookId });
      if (item?.state !== 'ENQUEUED') throw new Error(`found ${JSON.stringify(item)}`);
    },
    timeoutMs,
  );
  return item!;
}
