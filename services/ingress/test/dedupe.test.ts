import { expect } from 'chai';
import { type AwsClients, type JobMessage, resourceNamesFromEnv } from '@bp/shared';
import { AcceptUnavailableError } from '@bp/shared/dedupe';
import { acceptWebhook, type AcceptDeps, PendingMarks, sendMayHaveSucceeded } from '../src/accept.ts';
import { newQueuedExecution } from '@bp/shared/executions/types';
import { isolatedEnv } from '@bp/local-stack/testing';
import { inspectionClients } from './support/ingress.ts';
import { drainJobs, getItem } from './support/queue.ts';
import { PutCommand, SQSClient } from './support/sdk.ts';

/**
 * The accept protocol (services/ingress/src/accept.ts) against DynamoDB Local and fauxqs, in the
 * states a crash or a race leaves behind, planted directly in the table.
 */
describe('dedupe: the accept protocol in the states crashes and races leave behind', () => {
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
    await aws.doc.send(
      new PutCommand({ TableName: names.dedupeTable, Item: { webhookId, executionId, createdAt: new Date().toISOString(), ...dedupe } }),
    );
    if (executionStatus) {
      const record = newQueuedExecution({
        executionId,
        tenantId: 'ten_acme',
        kind: 'entry.package',
        entryId: 'etr_1',
        trigger: job(webhookId).trigger,
        now: new Date(),
      });
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
    expect(result).to.deep.include({ outcome: 'accepted', executionId, tookOver: true });
    await (result as { recorded: Promise<void> }).recorded;
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
    const executionId = await plant(
      webhookId,
      { state: 'PENDING', pendingUntil: Date.now() + 20_000, expiresAt: nowSec() + 86_400 },
      'QUEUED',
    );
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) });
    expect(result).to.deep.include({ outcome: 'in_progress', executionId });
    expect((result as { retryAfterSeconds: number }).retryAfterSeconds).to.be.within(19, 20);
    expect(await drainJobs(aws, names.jobsQueueUrl)).to.have.length(0);
  });

  it('treats a record past its TTL as absent (DynamoDB Local never deletes it) and starts a new execution', async () => {
    const webhookId = `wh_expired_${Date.now()}`;
    const old = await plant(webhookId, { state: 'ENQUEUED', expiresAt: nowSec() - 1 });
    const result = await acceptWebhook(deps, { webhookId, job: job(webhookId) }, { ttlDays: 3 });
    if (result.outcome !== 'accepted') expect.fail(`accepted expected, got ${result.outcome}`);
    await result.recorded;
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

  it("keeps the records when a send attempt timed out after SQS stored the job, whatever the SDK's retry then met", async () => {
    const webhookId = `wh_timeout_then_refused_${Date.now()}`;
    // The first attempt reaches fauxqs (the job is stored) but its answer never arrives; the
    // SDK's retry then cannot connect. The error the caller sees is only the retry's.
    const real = aws.sqs.config.requestHandler;
    let attempts = 0;
    const sqs = new SQSClient({
      region: env.AWS_REGION!,
      endpoint: env.AWS_ENDPOINT_URL_SQS!,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      maxAttempts: 2,
      requestHandler: {
        handle: async (request: Parameters<typeof real.handle>[0], options: Parameters<typeof real.handle>[1]) => {
          if (++attempts === 1) {
            await real.handle(request, options);
            throw Object.assign(new Error('socket timed out before the answer'), { name: 'TimeoutError' });
          }
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
      } as typeof real,
    });
    try {
      const err = await acceptWebhook({ ...deps, sqs }, { webhookId, job: job(webhookId) }).catch((e: unknown) => e);
      expect(attempts).to.equal(2);
      expect(err).to.be.instanceOf(AcceptUnavailableError);
      const [stored] = await drainJobs(aws, names.jobsQueueUrl);
      expect(stored, 'the first attempt did enqueue the job').to.not.equal(undefined);
      // The job's execution and dedupe record stay, so the job runs and Benchling's retry takes over.
      expect(await getItem(aws, names.executionsTable, { executionId: stored!.executionId })).to.deep.include({ status: 'QUEUED' });
      expect(await getItem(aws, names.dedupeTable, { webhookId })).to.deep.include({ state: 'PENDING', executionId: stored!.executionId });
    } finally {
      sqs.destroy();
    }
  });

  it('answers before the ENQUEUED mark, and a resend to the same process waits for that mark and is a duplicate', async () => {
    // A document client whose UpdateItem (only the mark uses it here) takes 300 ms longer.
    const slowMarks = inspectionClients(env);
    slowMarks.doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (/^Update(Item)?Command$/.test(String(context.commandName))) await new Promise((r) => setTimeout(r, 300));
        return next(args);
      },
      { step: 'initialize', name: 'slowMark' },
    );
    try {
      const slow = { ...deps, doc: slowMarks.doc };
      const tracked = { ...slow, marks: new PendingMarks() };
      const first = `wh_quick_resend_${Date.now()}`;
      const accepted = await acceptWebhook(tracked, { webhookId: first, job: job(first) });
      if (accepted.outcome !== 'accepted') expect.fail(`accepted expected, got ${accepted.outcome}`);
      expect(await getItem(aws, names.dedupeTable, { webhookId: first }), 'answered before the mark').to.deep.include({ state: 'PENDING' });
      expect(await acceptWebhook(tracked, { webhookId: first, job: job(first) })).to.deep.equal({
        outcome: 'duplicate',
        executionId: accepted.executionId,
      });
      expect(tracked.marks.size).to.equal(0);

      // Without the tracker the same resend finds the record PENDING: 409, to be retried.
      const second = `wh_untracked_resend_${Date.now()}`;
      const again = await acceptWebhook(slow, { webhookId: second, job: job(second) });
      expect(await acceptWebhook(slow, { webhookId: second, job: job(second) })).to.deep.include({ outcome: 'in_progress' });
      await (again as { recorded: Promise<void> }).recorded;
      expect(await getItem(aws, names.dedupeTable, { webhookId: second })).to.deep.include({ state: 'ENQUEUED' });
    } finally {
      slowMarks.destroy();
    }
  });

  it('writes nothing when the time budget is already spent', async () => {
    const webhookId = `wh_no_budget_${Date.now()}`;
    const err = await acceptWebhook(deps, { webhookId, job: job(webhookId) }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AcceptUnavailableError);
    expect((err as AcceptUnavailableError).code).to.equal('DedupeUnavailable');
    expect(await getItem(aws, names.dedupeTable, { webhookId })).to.equal(undefined);
  });
});

/** Pure logic: which failed sends may have left a message on the queue (then the records are kept). */
describe('dedupe: a failed SendMessage that may still have enqueued the job', () => {
  const sdkError = (name: string, metadata: Record<string, unknown>, code?: string) =>
    Object.assign(new Error(name), { name, ...(code ? { code } : {}), $metadata: metadata });

  it('did not, when SQS answered the only attempt with an error or the connection was never made', () => {
    expect(sendMayHaveSucceeded(sdkError('InternalFailure', { httpStatusCode: 500, attempts: 1 }))).to.equal(false);
    expect(sendMayHaveSucceeded(sdkError('Error', { attempts: 1 }, 'ECONNREFUSED'))).to.equal(false);
  });

  it('may have, when the only attempt timed out or its connection broke', () => {
    expect(sendMayHaveSucceeded(sdkError('TimeoutError', { attempts: 1 }))).to.equal(true);
    expect(sendMayHaveSucceeded(sdkError('Error', { attempts: 1 }, 'ECONNRESET'))).to.equal(true);
  });
});
