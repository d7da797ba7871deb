import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type Env, getInt, getString } from './env.ts';

/** Names of every queue, table and bucket. One function so ingress, worker, ops and infra agree. */
export interface ResourceNames {
  jobsQueueUrl: string;
  dlqUrl: string;
  packagerQueueUrl: string | undefined;
  dedupeTable: string;
  executionsTable: string;
  entriesTable: string;
  installationsTable: string;
  /** Sequencing partners: id → secrets (refs in AWS), event types, policy. */
  partnersTable: string;
  bucket: string;
}

export function resourceNamesFromEnv(env: Env): ResourceNames {
  const prefix = getString(env, 'TABLE_PREFIX', 'bp-');
  return {
    jobsQueueUrl: getString(env, 'JOBS_QUEUE_URL'),
    dlqUrl: getString(env, 'DLQ_URL'),
    packagerQueueUrl: env.PACKAGER_QUEUE_URL || undefined,
    dedupeTable: getString(env, 'DEDUPE_TABLE', `${prefix}dedupe`),
    executionsTable: getString(env, 'EXECUTIONS_TABLE', `${prefix}executions`),
    entriesTable: getString(env, 'ENTRIES_TABLE', `${prefix}entries`),
    installationsTable: getString(env, 'INSTALLATIONS_TABLE', `${prefix}installations`),
    partnersTable: getString(env, 'PARTNERS_TABLE', `${prefix}partners`),
    bucket: getString(env, 'PACKAGE_BUCKET'),
  };
}

/** Days a webhook id is remembered for dedupe. */
export function dedupeTtlDays(env: Env): number {
  return getInt(env, 'DEDUPE_TTL_DAYS', 7, { min: 1, max: 365 });
}

/** Name of the TTL attribute on every table (epoch seconds). */
export const EXPIRES_AT = 'expiresAt';

/** Global secondary indexes of the executions table. */
export const EXECUTIONS_BY_ENTRY = 'byEntry';
export const EXECUTIONS_BY_STATUS = 'byStatus';

/**
 * Table shapes, shared by the local stack and (mirrored) the CDK stack.
 * - dedupe: webhookId → executionId, TTL.
 * - executions: executionId; byEntry (entryKey, createdAt); byStatus (status, createdAt).
 * - entries: entryKey = tenantId#entryId → lease, rerun flag, canvas id, last package.
 * - installations: tenantId#appId → lifecycle state.
 * - partners: partnerId → the partner registry (packages/shared/src/partners/registry.ts).
 */
export function tableDefinitions(
  names: Pick<ResourceNames, 'dedupeTable' | 'executionsTable' | 'entriesTable' | 'installationsTable' | 'partnersTable'>,
): CreateTableCommandInput[] {
  const simple = (TableName: string, key: string): CreateTableCommandInput => ({
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
  });
  return [
    simple(names.dedupeTable, 'webhookId'),
    {
      TableName: names.executionsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'executionId', AttributeType: 'S' },
        { AttributeName: 'entryKey', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: EXECUTIONS_BY_ENTRY,
          KeySchema: [
            { AttributeName: 'entryKey', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: EXECUTIONS_BY_STATUS,
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    simple(names.entriesTable, 'entryKey'),
    simple(names.installationsTable, 'installationKey'),
    simple(names.partnersTable, 'partnerId'),
  ];
}

export function entryKey(tenantId: string, entryId: string): string {
  return `${tenantId}#${entryId}`;
}
