import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients, Logger } from '@bp/shared';
import { BenchlingClientPool, type BenchlingRetryOptions, BudgetRegistry, TenantDirectory } from '@bp/shared/benchling/index';
import { EntryStore, ExecutionStore, InstallationStore } from '@bp/shared/executions/index';
import { PackagerMetrics } from '@bp/shared/metrics/index';
import type { Warehouse } from '@bp/warehouse';
import type { WorkerConfig } from './config.ts';
import type { WorkerDeps } from './context.ts';

/**
 * Builds a worker's collaborators from its config and AWS clients: used by main.ts and by tests
 * alike (tests may give Benchling calls another fetch, or quicker in-process retries).
 */
export async function buildWorkerDeps(
  config: WorkerConfig,
  aws: AwsClients,
  logger: Logger,
  opts: { fetch?: typeof fetch; benchlingRetry?: BenchlingRetryOptions; metrics?: PackagerMetrics; warehouse?: Warehouse } = {},
): Promise<WorkerDeps> {
  // The redrive policy is the truth about when a job goes to the DLQ: read it rather than configure it twice.
  const attrs = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: config.names.jobsQueueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const maxReceiveCount = Number(JSON.parse(attrs.Attributes?.RedrivePolicy ?? '{}').maxReceiveCount ?? Number.POSITIVE_INFINITY);
  const pool = new BenchlingClientPool({
    credentialsFor: () => ({ clientId: config.benchling.clientId, clientSecret: config.benchling.clientSecret }),
    budgets: new BudgetRegistry(),
    tenants: new TenantDirectory(config.benchling.tenants),
    logger,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.benchlingRetry ? { retry: opts.benchlingRetry } : {}),
  });
  return {
    config,
    s3: aws.s3,
    sqs: aws.sqs,
    executions: new ExecutionStore({ doc: aws.doc, tableName: config.names.executionsTable, finishedTtlDays: config.executionTtlDays }),
    entries: new EntryStore({ doc: aws.doc, tableName: config.names.entriesTable }),
    installations: new InstallationStore({ doc: aws.doc, tableName: config.names.installationsTable }),
    benchlingFor: (job) => pool.get({ tenantId: job.tenantId, baseURL: job.baseURL }),
    logger,
    // A test's worker counts into its own registry unless it asks for the process's.
    metrics: opts.metrics ?? new PackagerMetrics(),
    clock: () => new Date(),
    maxReceiveCount,
    ...(opts.warehouse ? { warehouse: opts.warehouse } : {}),
  };
}
