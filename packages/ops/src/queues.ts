import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { OpsDeps } from './deps.ts';

/** Depth and age of one queue. */
export interface QueueStats {
  queue: 'jobs' | 'dlq';
  url: string;
  /** ApproximateNumberOfMessages: waiting to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, being worked on (or hidden by a peek). */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: waiting out a DelaySeconds (export polls). */
  delayed: number;
  /** Seconds since the oldest sampled visible message was sent; null when none is visible or it was not sampled. */
  oldestAgeSeconds: number | null;
  /** Why `oldestAgeSeconds` is null although messages are visible. */
  ageNote?: string;
}

export interface QueueStatsOptions {
  /**
   * Also sample the jobs queue for its oldest message. Off by default: every receive, even a
   * peek with VisibilityTimeout 0, adds one to the message's receive count and so brings a job
   * one step closer to the DLQ. The DLQ (no redrive policy) is always sampled.
   */
  peekJobs?: boolean;
}

/**
 * Depth from GetQueueAttributes; oldest age by peeking up to 10 messages (VisibilityTimeout 0,
 * so they stay visible) and reading their SentTimestamp — an approximation on a standard queue,
 * and the only one locally: CloudWatch's ApproximateAgeOfOldestMessage does not exist there.
 */
export async function queueStats(deps: OpsDeps, o: QueueStatsOptions = {}): Promise<QueueStats[]> {
  return Promise.all([statsOf(deps, 'jobs', deps.names.jobsQueueUrl, o.peekJobs ?? false), statsOf(deps, 'dlq', deps.names.dlqUrl, true)]);
}

async function statsOf(deps: OpsDeps, queue: 'jobs' | 'dlq', url: string, peek: boolean): Promise<QueueStats> {
  const res = await deps.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = res.Attributes ?? {};
  const visible = Number(a.ApproximateNumberOfMessages ?? 0);
  const stats: QueueStats = {
    queue,
    url,
    visible,
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    oldestAgeSeconds: null,
  };
  if (visible === 0) return stats;
  if (!peek) return { ...stats, ageNote: 'not sampled (--peek-jobs; a peek counts as a receive)' };
  const oldest = await oldestSentTimestamp(deps, url);
  if (oldest === undefined) return { ...stats, ageNote: 'no message came back from the sample' };
  return { ...stats, oldestAgeSeconds: Math.max(0, Math.round((deps.clock().getTime() - oldest) / 1000)) };
}

async function oldestSentTimestamp(deps: OpsDeps, url: string): Promise<number | undefined> {
  const res = await deps.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp'],
    }),
  );
  const sent = (res.Messages ?? []).map((m) => Number(m.Attributes?.SentTimestamp)).filter((t) => Number.isFinite(t));
  return sent.length > 0 ? Math.min(...sent) : undefined;
}
