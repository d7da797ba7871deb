import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BenchlingClient } from '@bp/shared/benchling/index';
import type { EntryStore, ExecutionStore, InstallationStore } from '@bp/shared/executions/index';
import type { PackagerMetrics } from '@bp/shared/metrics/index';
import type { EntryPackageJob, JobMessage, Logger } from '@bp/shared';
import type { Warehouse } from '@bp/warehouse';
import type { WorkerConfig } from './config.ts';

/** Collaborators every job needs; built once per process in main.ts. */
export interface WorkerDeps {
  config: WorkerConfig;
  s3: S3Client;
  sqs: SQSClient;
  executions: ExecutionStore;
  entries: EntryStore;
  installations: InstallationStore;
  /** The Benchling client for a job's tenant; refuses (BenchlingTenantRejected) a tenant not served or a base URL not exactly its own. */
  benchlingFor(job: Pick<JobMessage, 'tenantId' | 'baseURL'>): BenchlingClient;
  logger: Logger;
  metrics: PackagerMetrics;
  clock: () => Date;
  /** Jobs queue's maxReceiveCount, read from its redrive policy at start-up. */
  maxReceiveCount: number;
  /** The Benchling warehouse, when WAREHOUSE_URL or WAREHOUSE_HOST is configured; else no enrichment. */
  warehouse?: Warehouse;
}

/** An entry.package job once its entry is known (a canvas button's job learns it from Benchling). */
export type EntryJob = EntryPackageJob & { entryId: string };

/** What each step of an entry packaging sees: the job, its collaborators, and a way to stop early. */
export interface StepContext {
  job: EntryJob;
  executionId: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
  deps: WorkerDeps;
  benchling: BenchlingClient;
  log: Logger;
  signal: AbortSignal;
}

export type { StepResult } from './runner/steps.ts';
