import { expect } from 'chai';
import type { AwsClients } from '../../src/index.ts';
import {
  type ExecutionStore,
  LeaseHeldError,
  LeaseLostError,
  ExecutionNotFoundError,
  ExecutionExistsError,
  firstPendingStep,
} from '../../src/executions/index.ts';
import { executionStoreSuite, type ManualClock, queuedExecution } from './fixtures.ts';

const LEASE_MS = 30_000;

describe('execution store: leases, checkpoints and finishing', () => {
  const suite = executionStoreSuite('exlease');
  let aws: AwsClients;
  let tableName: string;
  let clock: ManualClock;
  let store: ExecutionStore;
  beforeEach(() => ({ aws, tableName, clock, store } = suite));

  async function created() {
    const rec = queuedExecution({ now: clock.now() });
    await store.create(rec);
    return rec.executionId;
  }

  it('refuses to create a second live execution with the same id', async () => {
    const rec = queuedExecution({ now: clock.now() });
    await store.create(rec);
    let caught: unknown;
    await store.create({ ...rec, tenantId: 'other' }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(ExecutionExistsError);
    expect((await store.get(rec.executionId))?.tenantId).to.equal('ten_test');
  });

  it('gives the execution lease to exactly one of ten workers starting at once', async () => {
    const id = await created();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.beginAttempt(id, { workerId: `w${i}`, leaseMs: LEASE_MS })),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(winners).to.have.length(1);
    expect(losers).to.have.length(9);
    const winner = (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<ExecutionStore['beginAttempt']>>>).value.record;
    for (const l of losers) {
      expect(l.reason).to.be.instanceOf(LeaseHeldError);
      expect((l.reason as LeaseHeldError).owner).to.equal(winner.leaseOwner);
      expect((l.reason as LeaseHeldError).code).to.equal('LeaseHeld');
      expect((l.reason as LeaseHeldError).retryable).to.equal(true);
    }
    const stored = await store.get(id);
    expect(stored).to.include({
      status: 'RUNNING',
      attempts: 1,
      leaseOwner: winner.leaseOwner,
      leaseExpiresAt: clock.now().getTime() + LEASE_MS,
    });
    expect(stored?.events.filter((e) => e.type === 'AttemptStarted')).to.have.length(1);
  });

  it('starts a first receive’s attempt in one write, and still gives the lease to exactly one of ten', async () => {
    const id = await created();
    let reads = 0;
    aws.ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetItemCommand' && (args.input as { TableName?: string }).TableName === tableName) reads++;
        return next(args);
      },
      { step: 'initialize', name: `countReads-${id}` },
    );
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.beginAttempt(id, { workerId: `w${i}`, leaseMs: LEASE_MS, firstReceive: true })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(LeaseHeldError);
      // Only the nine that lost the one-write start read the record to learn who holds it.
      expect(reads).to.equal(9);
    } finally {
      aws.ddb.middlewareStack.remove(`countReads-${id}`);
    }
    const stored = await store.get(id);
    expect(stored).to.include({ status: 'RUNNING', attempts: 1 });
    expect(stored?.events.filter((e) => e.type === 'AttemptStarted').map((e) => e.attempt)).to.deep.equal([1]);
  });

  it('tells a second worker when the lease expires, and gives it the lease once the first one has lapsed', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    clock.advance(LEASE_MS - 1);
    let caught: unknown;
    await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseHeldError);
    expect((caught as LeaseHeldError).retryAfterMs).to.equal(1);

    clock.advance(1);
    const { record, alreadyFinished } = await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    expect(alreadyFinished).to.equal(false);
    expect(record).to.include({ leaseOwner: 'w2', attempts: 2, status: 'RUNNING' });
    expect(record.events.at(-1)).to.include({ type: 'AttemptStarted', attempt: 2 });
    expect(record.events.at(-1)?.detail).to.contain('took over from w1');
  });

  it('lets the same worker begin again while it holds the lease, counting the attempt', async () => {
    const id = await created();
    const first = await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    const again = await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    expect(again.record.attempts).to.equal(2);
    expect(again.record.startedAt).to.equal(first.record.startedAt);
  });

  it('rejects a checkpoint from a worker that does not hold the lease', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    let caught: unknown;
    await store.checkpoint(id, 'w2', 'fetch-entry', { name: 'x' }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseLostError);
    expect((caught as LeaseLostError).code).to.equal('LeaseLost');
    expect((caught as LeaseLostError).details).to.include({ owner: 'w1', status: 'RUNNING' });
    expect((await store.get(id))?.outputs).to.deep.equal({});
  });

  it('rejects the first worker after another took over its lapsed lease', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    clock.advance(LEASE_MS);
    await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    const attempts = [
      store.extendLease(id, 'w1', LEASE_MS),
      store.checkpoint(id, 'w1', 'fetch-entry', {}),
      store.succeed(id, 'w1'),
      store.recordRetry(id, 'w1', 'transfer', new Error('boom')),
    ];
    for (const a of await Promise.allSettled(attempts)) {
      expect(a.status).to.equal('rejected');
      expect((a as PromiseRejectedResult).reason).to.be.instanceOf(LeaseLostError);
    }
    expect((await store.get(id))?.status).to.equal('RUNNING');
  });

  it('extends the lease of its owner so another worker cannot take it at the old expiry', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    clock.advance(LEASE_MS - 1000);
    const until = await store.extendLease(id, 'w1', LEASE_MS);
    expect(until).to.equal(clock.now().getTime() + LEASE_MS);
    clock.advance(2000);
    let caught: unknown;
    await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseHeldError);
  });

  it('resumes a redelivered execution with the outputs of the steps that already succeeded', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.recordStepStart(id, 'w1', 'fetch-entry');
    await store.checkpoint(id, 'w1', 'fetch-entry', { entryName: 'Notebook 1' });
    await store.checkpoint(id, 'w1', 'start-export', { taskId: 'task_1' });
    await store.recordStepStart(id, 'w1', 'await-export');
    // w1 crashes here; its lease lapses and the message comes back to w2.
    clock.advance(LEASE_MS + 1);
    const { record } = await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    expect(record.outputs).to.deep.equal({ 'fetch-entry': { entryName: 'Notebook 1' }, 'start-export': { taskId: 'task_1' } });
    expect(record.step).to.equal('await-export');
    expect(firstPendingStep(record, ['fetch-entry', 'start-export', 'await-export', 'transfer'])).to.equal('await-export');
    expect(record.events.map((e) => e.type)).to.deep.equal([
      'Queued',
      'AttemptStarted',
      'StepStarted',
      'StepSucceeded',
      'StepSucceeded',
      'StepStarted',
      'AttemptStarted',
    ]);
  });

  it('keeps a retried execution RUNNING with its last error and frees the lease for the redelivery', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    const rec = await store.recordRetry(id, 'w1', 'transfer', new Error('socket hang up'), { requeueDelaySeconds: 30 });
    expect(rec.status).to.equal('RUNNING');
    expect(rec.leaseOwner).to.equal(undefined);
    expect(rec.lastError).to.include({ step: 'transfer', class: 'Error', message: 'socket hang up', retryable: true });
    expect(rec.events.at(-1)).to.include({ type: 'StepFailed', step: 'transfer' });
    expect(rec.events.at(-1)?.detail).to.contain('retry in 30s');
    // No need to wait for the old lease: it was released.
    const { record } = await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    expect(record.leaseOwner).to.equal('w2');
    // A described error is stored as given.
    const described = {
      step: 'transfer',
      class: 'S3SlowDown',
      message: 'reduce your request rate',
      retryable: true,
      at: '2026-01-01T00:00:00.000Z',
    };
    expect((await store.recordRetry(id, 'w2', 'transfer', described)).lastError).to.deep.equal(described);
  });

  it('records a poll requeue and frees the lease while the export runs', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.recordStepStart(id, 'w1', 'await-export');
    const rec = await store.requeueForPoll(id, 'w1', 60);
    expect(rec).to.include({ status: 'RUNNING', step: 'await-export' });
    expect(rec.leaseOwner).to.equal(undefined);
    expect(rec.events.at(-1)).to.include({ type: 'Requeued', detail: 'poll again in 60s' });
  });

  it('finishes a succeeded execution with a TTL and no lease, and reports it finished to a late redelivery', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    const rec = await store.succeed(id, 'w1', 'published pkg/a@abc');
    expect(rec).to.include({
      status: 'SUCCEEDED',
      finishedAt: clock.now().toISOString(),
      expiresAt: Math.floor(clock.now().getTime() / 1000) + 90 * 86_400,
    });
    expect(rec.leaseOwner).to.equal(undefined);
    expect(rec.events.at(-1)).to.include({ type: 'Succeeded', detail: 'published pkg/a@abc' });
    // An SDK retry of the same call after the first landed is not an error.
    expect((await store.succeed(id, 'w1')).status).to.equal('SUCCEEDED');

    const late = await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    expect(late.alreadyFinished).to.equal(true);
    expect(late.record.attempts).to.equal(1);
  });

  it('fails an execution forced by DLQ handling even while a worker holds it, but never undoes a success', async () => {
    const running = await created();
    await store.beginAttempt(running, { workerId: 'w1', leaseMs: LEASE_MS });
    const error = { step: 'transfer', class: 'S3Timeout', message: 'gave up', retryable: true, at: clock.now().toISOString() };
    const failed = await store.fail(running, undefined, error);
    expect(failed).to.include({ status: 'FAILED' });
    expect(failed.lastError).to.deep.equal(error);
    expect(failed.expiresAt).to.be.a('number');
    expect(failed.events.at(-1)?.detail).to.contain('(forced)');
    let caught: unknown;
    await store.checkpoint(running, 'w1', 'transfer', {}).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseLostError);

    const done = await created();
    await store.beginAttempt(done, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.succeed(done, 'w1');
    expect((await store.fail(done, undefined, error)).status).to.equal('SUCCEEDED');
  });

  it('lets only the lease owner fail an execution it runs', async () => {
    const id = await created();
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    const error = {
      step: 'fetch-entry',
      class: 'BenchlingNotFound',
      message: 'no such entry',
      retryable: false,
      at: clock.now().toISOString(),
    };
    let caught: unknown;
    await store.fail(id, 'w2', error).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseLostError);
    expect((await store.fail(id, 'w1', error)).status).to.equal('FAILED');
  });

  it('supersedes a queued execution, and leaves a finished one as it is', async () => {
    const id = await created();
    const rec = await store.supersede(id, 'coalesced into ex_1');
    expect(rec).to.include({ status: 'SUPERSEDED' });
    expect(rec.events.at(-1)).to.include({ type: 'Superseded', detail: 'coalesced into ex_1' });
    expect((await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS })).alreadyFinished).to.equal(true);
    const again = await store.supersede(id, 'second time');
    expect(again.events.at(-1)?.detail).to.equal('coalesced into ex_1');
  });

  it('reports an unknown execution as not found', async () => {
    let caught: unknown;
    await store.beginAttempt('ex_missing', { workerId: 'w1', leaseMs: LEASE_MS }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(ExecutionNotFoundError);
    expect(await store.get('ex_missing')).to.equal(undefined);
  });
});
