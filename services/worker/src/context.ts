import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BenchlingClient } from '@bp/shared/benchling/index';
import type { EntryStore, ExecutionStore, InstallationStore } from '@bp/shared/executions/index';
import type { ExecutionRecord, JobMessage, Logger } from '@bp/shared';
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
  /** The Benchling client for a job's tenant (checks the base URL against the allow-list). */
  benchlingFor(job: Pick<JobMessage, 'tenantId' | 'baseURL'>): BenchlingClient;
  logger: Logger;
  clock: () => Date;
  /** Jobs queue's maxReceiveCount, read from its redrive policy at start-up. */
  maxReceiveCount: number;
  /** The Benchling warehouse, when WAREHOUSE_URL or WAREHOUSE_HOST is configured; else no enrichment. */
  warehouse?: Warehouse;
}

/** What one step sees: the job, the execution so far, and a way to stop early on shutdown. */
export interface StepContext {
  job: JobMessage & { entryId: string };
  execution: ExecutionRecord;
  deps: WorkerDeps;
  benchling: BenchlingClient;
  log: Logger;
  signal: AbortSignal;
  /** `<prefix>/<displayId>`, known once fetch-entry has run. */
  packageName(): string;
}

/** A step either produces its output, or asks to be run again later (await-export). */
export type StepResult<T> = { output: T } | { waitSeconds: number; job: JobMessage };
