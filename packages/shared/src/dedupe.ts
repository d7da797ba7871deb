import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from './errors.ts';

/*
 * The dedupe table's records, read by the ingress's accept step (services/ingress/src/accept.ts,
 * which writes them), by ops and by the fault suite.
 */

export type DedupeState = 'PENDING' | 'ENQUEUED';

/** Item of the dedupe table. */
export interface DedupeRecord {
  webhookId: string;
  executionId: string;
  state: DedupeState;
  /** Epoch ms until which a PENDING record belongs to the request that wrote it. */
  pendingUntil?: number;
  /** TTL, epoch seconds. */
  expiresAt: number;
  createdAt: string;
}

/** DynamoDB or SQS could not be reached in time; answered with 503 so Benchling retries. */
export class AcceptUnavailableError extends TransientError {}

/** Longest event-based key; a longer event id (never seen) falls back to the webhook-id. */
const MAX_EVENT_KEY_BYTES = 512;

/**
 * The key a delivery is deduped under. For an entry event, its event id (`message.id`, within its
 * tenant): Benchling documents that it sometimes sends one event twice (during version
 * promotions), and a resend under a new `webhook-id` must be a duplicate too. Any other delivery:
 * its `webhook-id`, stable across Benchling's resends of it.
 */
export function dedupeKeyFor(job: { tenantId: string; trigger: { eventId?: string } }, webhookId: string): string {
  const eventId = job.trigger.eventId;
  if (!eventId) return webhookId;
  const key = `event#${job.tenantId}#${eventId}`;
  return Buffer.byteLength(key, 'utf8') <= MAX_EVENT_KEY_BYTES ? key : webhookId;
}
/** The dedupe record of a webhook id, read strongly consistent. */
export async function readDedupeRecord(
  doc: DynamoDBDocumentClient,
  table: string,
  webhookId: string,
  signal?: AbortSignal,
): Promise<DedupeRecord | undefined> {
  try {
    const res = await doc.send(new GetCommand({ TableName: table, Key: { webhookId }, ConsistentRead: true }), { abortSignal: signal });
    return res.Item as DedupeRecord | undefined;
  } catch (err) {
    throw new AcceptUnavailableError(`reading the dedupe record failed: ${(err as Error).name}: ${(err as Error).message}`, {
      code: 'DedupeUnavailable',
      cause: err,
    });
  }
}
