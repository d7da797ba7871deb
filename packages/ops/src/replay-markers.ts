import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed, isExpired } from '@bp/shared/executions/index';

/**
 * "This DLQ message was already sent back to the jobs queue": one item per DLQ message id, kept
 * in the dedupe table (key `webhookId` = `dlq-replay#<messageId>`; no webhook id has that shape)
 * so no new table is needed. Written right after the send succeeds and checked before sending,
 * so a rerun of an interrupted replay only finishes the delete instead of sending again.
 */
export interface ReplayMarker {
  webhookId: string;
  dlqMessageId: string;
  executionId?: string;
  /** MessageId of the copy sent to the jobs queue. */
  jobsMessageId: string;
  replayedAt: string;
  replayedBy: string;
  /** TTL (epoch seconds): past the DLQ's 14-day retention, after which the message cannot come back. */
  expiresAt: number;
}

export interface ReplayMarkerStoreOptions {
  doc: DynamoDBDocumentClient;
  /** The dedupe table (`ResourceNames.dedupeTable`). */
  tableName: string;
  clock: () => Date;
  /** Days a marker is kept. Default 15 (the DLQ keeps messages 14). */
  ttlDays?: number;
}

const KEY_PREFIX = 'dlq-replay#';

export class ReplayMarkers {
  constructor(private readonly o: ReplayMarkerStoreOptions) {}

  async get(dlqMessageId: string): Promise<ReplayMarker | undefined> {
    const res = await this.o.doc.send(
      new GetCommand({ TableName: this.o.tableName, Key: { webhookId: KEY_PREFIX + dlqMessageId }, ConsistentRead: true }),
    );
    const item = res.Item as ReplayMarker | undefined;
    return item && !isExpired(item, this.o.clock()) ? item : undefined;
  }

  /** Writes the marker; `false` when one already existed (another replay sent this message too). */
  async put(m: Omit<ReplayMarker, 'webhookId' | 'expiresAt' | 'replayedAt'>): Promise<boolean> {
    const now = this.o.clock();
    const item: ReplayMarker = {
      ...m,
      webhookId: KEY_PREFIX + m.dlqMessageId,
      replayedAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + (this.o.ttlDays ?? 15) * 86_400,
    };
    try {
      await this.o.doc.send(
        new PutCommand({ TableName: this.o.tableName, Item: item, ConditionExpression: 'attribute_not_exists(webhookId)' }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}
