import { expect } from 'chai';
import { awsOptionsFromEnv, createAwsClients, createLogger, type JobMessage, newExecutionId, newQueuedExecution } from '@bp/shared';
import { isolatedEnv } from '@bp/local-stack/testing';
import { buildWorkerDeps, handleJob, workerConfigFromEnv, type WorkerDeps } from '../src/index.ts';

describe('a job attempt that fails outside the pipeline steps', () => {
  let deps: WorkerDeps;
  let destroy: () => void;

  before(async () => {
    // The entries table does not exist: every attempt fails after the execution lease is taken,
    // with an error no step produced (the kind a store outage gives).
    const env = {
      ...(await isolatedEnv('handlejob', { maxReceiveCount: 3 })),
      ENTRIES_TABLE: 'no-such-table',
      BENCHLING_CLIENT_ID: 'c',
      BENCHLING_CLIENT_SECRET: 's',
      BENCHLING_TENANTS: 'ten_t=http://127.0.0.1:1',
      AWS_MAX_ATTEMPTS: '1',
    };
    const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 1 }));
    destroy = () => aws.destroy();
    deps = await buildWorkerDeps(workerConfigFromEnv(env), aws, createLogger({ service: 'test', level: 'silent' }));
  });
  after(() => destroy?.());

  async function queuedJob(): Promise<JobMessage> {
    const now = new Date();
    const job: JobMessage = {
      v: 1,
      kind: 'entry.package',
      executionId: newExecutionId(now),
      tenantId: 'ten_t',
      baseURL: 'http://127.0.0.1:1',
      entryId: 'etr_outside1',
      trigger: { webhookId: 'msg_outside', type: 'v2.entry.created', receivedAt: now.toISOString() },
    };
    await deps.executions.create(
      newQueuedExecution({
        executionId: job.executionId,
        tenantId: job.tenantId,
        kind: job.kind,
        entryId: job.entryId,
        trigger: job.trigger,
        now,
      }),
    );
    return job;
  }

  it('leaves the message for a retry with backoff while receives remain, and the execution unfinished', async () => {
    const job = await queuedJob();
    const outcome = await handleJob(deps, JSON.stringify(job), 1, new AbortController().signal);
    expect(outcome.action).to.equal('retry');
    expect((outcome as { delaySeconds: number }).delaySeconds).to.be.greaterThan(0);
    expect((await deps.executions.get(job.executionId))!.status).to.not.equal('FAILED');
  });

  it('marks the execution FAILED with the reason on the last receive, as the message goes on to the DLQ', async () => {
    const job = await queuedJob();
    const outcome = await handleJob(deps, JSON.stringify(job), deps.maxReceiveCount, new AbortController().signal);
    expect(outcome).to.deep.equal({ action: 'retry', delaySeconds: 0 });
    const ex = await deps.executions.get(job.executionId);
    expect(ex!.status).to.equal('FAILED');
    expect(ex!.lastError!.message).to.match(/^gave up after 3 attempts: /);
  });
});
