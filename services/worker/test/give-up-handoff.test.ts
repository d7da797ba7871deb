import { expect } from 'chai';
import { takeQueuedJobs } from '@bp/local-stack/testing';
import { type AwsClients, entryKey, type JobMessage, newExecutionId } from '@bp/shared';
import { EntryStore, type EntryState, ExecutionStore, type HandOffResult } from '@bp/shared/executions/index';
import { buildWorkerDeps, handleJob, workerConfigFromEnv, type WorkerDeps } from '../src/index.ts';
import { receiveThroughPolls, useWorker } from './support/worker-suite.ts';

const MAX_RECEIVES = 3;
const VISIBILITY_SECONDS = 30;
const TENANT = 'ten_giveup';

/**
 * The real entry store, except that reading the entry's state (the first thing an attempt does
 * once it holds the entry lease, before any step) fails for the executions in `failing` as a
 * DynamoDB throttling burst does: an error no step produced, after the attempt took the entry
 * lease. `beforeStepStart` runs first, to let something happen at exactly that moment.
 */
class ThrottledEntryStore extends EntryStore {
  readonly failing = new Set<string>();
  beforeStepStart: ((id: string) => Promise<void>) | undefined;

  override async get(key: string): Promise<EntryState | undefined> {
    const holder = (await super.get(key))?.leaseExecutionId;
    if (holder) await this.beforeStepStart?.(holder);
    if (holder && this.failing.has(holder)) {
      throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
    return super.get(key);
  }
}

/** The real entry store, except that handing on the entries of the executions in `failing` fails. */
class FailingHandoffEntryStore extends EntryStore {
  readonly failing = new Set<string>();

