import { expect } from 'chai';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/index.ts';
import { ExecutionStore, MAX_EVENTS, type ExecutionRecord } from '../../src/executions/index.ts';
import { executionStoreSuite, type ManualClock, queuedExecution } from './fixtures.ts';

const LEASE_MS = 30_000;

describe('execution store: bounded event history', () => {
  const suite = executionStoreSuite('exevents');
  let aws: AwsClients;
  let tableName: string;
  let clock: ManualClock;
  let store: ExecutionStore;
  beforeEach(() => ({ aws, tableName, clock, store } = suite));

  /** The item as stored, bypassing the store's read-side trimming. */
  async function raw(id: string): Promise<ExecutionRecord> {
    const res = await aws.doc.send(new GetCommand({ TableName: tableName, Key: { executionId: id }, ConsistentRead: true }));
    return res.Item as ExecutionRecord;
  }

  async function running(): Promise<string> {
    const rec = queuedExecution({ now: clock.now() });
    await store.create(rec);
    await store.beginAttempt(rec.executionId, { workerId: 'w1', leaseMs: LEASE_MS });
    return rec.executionId;
  }

  it('keeps the newest 50 events in the table after 80 appends', async () => {
    const id = await running();
    for (let i = 0; i < 80; i++) {
      clock.advance(1);
      await store.recordStepStart(id, 'w1', `step-${i}`);
    }
    const stored = await raw(id);
    expect(stored.events).to.have.length(MAX_EVENTS);
    // 82 events were written (Queued, AttemptStarted, 80 × StepStarted): the newest 50 are the last 50 steps.
    expect(stored.events.map((e) => e.step)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `step-${30 + i}`));
    expect((await store.get(id))?.events).to.deep.equal(stored.events);
  });

  it('ends with exactly the newest 50 events when 80 appends race each other', async () => {
    const id = await running();
    await Promise.all(Array.from({ length: 80 }, (_, i) => store.recordStepStart(id, 'w1', `step-${i}`)));
    const stored = await raw(id);
    expect(stored.events).to.have.length(MAX_EVENTS);
    const steps = stored.events.map((e) => e.step);
    expect(new Set(steps).size).to.equal(MAX_EVENTS);
    // Whatever order they landed in, the 32 dropped are the oldest: Queued and AttemptStarted are gone.
    expect(stored.events.some((e) => e.type === 'Queued' || e.type === 'AttemptStarted')).to.equal(false);
  });

  it('returns at most maxEvents to readers and honours a smaller limit', async () => {
    const small = new ExecutionStore({ doc: aws.doc, tableName, clock: clock.now, maxEvents: 5 });
    const rec = queuedExecution({ now: clock.now() });
    await small.create(rec);
    await small.beginAttempt(rec.executionId, { workerId: 'w1', leaseMs: LEASE_MS });
    let last: ExecutionRecord | undefined;
    for (const step of ['a', 'b', 'c', 'd', 'e', 'f']) last = await small.checkpoint(rec.executionId, 'w1', 'fetch-entry', { step });
    expect(last?.events).to.have.length(5);
    expect((await raw(rec.executionId)).events).to.have.length(5);
    expect(last?.outputs).to.deep.equal({ 'fetch-entry': { step: 'f' } });
  });

  it('rejects a maxEvents that is not a positive integer', () => {
    expect(() => new ExecutionStore({ doc: aws.doc, tableName, maxEvents: 0 })).to.throw(/maxEvents/);
  });
});
