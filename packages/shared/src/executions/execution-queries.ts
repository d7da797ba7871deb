import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { PermanentError } from '../errors.ts';
import { EXECUTIONS_BY_ENTRY, EXECUTIONS_BY_STATUS, entryKey } from '../resources.ts';
import { LIVE_ITEM, epochSeconds } from './conditions.ts';
import { EXECUTION_STATUSES, type ExecutionRecord, type ExecutionStatus } from './types.ts';

export interface ListByEntryOptions {
  /** Only executions created at or after this time. Default: no lower bound. */
  since?: Date;
  /** Most records returned. Default 50. */
  limit?: number;
  /** Newest (by createdAt) first. Default true. */
  newestFirst?: boolean;
}

export interface ListByStatusOptions {
  /** Only executions created at or after this time. Default: no lower bound. */
  since?: Date;
  /** Most records returned. Default 50. */
  limit?: number;
}

export interface ListRecentOptions {
  /** Only executions created at or after this time. */
  since: Date;
  /** Most records returned. Default 50. */
  limit?: number;
  /** Only this status. Default: every status. */
  status?: ExecutionStatus;
}

const DEFAULT_LIMIT = 50;

/**
 * Read side of the executions table, over its GSIs only (never a Scan). Pages through
 * DynamoDB results until `limit` live records are found: expired items are filtered out
 * server-side, so a page may come back short and the next one is fetched.
 */
export class ExecutionQueries {
  constructor(
    private readonly o: {
      doc: DynamoDBDocumentClient;
      tableName: string;
      clock: () => Date;
      normalise: (r: ExecutionRecord) => ExecutionRecord;
    },
  ) {}

  listByEntry(tenantId: string, entryId: string, o: ListByEntryOptions = {}): Promise<ExecutionRecord[]> {
    return this.query(
      {
        IndexName: EXECUTIONS_BY_ENTRY,
        KeyConditionExpression: o.since ? 'entryKey = :key AND createdAt >= :since' : 'entryKey = :key',
        ExpressionAttributeValues: { ':key': entryKey(tenantId, entryId), ...(o.since ? { ':since': o.since.toISOString() } : {}) },
        ScanIndexForward: !(o.newestFirst ?? true),
      },
      o.limit ?? DEFAULT_LIMIT,
    );
  }

  listByStatus(status: ExecutionStatus, o: ListByStatusOptions = {}): Promise<ExecutionRecord[]> {
    return this.query(
      {
        IndexName: EXECUTIONS_BY_STATUS,
        KeyConditionExpression: o.since ? '#status = :status AND createdAt >= :since' : '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ...(o.since ? { ':since': o.since.toISOString() } : {}) },
        ScanIndexForward: false,
      },
      o.limit ?? DEFAULT_LIMIT,
    );
  }

  /** One query per status (the byStatus GSI has status as its hash key), merged newest first. */
  async listRecent(o: ListRecentOptions): Promise<ExecutionRecord[]> {
    const limit = o.limit ?? DEFAULT_LIMIT;
    const statuses = o.status ? [o.status] : EXECUTION_STATUSES;
    const perStatus = await Promise.all(statuses.map((status) => this.listByStatus(status, { since: o.since, limit })));
    return perStatus
      .flat()
      .sort((a, b) => (a.createdAt === b.createdAt ? b.executionId.localeCompare(a.executionId) : b.createdAt.localeCompare(a.createdAt)))
      .slice(0, limit);
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>, limit: number): Promise<ExecutionRecord[]> {
    if (!(Number.isInteger(limit) && limit > 0))
      throw new PermanentError(`limit must be a positive integer, got ${limit}`, { code: 'InvalidLimit' });
    const out: ExecutionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.o.doc.send(
        new QueryCommand({
          ...input,
          TableName: this.o.tableName,
          FilterExpression: LIVE_ITEM,
          ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':nowSec': epochSeconds(this.o.clock()) },
          Limit: limit - out.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(this.o.normalise(item as ExecutionRecord));
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out.slice(0, limit);
  }
}
