import { type Simulator, type SimulatorOptions, serviceEnvFor, startSimulator } from '@bp/benchling-sim';
import type { BenchlingRetryOptions } from '@bp/shared/benchling/index';
import { isolatedEnv } from '@bp/local-stack/testing';
import {
  type AwsClients,
  awsOptionsFromEnv,
  createAwsClients,
  createLogger,
  type JobMessage,
  newExecutionId,
  newQueuedExecution,
  type Trigger,
} from '@bp/shared';
import { buildWorkerDeps, handleJob, workerConfigFromEnv, type WorkerDeps } from '../../src/index.ts';
import type { JobOutcome } from '../../src/runner/outcome.ts';

export interface WorkerSuite {
  readonly sim: Simulator;
  readonly aws: AwsClients;
  /** The worker's environment (queues, tables, simulator): for a variant of the worker, say. */
  readonly env: Record<string, string>;
  /** A worker as deployed, over fresh queues and tables. */
  readonly deps: WorkerDeps;
  /** Creates the QUEUED execution of a job for `tenantId` and returns its message. */
  queuedJob(o: {
    tenantId: string;
    entryId?: string;
    canvasId?: string;
    trigger: Omit<Trigger, 'receivedAt'>;
    receivedAt?: Date;
  }): Promise<JobMessage>;
  /** A scientist clicks the update button on a new canvas of `entryId`: the job names only the canvas. */
  buttonJob(tenantId: string, entryId: string): Promise<{ job: JobMessage; canvasId: string }>;
}

export interface WorkerSuiteOptions {
  sim?: SimulatorOptions;
  /** Receives before the DLQ. Default: the local stack's. */
  maxReceiveCount?: number;
  /** The jobs queue's visibility timeout, and the worker's. Default: the local stack's and the worker's. */
  visibilityTimeoutSeconds?: number;
  /** The worker's in-process retries of Benchling calls. Default: production's. */
  benchlingRetry?: BenchlingRetryOptions;
}

/**
 * For the enclosing mocha suite: a Benchling simulator, fresh queues and tables on the local
 * emulators, and worker dependencies over them (started in `before`, closed in `after`).
 */
export function useWorker(label: string, o: WorkerSuiteOptions = {}): WorkerSuite {
  let s: { sim: Simulator; aws: AwsClients; env: Record<string, string>; deps: WorkerDeps } | undefined;
  before(async function () {
    this.timeout(30_000);
    const started = await startSimulator(o.sim);
    const queue = {
      ...(o.maxReceiveCount === undefined ? {} : { maxReceiveCount: o.maxReceiveCount }),
      ...(o.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: o.visibilityTimeoutSeconds }),
    };
    const env = {
      ...(await isolatedEnv(label, queue)),
      ...serviceEnvFor(started),
      ...(o.visibilityTimeoutSeconds === undefined ? {} : { VISIBILITY_TIMEOUT_SECONDS: String(o.visibilityTimeoutSeconds) }),
      WORKER_ID: `${label}-worker`,
    };
    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
    const logger = createLogger({ service: 'test', level: process.env.BP_TEST_LOG_LEVEL || 'silent' });
    s = {
      sim: started,
      aws,
      env,
      deps: await buildWorkerDeps(workerConfigFromEnv(env), aws, logger, o.benchlingRetry ? { benchlingRetry: o.benchlingRetry } : {}),
    };
  });
  after(async () => {
    s?.aws.destroy();
    await s?.sim.close();
  });
  const ready = () => {
    if (!s) throw new Error('the worker suite is set up in before()');
    return s;
  };
  const suite: WorkerSuite = {
    get sim() {
      return ready().sim;
    },
    get aws() {
      return ready().aws;
    },
    get env() {
      return ready().env;
    },
    get deps() {
      return ready().deps;
    },
    async queuedJob(q) {
      const { sim: simulator, deps } = ready();
      const receivedAt = q.receivedAt ?? new Date();
      const job: JobMessage = {
        v: 1,
        kind: 'entry.package',
        executionId: newExecutionId(receivedAt),
        tenantId: q.tenantId,
        baseURL: simulator.url,
        ...(q.entryId ? { entryId: q.entryId } : {}),
        // A canvas's job says which app the canvas belongs to.
        ...(q.canvasId ? { canvasId: q.canvasId, appId: simulator.options.appId } : {}),
        trigger: { ...q.trigger, receivedAt: receivedAt.toISOString() } as Trigger,
      };
      await deps.executions.create(
        newQueuedExecution({
          executionId: job.executionId,
          tenantId: job.tenantId,
          kind: job.kind,
          ...(q.entryId ? { entryId: q.entryId } : {}),
          trigger: job.trigger,
          now: receivedAt,
        }),
      );
      return job;
    },
    async buttonJob(tenantId, entryId) {
      const { sim: simulator, deps } = ready();
      const canvas = await deps
        .benchlingFor({ tenantId, baseURL: simulator.url })
        .createCanvas({ appId: simulator.options.appId, featureId: 'quilt_entry', resourceId: entryId, blocks: [] });
      const job = await suite.queuedJob({
        tenantId,
        canvasId: canvas.id,
        trigger: { webhookId: `wh_click_${entryId}`, type: 'v2.canvas.userInteracted', buttonId: deps.config.updateButtonId },
      });
      return { job, canvasId: canvas.id };
    },
  };
  return suite;
}

/**
 * One receive of a job's message, as the worker runs it: an export still running re-enqueues the
 * job, and its next copy is run at once (up to 50 polls). Returns the outcome and the last body.
 */
export async function receiveThroughPolls(
  deps: WorkerDeps,
  body: string,
  receiveCount: number,
): Promise<{ outcome: JobOutcome; body: string }> {
  for (let polls = 0; ; polls++) {
    const outcome = await handleJob(deps, body, receiveCount, new AbortController().signal);
    if (outcome.action !== 'requeue' || polls >= 50) return { outcome, body };
    body = outcome.body;
    await new Promise((r) => setTimeout(r, 50));
  }
}
