import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { EXPIRES_AT, tableDefinitions } from '@bp/shared/resources';

/** One table in the SDK's CreateTable shape, as the local stack uses it. */
type TableDefinition = ReturnType<typeof tableDefinitions>[number];

/** The tables, by what they are for. */
export type TableRole = 'dedupe' | 'executions' | 'entries' | 'installations' | 'partners';

export interface Tables {
  byRole: Record<TableRole, dynamodb.CfnTable>;
  /** Index names per role (for IAM: `<tableArn>/index/<name>`). */
  indexNames: Record<TableRole, string[]>;
}

/** Table names the services derive from TABLE_PREFIX (resourceNamesFromEnv). */
export function tableNames(prefix: string): Record<TableRole, string> {
  return {
    dedupe: `${prefix}dedupe`,
    executions: `${prefix}executions`,
    entries: `${prefix}entries`,
    installations: `${prefix}installations`,
    partners: `${prefix}partners`,
  };
}

/**
 * Builds the CloudFormation tables from the same `tableDefinitions()` the local stack creates,
 * so keys and indexes cannot drift between emulators and AWS. AWS adds what the emulators lack:
 * point-in-time recovery and TTL on `expiresAt`.
 */
export function createTables(scope: Construct, prefix: string, retain: boolean): Tables {
  const names = tableNames(prefix);
  const defs = tableDefinitions({
    dedupeTable: names.dedupe,
    executionsTable: names.executions,
    entriesTable: names.entries,
    installationsTable: names.installations,
    partnersTable: names.partners,
  });
  const byRole = {} as Record<TableRole, dynamodb.CfnTable>;
  const indexNames = {} as Record<TableRole, string[]>;
  for (const role of Object.keys(names) as TableRole[]) {
    const def = defs.find((d) => d.TableName === names[role]);
    if (!def) throw new Error(`tableDefinitions() has no table named ${names[role]}`);
    const table = new dynamodb.CfnTable(scope, `${role[0]!.toUpperCase()}${role.slice(1)}Table`, cfnTableProps(def, retain));
    table.applyRemovalPolicy(retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    byRole[role] = table;
    indexNames[role] = (def.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName!);
  }
  return { byRole, indexNames };
}

/** CreateTable input (SDK shape) → CloudFormation table properties. */
export function cfnTableProps(def: TableDefinition, retain: boolean): dynamodb.CfnTableProps {
  const keySchema = (ks: TableDefinition['KeySchema']) => (ks ?? []).map((k) => ({ attributeName: k.AttributeName!, keyType: k.KeyType! }));
  if (def.BillingMode !== 'PAY_PER_REQUEST')
    throw new Error(`${def.TableName}: only on-demand tables are supported, got ${def.BillingMode}`);
  return {
    tableName: def.TableName,
    billingMode: def.BillingMode,
    attributeDefinitions: (def.AttributeDefinitions ?? []).map((a) => ({
      attributeName: a.AttributeName!,
      attributeType: a.AttributeType!,
    })),
    keySchema: keySchema(def.KeySchema),
    ...(def.GlobalSecondaryIndexes?.length
      ? {
          globalSecondaryIndexes: def.GlobalSecondaryIndexes.map((g) => ({
            indexName: g.IndexName!,
            keySchema: keySchema(g.KeySchema),
            projection: {
              projectionType: g.Projection?.ProjectionType ?? 'ALL',
              ...(g.Projection?.NonKeyAttributes ? { nonKeyAttributes: g.Projection.NonKeyAttributes } : {}),
            },
          })),
        }
      : {}),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveSpecification: { attributeName: EXPIRES_AT, enabled: true },
    deletionProtectionEnabled: retain,
  };
}
