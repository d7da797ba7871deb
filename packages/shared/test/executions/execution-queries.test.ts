import { expect } from 'chai';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/index.ts';
import { ExecutionStore, ExecutionNotFoundError, type ExecutionRecord } from '../../src/executions/index.ts';
import { ManualClock, eventually, localTables, queuedExecution } from './fixtures.ts';

const LEASE_MS = 30_000;
const DAY_MS = 86_400_000;

describe('execution store: TTL and queries', () => {
  let aws: AwsClients;
  let tableName: string;
  let clock: ManualClock;
  let store: ExecutionStore;

  before(async () => {
    const t = await localTables('exquery');
    aws = t.aws;
    tableName = t.names.executionsTable;
  });
  after(() => aws.destroy());
  // Tests share the table: each starts 100 days after the previous one so `since` excludes older rows.
  let epoch = Math.floor(Date.now() / 1000) * 1000;
  beforeEach(() => {
    epoch += 100 * DAY_MS;
    clock = new ManualClock(epoch);
    store = new ExecutionStore({ doc: aws.doc, tableName, clock: clock.now, finishedTtlDays: 10 });
  });

  /** Creates an execution one second after the previous one, so createdAt orders them. */
  async function create(o: { tenantId?: string; entryId: string }): Promise<string> {
    clock.advance(1000);
    const rec = queuedExecution({ now: clock.now(), ...o });
    await store.create(rec);
    return rec.executionId;
  }

  /** Ids a GSI-backed list returns once it has caught up to `count` rows (GSIs are eventually consistent). */
  async function idsOf(read: () => Promise<ExecutionRecord[]>, count: number): Promise<string[]> {
    return (await eventually(read, (rows) => rows.length === count)).map((r) => r.executionId);
  }

  async function succeed(id: string): Promise<void> {
    await store.beginAttempt(id, { workerId: 'w1', leaseMs: LEASE_MS });
    await store.succeed(id, 'w1');
  }

  it('treats a finished execution past its TTL as absent although DynamoDB Local keeps the item', async () => {
    const id = await create({ entryId: 'etr_ttl' });
    await succeed(id);
    clock.advance(10 * DAY_MS - 1000);
    expect((await store.get(id))?.status).to.equal('SUCCEEDED');
    expect(await idsOf(() => store.listByEntry('ten_test', 'etr_ttl'), 1)).to.deep.equal([id]);
    expect(await idsOf(() => store.listByStatus('SUCCEEDED'), 1)).to.deep.equal([id]);

    clock.advance(1000);
    expect(await store.get(id)).to.equal(undefined);
    expect(await store.listByEntry('ten_test', 'etr_ttl')).to.deep.equal([]);
    expect(await store.listByStatus('SUCCEEDED')).to.deep.equal([]);
    let caught: unknown;
    await store.beginAttempt(id, { workerId: 'w2', leaseMs: LEASE_MS }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(ExecutionNotFoundError);
    const raw = await aws.doc.send(new GetCommand({ TableName: tableName, Key: { executionId: id } }));
    expect(raw.Item, 'the item is still stored').to.not.equal(undefined);

    // The id can be reused once the old record has expired.
    await store.create(queuedExecution({ now: clock.now(), executionId: id, entryId: 'etr_ttl' }));
    expect((await store.get(id))?.status).to.equal('QUEUED');
  });

  it('lists the executions of one entry newest first, or oldest first on request', async () => {
    const ids = [
      await create({ entryId: 'etr_list' }),
      await create({ entryId: 'etr_other' }),
      await create({ entryId: 'etr_list' }),
      await create({ entryId: 'etr_list' }),
    ];
    const mine = [ids[0], ids[2], ids[3]];
    expect(await idsOf(() => store.listByEntry('ten_test', 'etr_list'), 3)).to.deep.equal([...mine].reverse());
    expect((await store.listByEntry('ten_test', 'etr_list', { newestFirst: false })).map((r) => r.executionId)).to.deep.equal(mine);
    expect((await store.listByEntry('ten_test', 'etr_list', { limit: 2 })).map((r) => r.executionId)).to.deep.equal([ids[3], ids[2]]);
    expect(await store.listByEntry('ten_other', 'etr_list')).to.deep.equal([]);
  });

  it('pages past expired executions to fill the limit', async () => {
    const live: string[] = [];
    // Alternate: expired-to-be, live, expired-to-be, live …
    const expiring: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await create({ entryId: 'etr_pages' });
      (i % 2 === 0 ? expiring : live).push(id);
    }
    for (const id of expiring) await succeed(id);
    clock.advance(11 * DAY_MS);
    expect(await idsOf(() => store.listByEntry('ten_test', 'etr_pages', { limit: 3, newestFirst: false }), 3)).to.deep.equal(live);
  });

  it('lists executions by status, newest first, from a given time', async () => {
    const before = await create({ entryId: 'etr_status' });
    const since = new Date(clock.now().getTime() + 1);
    const a = await create({ entryId: 'etr_status' });
    const b = await create({ entryId: 'etr_status' });
    const c = await create({ entryId: 'etr_status' });
    await succeed(b);
    // SUCCEEDED first: b's move between GSI partitions is the write most likely still propagating.
    expect(await idsOf(() => store.listByStatus('SUCCEEDED', { since }), 1)).to.deep.equal([b]);
    expect(await idsOf(() => store.listByStatus('QUEUED', { since }), 2)).to.deep.equal([c, a]);
    expect((await store.listByStatus('QUEUED', { since, limit: 1 })).map((r) => r.executionId)).to.deep.equal([c]);
    expect((await store.listByStatus('QUEUED')).map((r) => r.executionId)).to.include(before);
  });

  it('lists recent executions across statuses, newest first, limited', async () => {
    const since = new Date(clock.now().getTime() + 1);
    const q = await create({ entryId: 'etr_recent' });
    const r = await create({ entryId: 'etr_recent' });
    const s = await create({ entryId: 'etr_recent' });
    await store.beginAttempt(r, { workerId: 'w1', leaseMs: LEASE_MS });
    await succeed(s);
    const recent = await eventually(
      () => store.listRecent({ since, limit: 10 }),
      (rows) => rows.length === 3 && rows[0]?.status === 'SUCCEEDED' && rows[1]?.status === 'RUNNING',
    );
    expect(recent.map((x) => [x.executionId, x.status])).to.deep.equal([
      [s, 'SUCCEEDED'],
      [r, 'RUNNING'],
      [q, 'QUEUED'],
    ]);
    expect((await store.listRecent({ since, limit: 2 })).map((x) => x.executionId)).to.deep.equal([s, r]);
    expect((await store.listRecent({ since, status: 'RUNNING' })).map((x) => x.executionId)).to.deep.equal([r]);
  });
});
