import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  awsOptionsFromEnv,
  createAwsClients,
  type Env,
  getOptionalString,
  type Logger,
  type ResourceNames,
  resourceNamesFromEnv,
} from '@bp/shared';
import { EntryStore, ExecutionStore } from '@bp/shared/executions/index';
import type { PackagerMetrics } from '@bp/shared/metrics/index';
import type { PartnerRegistry } from '@bp/shared/partners/registry';
import { partnerRegistryFromEnv } from '@bp/shared/partners/registry-from-env';

/** What every ops operation works with; the CLI builds it from the environment, the API gets it from the ingress. */
export interface OpsDeps {
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
  names: Pick<ResourceNames, 'jobsQueueUrl' | 'dlqUrl' | 'dedupeTable' | 'executionsTable' | 'bucket'>;
  executions: ExecutionStore;
  /** Per-entry state: who holds an entry, and whether a finished execution still has to hand it on. */
  entries: EntryStore;
  /** The sequencing-partner registry (`partners` commands, partner events). */
  partners?: PartnerRegistry;
  /** Source of "now" for windows, ages and timestamps. */
  clock: () => Date;
  /** Quilt catalog base URL for package links; without it links point at the S3 console. */
  catalogUrl?: string;
  /** Counts replayed messages when given (the ops API passes the process metrics). */
  metrics?: Pick<PackagerMetrics, 'dlqMoved'>;
  /** Where operations log (replays log each move). Default: nothing is logged. */
  logger?: Logger;
}

/**
 * Ops configuration from the same variables the services read (JOBS_QUEUE_URL, DLQ_URL,
 * TABLE_PREFIX, PACKAGE_BUCKET, AWS_ENDPOINT_URL_*, AWS_REGION, QUILT_CATALOG_URL).
 */
export function buildOpsDeps(env: Env, opts: { logger?: Logger } = {}): OpsDeps & { destroy(): void } {
  const names = resourceNamesFromEnv(env);
  const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
  const catalogUrl = getOptionalString(env, 'QUILT_CATALOG_URL');
  const awsOptions = awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 });
  const partners = partnerRegistryFromEnv(env, { doc: aws.doc, tableName: names.partnersTable, aws: awsOptions });
  return {
    sqs: aws.sqs,
    doc: aws.doc,
    names,
    executions: new ExecutionStore({ doc: aws.doc, tableName: names.executionsTable }),
    entries: new EntryStore({ doc: aws.doc, tableName: names.entriesTable }),
    partners,
    clock: () => new Date(),
    ...(catalogUrl ? { catalogUrl } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    destroy: () => {
      aws.destroy();
      partners.destroy();
    },
  };
}
