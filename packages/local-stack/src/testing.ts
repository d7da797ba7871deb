import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type JobMessage, parseJobMessage } from '@bp/shared';
import { dedupeKeyFor } from '@bp/shared/dedupe';
import { classifyWebhookBody } from '@bp/shared/webhook/payload';
import { type LocalAws, startLocalAws } from './index.ts';

/** A real PostgreSQL warehouse seeded from the simulator's story, on a free port with a temp data dir; stop it in `after`. */
export { startLocalWarehouse, type LocalWarehouse } from './warehouse.ts';

let shared: Promise<LocalAws> | undefined;

/**
 * One pair of emulators per test process, started on first use on free ports (so tests can run
 * beside a `pnpm start` stack). The root mocha hook stops it after the run.
 */
export function sharedLocalAws(): Promise<LocalAws> {
  shared ??= startLocalAws({ logDir: process.env.BP_TEST_LOG_DIR });
  return shared;
}

export async function stopSharedLocalAws(): Promise<void> {
  if (!shared) return;
  const l = await shared.catch(() => undefined);
  shared = undefined;
  await l?.stop();
}

/**
 * A fresh, isolated set of queues, tables and bucket for one suite: returns the env map that
 * services' config parsers read.
 */
export async function isolatedEnv(
  label: string,
  opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<Record<string, string>> {
  const l = await sharedLocalAws();
  const prefix = `t${randomBytes(3).toString('hex')}-${label
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 12)}-`;
  return l.provision({ prefix, ...opts });
}

/**
 * Receives and deletes every job message on a queue that nothing else consumes; returns them
 * parsed, in the order received. Each is hidden for `visibilitySeconds` between receive and delete.
 */
export async function takeQueuedJobs(sqs: SQSClient, queueUrl: string, visibilitySeconds = 30): Promise<JobMessage[]> {
  const jobs: JobMessage[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: visibilitySeconds }),
    );
    if (!res.Messages?.length) return jobs;
    for (const m of res.Messages) {
      jobs.push(parseJobMessage(m.Body));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/**
 * Where the ingress keeps a signed delivery's dedupe record: the key it derives from the same
 * classification of the body (see dedupeKeyFor).
 */
export function dedupeKeyOfDelivery(d: { webhookId: string; body: string }): string {
  const decision = classifyWebhookBody(Buffer.from(d.body), { updateButtonIds: [] });
  return decision.action === 'enqueue' ? dedupeKeyFor(decision, d.webhookId) : d.webhookId;
}
