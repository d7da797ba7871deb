import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/** Whether a DynamoDB write was refused because its ConditionExpression did not hold. */
export function isConditionFailed(err: unknown): boolean {
  if (err instanceof ConditionalCheckFailedException) return true;
  return err instanceof TransactionCanceledException && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/**
 * TTL deletion in DynamoDB lags by up to days, and DynamoDB Local never deletes: an item whose
 * `expiresAt` (epoch seconds) has passed is treated as absent by every read and write.
 */
export function isExpired(item: { expiresAt?: number } | undefined, now: Date): boolean {
  return item?.expiresAt !== undefined && item.expiresAt <= Math.floor(now.getTime() / 1000);
}

/** The same test as a condition/filter fragment; bind `:nowSec` to epoch seconds. */
export const LIVE_ITEM = '(attribute_not_exists(expiresAt) OR expiresAt > :nowSec)';

export function epochSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}