  override async handOffEntryLease(key: string, executionId: string, followUpExecutionId: string, leaseMs: number): Promise<HandOffResult> {
    if (this.failing.has(executionId)) throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
    return super.handOffEntryLease(key, executionId, followUpExecutionId, leaseMs);
  }
}

/**
 * An execution that holds the entry lease ends other than by the pipeline's normal end: the
 * worker gives up on it outside the steps (permanent error, last SQS receive). A trigger
 * coalesced into it meanwhile must start its follow-up at once, not wait for the lease to lapse.
 * Everything runs against fauxqs, DynamoDB Local and the Benchling simulator.
 */
describe('giving up on a job ends its hold on the entry as a normal end does', function () {
  this.timeout(60_000);
  const suite = useWorker('giveup', {
    sim: { exportDelayMs: 100, tenantId: TENANT },
    maxReceiveCount: MAX_RECEIVES,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
  });
  let aws: AwsClients;
  /** A worker as deployed. */
  let deps: WorkerDeps;
  /** The same worker during a DynamoDB throttling burst. */
  let throttledDeps: WorkerDeps;
  let throttled: ThrottledEntryStore;
  /** The same worker after a redeploy that no longer serves the tenant (it serves another instead). */
  let lockedOutDeps: WorkerDeps;
  /** The same worker while DynamoDB fails the hand-off of some executions. */
  let handoffFailingDeps: WorkerDeps;
  let failingHandoff: FailingHandoffEntryStore;
  let n = 0;

  before(async () => {
    ({ aws, deps } = suite);
    throttled = new ThrottledEntryStore({ doc: aws.doc, tableName: deps.config.names.entriesTable });
    throttledDeps = { ...deps, entries: throttled };
    failingHandoff = new FailingHandoffEntryStore({ doc: aws.doc, tableName: deps.config.names.entriesTable });
    handoffFailingDeps = { ...deps, entries: failingHandoff };
    lockedOutDeps = await buildWorkerDeps(
      workerConfigFromEnv({ ...suite.env, BENCHLING_TENANTS: 'ten_other=https://other.benchling.com' }),
      aws,
      deps.logger,
    );
  });
  beforeEach(() => {
    throttled.failing.clear();
    throttled.beforeStepStart = undefined;
  });

  const signal = () => new AbortController().signal;

  const queuedJob = (entryId: string, webhookId: string): Promise<JobMessage> =>
    suite.queuedJob({ tenantId: TENANT, entryId, trigger: { webhookId, type: 'v2.entry.updated.fields', updates: ['fields.Name'] } });

  /**
   * Execution A's first receive fails outside the steps after taking the entry lease, so A keeps
   * the entry while its message waits to come back. With `coalesce`, a webhook for the entry then
   * arrives, and the worker folds it into A (its execution B is SUPERSEDED).
   */
  async function holderWithLease(entryId: string, o: { coalesce: boolean }): Promise<{ a: JobMessage; b?: JobMessage; key: string }> {
    const key = entryKey(TENANT, entryId);
    const a = await queuedJob(entryId, `wh_${entryId}_a`);
    throttled.failing.add(a.executionId);
    expect((await handleJob(throttledDeps, JSON.stringify(a), 1, signal())).action).to.equal('retry');
    throttled.failing.delete(a.executionId);
    expect((await deps.entries.get(key))?.leaseExecutionId, 'A keeps the entry across its retry').to.equal(a.executionId);
    if (!o.coalesce) return { a, key };
    const b = await queuedJob(entryId, `wh_${entryId}_b`);
    expect(await handleJob(deps, JSON.stringify(b), 1, signal())).to.deep.equal({ action: 'done' });
    expect((await deps.executions.get(b.executionId))?.status).to.equal('SUPERSEDED');
    expect(await deps.entries.get(key)).to.deep.include({ leaseExecutionId: a.executionId, rerunRequested: true });
    return { a, b, key };
  }

  /** Job messages on the jobs queue now (nothing else consumes it in this suite), removed as read. */
  const takeJobs = () => takeQueuedJobs(aws.sqs, suite.env.JOBS_QUEUE_URL!, 30);

  /** The follow-up holds the entry with a fresh lease, exists QUEUED for B's trigger, and its job is on the queue. */
  async function expectFollowUpStarted(key: string, a: JobMessage, b: JobMessage, givenUpAt: number): Promise<void> {
    const entry = await deps.entries.get(key);
    const followUpId = entry?.leaseExecutionId;
    expect(followUpId, 'the entry was handed on').to.be.a('string').and.not.equal(a.executionId);
    expect(entry).to.deep.include({ handoffFrom: a.executionId, handoffTo: followUpId });
    expect(entry?.rerunRequested, 'the coalesced request was taken').to.equal(undefined);
    expect(entry!.leaseExpiresAt!, 'a fresh lease for the follow-up').to.be.at.least(givenUpAt + (VISIBILITY_SECONDS - 5) * 1000);
    const followUp = await deps.executions.get(followUpId!);
    expect(followUp, 'the follow-up execution exists').to.not.equal(undefined);
    expect(followUp).to.deep.include({ status: 'QUEUED', entryId: a.entryId });
    expect(followUp!.trigger.webhookId, 'it runs for the coalesced trigger').to.equal(b.trigger.webhookId);
    const queued = (await takeJobs()).filter((j) => j.entryId === a.entryId);
    expect(
      queued.map((j) => j.executionId),
      'its job is enqueued',
    ).to.deep.equal([followUpId]);
  }

  it('starts the follow-up at once when the worker gives up on the last receive outside the steps', async () => {
    const { a, b, key } = await holderWithLease(`etr_giveup_last_${++n}`, { coalesce: true });
    throttled.failing.add(a.executionId);
    const givenUpAt = Date.now();
    expect(await handleJob(throttledDeps, JSON.stringify(a), MAX_RECEIVES, signal()), 'the message goes on to the DLQ').to.deep.equal({
      action: 'retry',
      delaySeconds: 0,
    });
    const failed = (await deps.executions.get(a.executionId))!;
    expect(failed.status).to.equal('FAILED');
    expect(failed.lastError!.message).to.match(new RegExp(`^gave up after ${MAX_RECEIVES} attempts: `));
    await expectFollowUpStarted(key, a, b!, givenUpAt);
  });

  it('starts the follow-up at once when a permanent error outside the steps fails the execution', async () => {
    const { a, b, key } = await holderWithLease(`etr_giveup_perm_${++n}`, { coalesce: true });
    const givenUpAt = Date.now();
    expect(await handleJob(lockedOutDeps, JSON.stringify(a), 2, signal())).to.deep.equal({ action: 'done' });
    const failed = (await deps.executions.get(a.executionId))!;
    expect(failed.status).to.equal('FAILED');
    expect(failed.lastError).to.include({ class: 'BenchlingTenantRejected', step: 'setup' });
    await expectFollowUpStarted(key, a, b!, givenUpAt);
  });

  it('starts the follow-up at once when a step fails permanently (the pipeline’s own failure end)', async () => {
    // `etr_missing…` entries answer 404 at the simulator: fetch-entry fails for good.
    const { a, b, key } = await holderWithLease(`etr_missing_giveup_${++n}`, { coalesce: true });
    const givenUpAt = Date.now();
    expect(await handleJob(deps, JSON.stringify(a), 2, signal())).to.deep.equal({ action: 'done' });
    expect((await deps.executions.get(a.executionId))!.lastError).to.include({ step: 'fetch-entry', retryable: false });
    await expectFollowUpStarted(key, a, b!, givenUpAt);
  });

  it('releases the entry at once when nothing was coalesced, and starts nothing', async () => {
    const { a, key } = await holderWithLease(`etr_giveup_free_${++n}`, { coalesce: false });
    throttled.failing.add(a.executionId);
    expect(await handleJob(throttledDeps, JSON.stringify(a), MAX_RECEIVES, signal())).to.deep.equal({ action: 'retry', delaySeconds: 0 });
    expect((await deps.executions.get(a.executionId))!.status).to.equal('FAILED');
    expect((await deps.entries.get(key))?.leaseExecutionId, 'the entry is free: the next trigger runs at once').to.equal(undefined);
    expect((await takeJobs()).filter((j) => j.entryId === a.entryId)).to.deep.equal([]);
  });

  it('leaves an entry another execution holds now, with its coalesced request, alone', async () => {
    const entryId = `etr_giveup_other_${++n}`;
    const key = entryKey(TENANT, entryId);
    const a = await queuedJob(entryId, `wh_${entryId}_a`);
    // C is packaging the entry, and a trigger was coalesced into it.
    const c = newExecutionId();
    expect((await deps.entries.acquireEntryLease(key, c, VISIBILITY_SECONDS * 1000)).acquired).to.equal(true);
    const b = await queuedJob(entryId, `wh_${entryId}_b`);
    expect(await handleJob(deps, JSON.stringify(b), 1, signal())).to.deep.equal({ action: 'done' });
    // A fails for good before it could take the entry.
    expect(await handleJob(lockedOutDeps, JSON.stringify(a), 1, signal())).to.deep.equal({ action: 'done' });
    expect((await deps.executions.get(a.executionId))!.status).to.equal('FAILED');
    expect(await deps.entries.get(key)).to.deep.include({ leaseExecutionId: c, rerunRequested: true });
    expect((await takeJobs()).filter((j) => j.entryId === entryId)).to.deep.equal([]);
  });

  it('leaves the entry to another worker that has taken the execution over', async () => {
    const { a, key } = await holderWithLease(`etr_giveup_takeover_${++n}`, { coalesce: true });
    // Our lease on A lapsed (as seen 31 s on) and worker w2 took the execution over, entry and all;
    // our next write finds the lease gone: a LeaseLostError naming w2, on our last receive. w2's
    // delivery is the live one: ours comes back after a visibility timeout, in case w2 dies too.
    const later = new ExecutionStore({
      doc: aws.doc,
      tableName: deps.config.names.executionsTable,
      clock: () => new Date(Date.now() + (VISIBILITY_SECONDS + 1) * 1000),
    });
    throttled.beforeStepStart = async (id) => {
      if (id === a.executionId && (await deps.executions.get(id))?.leaseOwner !== 'giveup-w2') {
        await later.beginAttempt(id, { workerId: 'giveup-w2', leaseMs: VISIBILITY_SECONDS * 1000 });
      }
    };
    expect(await handleJob(throttledDeps, JSON.stringify(a), MAX_RECEIVES, signal())).to.deep.equal({
      action: 'retry',
      delaySeconds: VISIBILITY_SECONDS,
    });
    // w2's run holds the entry under A's id: it hands the entry on when it ends, not us now.
    expect(await deps.entries.get(key)).to.deep.include({ leaseExecutionId: a.executionId, rerunRequested: true });
    expect((await takeJobs()).filter((j) => j.entryId === a.entryId)).to.deep.equal([]);
  });

  it('hands on the entry of a canvas button’s job, which names no entry, when its message comes back after it finished', async () => {
    // A scientist clicks the button: the job names the canvas, and the worker learns the entry from Benchling.
    const entryId = `etr_giveup_button_${++n}`;
    const key = entryKey(TENANT, entryId);
    const { job: a } = await suite.buttonJob(TENANT, entryId);
    // It publishes and SUCCEEDS, but handing the entry on fails: the message will come back.
    failingHandoff.failing.add(a.executionId);
    const { outcome, body } = await receiveThroughPolls(handoffFailingDeps, JSON.stringify(a), 1);
    expect(outcome.action, 'the hand-off failed: retry the message').to.equal('retry');
    failingHandoff.failing.delete(a.executionId);
    const finished = (await deps.executions.get(a.executionId))!;
    expect(finished).to.deep.include({ status: 'SUCCEEDED', entryId, entryKey: key });
    expect(
      (await deps.executions.listByEntry(TENANT, entryId)).map((r) => r.executionId),
      'listed under its entry',
    ).to.include(a.executionId);
    // Meanwhile the entry is edited: that trigger is folded into A, which still holds the entry.
    const b = await queuedJob(entryId, `wh_${entryId}_b`);
    expect(await handleJob(deps, JSON.stringify(b), 1, signal())).to.deep.equal({ action: 'done' });
    expect(await deps.entries.get(key)).to.deep.include({ leaseExecutionId: a.executionId, rerunRequested: true });
    // A's message comes back: A is finished, and its redelivery hands the entry on.
    const redeliveredAt = Date.now();
    expect(await handleJob(deps, body, 2, signal())).to.deep.equal({ action: 'done' });
    await expectFollowUpStarted(key, { ...a, entryId }, b, redeliveredAt);
  });
});
