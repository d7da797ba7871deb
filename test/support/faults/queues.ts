import { GetQueueAttributesCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Messages of a queue by state, as SQS reports them (approximate, but exact on an idle emulator). */
export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = res.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export function isEmpty(d: QueueDepth): boolean {
  return d.visible + d.inFlight + d.delayed === 0;
}

/**
 * Receives every visible message (with all attributes) and hides each for `hideSeconds`, so each
 * is seen once. Used on the DLQ, whose messages a test inspects but does not own.
 */
export async function receiveAll(sqs: SQSClient, queueUrl: string, hideSeconds = 300): Promise<Message[]> {
  const out: Message[] = [];
  for (let emptyPolls = 0; emptyPolls < 2; ) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: hideSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const got = res.Messages ?? [];
    if (got.length === 0) emptyPolls++;
    out.push(...got);
  }
  return out;
}

/** The `executionId` a job message body names, if it is JSON and names one. */
export function executionIdOf(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? '') as { executionId?: unknown }).executionId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `check` every `everyMs` until it returns a value, or throws with `describe()` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  o: { timeoutMs: number; everyMs?: number; describe?: () => Promise<string> },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${o.timeoutMs} ms${o.describe ? `: ${await o.describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 250));
  }
}
