import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './conditions.ts';

/**
 * Keeping a history list bounded without read-modify-write races.
 *
 * DynamoDB refuses to `list_append` to a list and `REMOVE` its elements in one expression
 * ("two document paths overlap"), so history is bounded in two steps:
 *  1. the state change appends its event with `list_append` and asks for ALL_NEW;
 *  2. if the writer then sees more than `max` events, it removes the oldest `size - max` in a
 *     second update conditioned on `size(list) = size it saw`.
 * If step 2's condition fails, a later writer changed the list and will trim in its turn, so
 * once writes stop the list holds exactly the newest `max` events (never fewer). Between the
 * two steps (or after a crash between them) it may briefly hold a few extra, which is why
 * readers also keep only the newest `max` (`newestEvents`).
 */
export async function trimToNewest(
  doc: DynamoDBDocumentClient,
  o: { tableName: string; key: Record<string, string>; attribute: string; observedSize: number; max: number },
): Promise<Record<string, unknown> | undefined> {
  const excess = o.observedSize - o.max;
  if (excess <= 0) return undefined;
  const removals = Array.from({ length: excess }, (_, i) => `#list[${i}]`).join(', ');
  try {
    const res = await doc.send(
      new UpdateCommand({
        TableName: o.tableName,
        Key: o.key,
        UpdateExpression: `REMOVE ${removals}`,
        ConditionExpression: 'size(#list) = :observed',
        ExpressionAttributeNames: { '#list': o.attribute },
        ExpressionAttributeValues: { ':observed': o.observedSize },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return res.Attributes;
  } catch (err) {
    if (isConditionFailed(err)) return undefined;
    throw err;
  }
}

/** The newest `max` items of a history list (oldest first), whatever the stored length. */
export function newestEvents<T>(events: T[] | undefined, max: number): T[] {
  const list = events ?? [];
  return list.length > max ? list.slice(list.length - max) : list;
}
