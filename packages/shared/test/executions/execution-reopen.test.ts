import { expect } from 'chai';
import type { AwsClients } from '../../src/index.ts';
import { ExecutionNotFoundError, type ExecutionStore } from '../../src/executions/index.ts';
import { executionStoreSuite, type ManualClock, queuedExecution } from './fixtures.ts';

const LEASE_MS = 30_000;

describe('execution store: reopening a failed execution for a DLQ replay', () => {
  const suite = executionStoreSuite('exreopen');
  let aws: AwsClients;
  let tableName: string;
  let clock: ManualClock;
  let store: ExecutionStore;
  beforeEach(() => ({ aws, tableName, clock, store } = suite));

  /** An execution whose fetch-entry checkpointed and whose start-export then failed for good. */
  async function failedAfterOneStep(): Promise<string> {
    const rec = queuedExecution({ now: clock.now() });
    await store.create(rec);
    await store.beginAttempt(rec.executionId, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.checkpoint(rec.executionId, 'w1', 'fetch-entry', { displayId: 'EXP1' });
    await store.fail(rec.executionId, 'w1', {
      step: 'start-export',
      class: 'BenchlingUnavailable',
      message: 'HTTP 503',
      retryable: true,
      at: clock.now().toISOString(),
    });
    return rec.executionId;
  }

  it('moves FAILED back to QUEUED, clears the finish and the TTL, keeps the error, attempts and outputs', async () => {
    const id = await failedAfterOneStep();
    clock.advance(1000);
    const reopened = await store.reopen(id, 'dlq replay by alice');
    expect(reopened.status).to.equal('QUEUED');
    expect(reopened.finishedAt).to.equal(undefined);
    expect(reopened.expiresAt).to.equal(undefined);
    expect(reopened.lastError).to.include({ class: 'BenchlingUnavailable' });
    expect(reopened.attempts).to.equal(1);
    expect(reopened.outputs).to.have.all.keys('fetch-entry');
    expect(reopened.events.at(-1)).to.deep.include({ type: 'Reopened', detail: 'dlq replay by alice' });
    expect((await store.get(id))?.status).to.equal('QUEUED');
  });

  it('lets a worker run the reopened execution to success, counting the attempt after the old ones', async () => {
    const id = await failedAfterOneStep();
    await store.reopen(id, 'replay');
    const begun = await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS });
    expect(begun.alreadyFinished).to.equal(false);
    expect(begun.record.attempts).to.equal(2);
    const done = await store.succeed(id, 'w2');
    expect(done.status).to.equal('SUCCEEDED');
  });

  it('returns an execution that is already QUEUED unchanged, so a rerun of an interrupted replay is harmless', async () => {
    const id = await failedAfterOneStep();
    const first = await store.reopen(id, 'replay');
    const second = await store.reopen(id, 'replay again');
    expect(second.status).to.equal('QUEUED');
    expect(second.events.filter((e) => e.type === 'Reopened')).to.have.length(1);
    expect(second.updatedAt).to.equal(first.updatedAt);
  });

  it('never undoes a success: a SUCCEEDED execution is returned as it is', async () => {
    const rec = queuedExecution({ now: clock.now() });
    await store.create(rec);
    await store.beginAttempt(rec.executionId, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.succeed(rec.executionId, 'w1');
    const after = await store.reopen(rec.executionId, 'replay');
    expect(after.status).to.equal('SUCCEEDED');
    expect(after.events.some((e) => e.type === 'Reopened')).to.equal(false);
  });

  it('throws ExecutionNotFoundError for an id that does not exist', async () => {
    let caught: unknown;
    try {
      await store.reopen('ex_nope', 'replay');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ExecutionNotFoundError);
  });
});
