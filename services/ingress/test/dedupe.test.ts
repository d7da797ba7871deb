import { expect } from 'chai';
import { type AwsClients, type JobMessage, resourceNamesFromEnv } from '@bp/shared';
import { acceptWebhook, AcceptUnavailableError, type AcceptDeps } from '@bp/shared/dedupe';
import { newQueuedExecution } from '@bp/shared/executions/types';
import { isolatedEnv } from '@bp/local-stack/testing';
import { inspectionClients } from './support/ingress.ts';
import { drainJobs, getItem } from './support/queue.ts';
import { PutCommand } from './support/sdk.ts';

/**
 * The accept protocol (packages/shared/src/dedupe.ts) against DynamoDB Local and fauxqs, in the
 * states a crash or a race leaves behind, planted directly in the table.
 */
describe('dedupe: the accept protocol in the states crashes and races leave behind', function () {
  let env: Record<string, string>;
  let names: ReturnType<typeof resourceNamesFromEnv>;
  let aws: AwsClients;
  let deps: AcceptDeps;
  let n = 0;

  const job = (webhookId: string): Omit<JobMessage, 'executionId'> => ({
    v: 1,
    kind: 'entry.package',
    tenantId: 'ten_acme',
    baseURL: 'https://acme.benchling.com',
    entryId: 'etr_1',
    trigger: { webhookId, type: 'v2.entry.created', receivedAt: new Date().toISOString() },
  });
  const nowSec = () => Math.floor(Date.now() / 1000);

  async function plant(webhookId: string, dedupe: Record<string, unknown>, executionStatus?: string): Promise<string> {
    const executionId = `ex_planted_${++n}`;
    await aws.doc.send(new PutCommand({ TableName: names.dedupeTable, Item: { webhookId, executionId, createdAt: new Date().toISOString(), ...dedupe } }));
    if (executionStatus) {
      const record = newQueuedExecution({ executionId, tenantId: 'ten_acme', kind: 'entry.package', entryId: 'etr_1', trigger: job(webhookId).trigger, now: new Date() });
      await aws.doc.send(new PutCommand({ TableName: names.executionsTable, Item: { ...record, status: executionStatus } }));
    }
    return executionId;
  }

  before(async function () {
    this.timeout(120_000);
    env = await isolatedEnv('dedupe');
    names = resourceNamesFromEnv(env);
    aws = inspectionClients(env);
    deps = { doc: aws.doc, sqs: aws.sqs, names };
  });
  after(() => aws?.destroy());
  beforeEach(async () => {
    await drainJobs(aws, names.jobsQueueUrl);
  });

  it('takes over a PENDING record whose writer crashed, keeping its executionId, and enqueues the job', async () => {
    const webhookId = `wh_crashed_${Date.now()}`;
    const executionId = await plant(webhookId, { state: 'PENDING', pendingUntil: Date.now() - 1, expiresAt: nowSec() + 86_400 }, 'QUEUED');
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) });
    expect(result).to.deep.equal({ outcome: 'accepted', executionId, tookOver: true });
    expect((await drainJobs(aws, names.jobsQueueUrl)).map((j) => j.executionId)).to.deep.equal([executionId]);
    expect(await getItem(aws, names.dedupeTable, { webhookId })).to.deep.include({ state: 'ENQUEUED', executionId });
  });

  it('treats a crashed PENDING whose execution a worker already started as a duplicate, sending nothing', async () => {
    const webhookId = `wh_running_${Date.now()}`;
    const executionId = await plant(webhookId, { state: 'PENDING', pendingUntil: Date.now() - 1, expiresAt: nowSec() + 86_400 }, 'RUNNING');
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) });
    expect(result).to.deep.equal({ outcome: 'duplicate', executionId });
    expect(await drainJobs(aws, names.jobsQueueUrl)).to.have.length(0);
    expect(await getItem(aws, names.dedupeTable, { webhookId })).to.deep.include({ state: 'ENQUEUED' });
  });

  it('answers in_progress for a live PENDING record, with a Retry-After that reaches its expiry, and sends nothing', async () => {
    const webhookId = `wh_live_${Date.now()}`;
    const executionId = await plant(webhookId, { state: 'PENDING', pendingUntil: Date.now() + 20_000, expiresAt: nowSec() + 86_400 }, 'QUEUED');
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) });
    expect(result).to.deep.include({ outcome: 'in_progress', executionId });
    expect((result as { retryAfterSeconds: number }).retryAfterSeconds).to.be.within(19, 20);
    expect(await drainJobs(aws, names.jobsQueueUrl)).to.have.length(0);
  });

  it('treats a record past its TTL as absent (DynamoDB Local never deletes it) and starts a new execution', async () => {
    const webhookId = `wh_expired_${Date.now()}`;
    const old = await plant(webhookId, { state: 'ENQUEUED', expiresAt: nowSec() - 1 });
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) }, { ttlDays: 3 });
    expect(result.outcome).to.equal('accepted');
    expect(result.executionId).not.to.equal(old);
    const record = await getItem(aws, names.dedupeTable, { webhookId });
    expect(record).to.deep.include({ state: 'ENQUEUED', executionId: result.executionId });
    expect((record!.expiresAt as number) - nowSec()).to.be.within(3 * 86_400 - 5, 3 * 86_400);
  });

  it('keeps the records of a takeover whose SendMessage fails, and expires the PENDING so the next retry takes over', async () => {
    const webhookId = `wh_takeover_fails_${Date.now()}`;
    const executionId = await plant(webhookId, { state: 'PENDING', pendingUntil: Date.now() - 1, expiresAt: nowSec() + 86_400 }, 'QUEUED');
    const broken = { ...deps, names: { ...names, jobsQueueUrl: `${names.jobsQueueUrl}-missing` } };
    const err = await acceptWebhook(broken, { webhookId, job: job(webhookId) }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AcceptUnavailableError);
    expect((err as AcceptUnavailableError).code).to.equal('QueueUnavailable');
    expect(await getItem(aws, names.dedupeTable, { webhookId })).to.deep.include({ state: 'PENDING', pendingUntil: 0, executionId });
    expect(await getItem(aws, names.executionsTable, { executionId })).to.deep.include({ status: 'QUEUED' });
  });

  it('writes nothing when the time budget is already spent', async () => {
    const webhookId = `wh_no_budget_${Date.now()}`;
    const err = await acceptWebhook(deps, { webhookId, job: job(webhookId) }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AcceptUnavailableError);
    expect((err as AcceptUnavailableError).code).to.equal('DedupeUnavailable');
    expect(await getItem(aws, names.dedupeTable, { webhookId })).to.equal(undefined);
  });
});
