import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableRole, Tables } from './tables.ts';

/**
 * Least-privilege task-role policies, written out action by action (the L2 `grant*` helpers give
 * Scan, BatchWrite and more than the code calls). Every statement names its resources; nothing is `*`.
 * When the code starts calling a new AWS action, it gets AccessDenied here first: add it below.
 */

export interface PermissionTargets {
  jobsQueue: sqs.IQueue;
  deadLetters: sqs.IQueue;
  /** Quilt packaging engine queue, when publishing through it. */
  packagerQueueArn: string | undefined;
  tables: Tables;
  bucket: s3.IBucket;
  /** Each tenant's package prefix (a Quilt namespace, no `/`): the only packages the worker writes. */
  packagePrefixes: string[];
  /** `direct` also writes Quilt manifests and pointers; `queue` leaves `.quilt/` to the packaging engine. */
  publishMode: 'direct' | 'queue';
  /** KMS key of an SSE-KMS bucket. */
  bucketKmsKeyArn: string | undefined;
  /** Cluster the worker tasks run in: task protection is scoped to its tasks. */
  clusterName: string;
  /** Prefix of the partner secrets' names in Secrets Manager (`<tablePrefix>partners/`). */
  partnerSecretPrefix: string;
}

/** Where the worker keeps each execution's file list (services/worker/src/steps/transfer.ts). */
const EXECUTION_STATE = '.benchling-packager/executions/';

/** Item operations the stores issue: Get/Put/Update/Delete, and ConditionCheck inside transactions. */
const ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'];

const tableArn = (t: Tables, role: TableRole) => t.byRole[role].attrArn;
const indexArns = (t: Tables, role: TableRole) => t.indexNames[role].map((i) => `${tableArn(t, role)}/index/${i}`);

/** Ingress: verify → dedupe (conditional writes, transactions) → SendMessage; `/health/ready` probes. */
export function ingressStatements(scope: Construct, t: PermissionTargets): iam.PolicyStatement[] {
  const tables = [tableArn(t.tables, 'dedupe'), tableArn(t.tables, 'executions')];
  return [
    new iam.PolicyStatement({
      sid: 'EnqueueJobs',
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resources: [t.jobsQueue.queueArn],
    }),
    new iam.PolicyStatement({ sid: 'DedupeAndExecutionItems', actions: ITEM_ACTIONS, resources: tables }),
    new iam.PolicyStatement({ sid: 'ReadinessProbes', actions: ['dynamodb:DescribeTable'], resources: tables }),
    // The partner route reads the registry (one GetItem per delivery; Scan lists partners for /webhooks).
    new iam.PolicyStatement({
      sid: 'PartnerRegistryRead',
      actions: ['dynamodb:GetItem', 'dynamodb:Scan'],
      resources: [tableArn(t.tables, 'partners')],
    }),
    // /webhooks/events lists a partner's events through the executions' byEntry index.
    new iam.PolicyStatement({ sid: 'PartnerEventQueries', actions: ['dynamodb:Query'], resources: indexArns(t.tables, 'executions') }),
    // Secrets `pnpm ops partners add|rotate-secret` created; the table holds only their ARNs.
    new iam.PolicyStatement({
      sid: 'PartnerSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [partnerSecretsArn(scope, t.partnerSecretPrefix)],
    }),
  ];
}

/** ARN pattern of every partner secret (Secrets Manager appends `-XXXXXX` to names, hence `*`). */
export function partnerSecretsArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Worker: consume and re-enqueue jobs, dead-letter, publish, the four tables, package objects, task protection. */
export function workerStatements(scope: Construct, t: PermissionTargets): iam.PolicyStatement[] {
  const allTables: TableRole[] = ['dedupe', 'executions', 'entries', 'installations'];
  const packageFolders = t.packagePrefixes.map((p) => `${p}/`);
  const pointerFolders = t.packagePrefixes.map((p) => `.quilt/named_packages/${p}/`);
  const direct = t.publishMode === 'direct';
  const listed = direct ? [...packageFolders, ...pointerFolders] : packageFolders;
  const statements = [
    new iam.PolicyStatement({
      sid: 'ConsumeJobs',
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resources: [t.jobsQueue.queueArn],
    }),
    new iam.PolicyStatement({ sid: 'DeadLetterJobs', actions: ['sqs:SendMessage'], resources: [t.deadLetters.queueArn] }),
    new iam.PolicyStatement({ sid: 'PipelineItems', actions: ITEM_ACTIONS, resources: allTables.map((r) => tableArn(t.tables, r)) }),
    new iam.PolicyStatement({
      sid: 'ExecutionQueries',
      actions: ['dynamodb:Query'],
      resources: [tableArn(t.tables, 'executions'), ...allTables.flatMap((r) => indexArns(t.tables, r))],
    }),
    // What the worker does under its tenants' package prefixes: upload (single or multipart) and
    // abort; read `entry.json` to see whose package it is; delete on rollback, by version id in a
    // versioned bucket (its own uploads' versions), and queue mode's removal of files an export lost.
    new iam.PolicyStatement({
      sid: 'PackageFiles',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: packageFolders.map((p) => t.bucket.arnForObjects(`${p}*`)),
    }),
    // The file list of each execution, written by transfer and read by the later steps.
    new iam.PolicyStatement({
      sid: 'ExecutionFileLists',
      actions: ['s3:PutObject', 's3:GetObject'],
      resources: [t.bucket.arnForObjects(`${EXECUTION_STATE}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'ListPackagePrefixes',
      actions: ['s3:ListBucket'],
      resources: [t.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': listed.map((p) => `${p}*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'ScaleInProtection',
      actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
      resources: [Stack.of(scope).formatArn({ service: 'ecs', resource: 'task', resourceName: `${t.clusterName}/*` })],
    }),
  ];
  if (direct) {
    // Direct publishing writes content-addressed manifests (any package's name is its hash) and
    // the pointers of its own tenants' packages only; it never deletes in `.quilt/`.
    statements.push(
      new iam.PolicyStatement({
        sid: 'QuiltManifests',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [t.bucket.arnForObjects('.quilt/packages/*')],
      }),
      new iam.PolicyStatement({
        sid: 'QuiltPointers',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: pointerFolders.map((p) => t.bucket.arnForObjects(`${p}*`)),
      }),
    );
  }
  if (t.packagerQueueArn) {
    statements.push(new iam.PolicyStatement({ sid: 'PublishToPackager', actions: ['sqs:SendMessage'], resources: [t.packagerQueueArn] }));
  }
  if (t.bucketKmsKeyArn) {
    statements.push(
      new iam.PolicyStatement({ sid: 'BucketKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [t.bucketKmsKeyArn] }),
    );
  }
  return statements;
}
