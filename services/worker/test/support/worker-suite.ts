import { type Simulator, type SimulatorOptions, serviceEnvFor, startSimulator } from '@bp/benchling-sim';
import type { BenchlingRetryOptions } from '@bp/shared/benchling/index';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type AwsClients, awsOptionsFromEnv, createAwsClients, createLogger, type JobMessage, newExecutionId, newQueuedExecution, type Trigger } from '@bp/shared';
import { buildWorkerDeps, workerConfigFromEnv, type WorkerDeps } from '../../src/index.ts';

export interface WorkerSuite {
  readonly sim: Simulator;
  readonly aws: AwsClients;
  /** A worker as deployed, over fresh queues and tables. */
  readonly deps: WorkerDeps;
  /** Creates the QUEUED execution of a job for `tenantId` and returns its message. */
  queuedJob(o: { tenantId: string; entryId?: string; canvasId?: string; trigger: Omit<Trigger, 'receivedAt'>; receivedAt?: Date }): Promise<JobMessage>;
}

export interface WorkerSuiteOptions {
  sim?: SimulatorOptions;
  /** Receives before the DLQ. Default: the local stack's. */
  maxReceiveCount?: number;
  /** The worker's in-process retries of Benchling calls. Default: production's. */
  benchlingRetry?: BenchlingRetryOptions;
}

/**
 * For the enclosing mocha suite: a Benchling simulator, fresh queues and tables on the local
 * emulators, and worker dependencies over them (started in `before`, closed in `after`).
 */
export function useWorker(label: string, o: WorkerSuiteOptions = {}): WorkerSuite {
  let s: { sim: Simulator; aws: AwsClients; deps: WorkerDeps } | undefined;
  before(async function () {
    this.timeout(30_000);
    const started = await startSimulator(o.sim);
    const env = { ...(await isolatedEnv(label, o.maxReceiveCount === undefined ? {} : { maxReceiveCount: o.maxReceiveCount })), ...serviceEnvFor(started), WORKER_ID: `${label}-worker` };
    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
    const logger = createLogger({ service: 'test', level: process.env.BP_TEST_LOG_LEVEL || 'silent' });
    s = { sim: started, aws, deps: await buildWorkerDeps(workerConfigFromEnv(env), aws, logger, o.benchlingRetry ? { benchlingRetry: o.benchlingRetry } : {}) };
  });
  after(async () => {
    s?.aws.destroy();
    await s?.sim.close();
  });
  const ready = () => {
    if (!s) throw new Error('the worker suite is set up in before()');
    return s;
  };
  return {
    get sim() {
      return ready().sim;
    },
    get aws() {
      return ready().aws;
    },
    get deps() {
      return ready().deps;
    },
    async queuedJob(o) {
      const { sim: simulator, deps } = ready();
      const receivedAt = o.receivedAt ?? new Date();
      const job: JobMessage = {
        v: 1,
        kind: 'entry.package',
        executionId: newExecutionId(receivedAt),
        tenantId: o.tenantId,
        baseURL: simulator.url,
        ...(o.entryId ? { entryId: o.entryId } : {}),
        // A canvas's job says which app the canvas belongs to.
        ...(o.canvasId ? { canvasId: o.canvasId, appId: simulator.options.appId } : {}),
        trigger: { ...o.trigger, receivedAt: receivedAt.toISOString() } as Trigger,
      };
      await deps.executions.create(newQueuedExecution({ executionId: job.executionId, tenantId: job.tenantId, kind: job.kind, ...(o.entryId ? { entryId: o.entryId } : {}), trigger: job.trigger, now: receivedAt }));
      return job;
    },
  };
}
