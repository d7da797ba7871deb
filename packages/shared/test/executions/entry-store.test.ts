import { expect } from 'chai';
import type { AwsClients, Trigger } from '../../src/index.ts';
import { entryKey } from '../../src/index.ts';
import { EntryStore, LeaseLostError } from '../../src/executions/index.ts';
import { ManualClock, jittered, localTables } from './fixtures.ts';

const LEASE_MS = 30_000;

function trigger(webhookId: string): Trigger {
  return { webhookId, type: 'v2.entry.updated.fields', receivedAt: new Date().toISOString(), updates: ['fields.Name'] };
}

describe('entry store: entry lease, coalesced reruns and canvas', () => {
  let aws: AwsClients;
  let tableName: string;
  let clock: ManualClock;
  let store: EntryStore;
  let n = 0;
  /** A fresh entry per test. */
  let key: string;

  before(async () => {
    const t = await localTables('entries');
    aws = t.aws;
    tableName = t.names.entriesTable;
  });
  after(() => aws.destroy());
  beforeEach(() => {
    clock = new ManualClock();
    store = new EntryStore({ doc: aws.doc, tableName, clock: clock.now });
    key = entryKey('ten_test', `etr_${++n}`);
  });

  it('gives the entry lease to one execution at a time, again to its holder, and to another once it has lapsed', async () => {
    expect(await store.acquireEntryLease(key, 'ex_a', LEASE_MS)).to.deep.equal({ acquired: true, expiresAt: clock.now().getTime() + LEASE_MS });
    expect(await store.acquireEntryLease(key, 'ex_b', LEASE_MS)).to.deep.equal({ acquired: false, heldBy: 'ex_a', expiresAt: clock.now().getTime() + LEASE_MS });
    clock.advance(1000);
    expect((await store.acquireEntryLease(key, 'ex_a', LEASE_MS)).acquired).to.equal(true);
    clock.advance(LEASE_MS);
    expect(await store.acquireEntryLease(key, 'ex_b', LEASE_MS)).to.deep.equal({ acquired: true, expiresAt: clock.now().getTime() + LEASE_MS });
    expect((await store.get(key))?.leaseExecutionId).to.equal('ex_b');
  });

  it('gives a free entry lease to exactly one of ten executions acquiring at once', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.acquireEntryLease(key, `ex_${i}`, LEASE_MS)));
    const winners = results.filter((r) => r.acquired);
    expect(winners).to.have.length(1);
    const holder = (await store.get(key))?.leaseExecutionId;
    for (const r of results) if (!r.acquired) expect(r.heldBy).to.equal(holder);
  });

  it('extends the lease for its holder and rejects anyone else', async () => {
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    clock.advance(LEASE_MS - 1);
    expect(await store.extendEntryLease(key, 'ex_a', LEASE_MS)).to.equal(clock.now().getTime() + LEASE_MS);
    clock.advance(2);
    expect((await store.acquireEntryLease(key, 'ex_b', LEASE_MS)).acquired).to.equal(false);
    let caught: unknown;
    await store.extendEntryLease(key, 'ex_b', LEASE_MS).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(LeaseLostError);
    expect((caught as LeaseLostError).details).to.include({ owner: 'ex_a' });
  });

  it('hands the releaser the latest trigger requested while it held the lease, exactly once', async () => {
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    expect(await store.requestRerun(key, trigger('wh_1'), 'ex_1')).to.deep.equal({ leaseHeld: true, heldBy: 'ex_a', expiresAt: clock.now().getTime() + LEASE_MS });
    expect((await store.requestRerun(key, trigger('wh_2'), 'ex_2')).leaseHeld).to.equal(true);
    const released = await store.releaseEntryLease(key, 'ex_a');
    expect(released).to.deep.include({ released: true, coalesced: 2, rerunExecutionId: 'ex_2' });
    expect(released.rerunRequested?.webhookId).to.equal('wh_2');
    // Released: a second release finds nothing, and the next holder does not inherit the request.
    expect(await store.releaseEntryLease(key, 'ex_a')).to.deep.equal({ released: false });
    await store.acquireEntryLease(key, 'ex_b', LEASE_MS);
    expect(await store.releaseEntryLease(key, 'ex_b')).to.deep.equal({ released: true });
  });

  it('tells a trigger for a free or lapsed entry to run itself, and records nothing', async () => {
    expect(await store.requestRerun(key, trigger('wh_free'), 'ex_1')).to.deep.equal({ leaseHeld: false });
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    clock.advance(LEASE_MS);
    expect(await store.requestRerun(key, trigger('wh_lapsed'), 'ex_2')).to.deep.equal({ leaseHeld: false });
    expect((await store.get(key))?.rerunRequested).to.equal(undefined);
    expect((await store.releaseEntryLease(key, 'ex_a')).rerunRequested).to.equal(undefined);
  });

  it('keeps a rerun request for the next holder when the old holder lost its lapsed lease', async () => {
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    await store.requestRerun(key, trigger('wh_1'), 'ex_1');
    clock.advance(LEASE_MS);
    await store.acquireEntryLease(key, 'ex_b', LEASE_MS);
    expect(await store.releaseEntryLease(key, 'ex_a')).to.deep.equal({ released: false });
    expect((await store.releaseEntryLease(key, 'ex_b')).rerunRequested?.webhookId).to.equal('wh_1');
  });

  it('never loses or duplicates a rerun request that races the release (50 rounds)', async () => {
    const deliveries = new Map<string, number>();
    let requestFirst = 0;
    let releaseFirst = 0;
    for (let round = 0; round < 50; round++) {
      const holder = `ex_holder_${round}`;
      expect((await store.acquireEntryLease(key, holder, LEASE_MS)).acquired).to.equal(true);
      const webhookId = `wh_${round}`;
      const [released, requested] = await Promise.all([
        jittered(5, () => store.releaseEntryLease(key, holder)),
        jittered(5, () => store.requestRerun(key, trigger(webhookId), `ex_req_${round}`)),
      ]);
      expect(released.released).to.equal(true);
      const delivered = released.rerunRequested?.webhookId;
      if (delivered) deliveries.set(delivered, (deliveries.get(delivered) ?? 0) + 1);
      // Exactly one side takes responsibility: the releaser starts the follow-up, or the requester runs itself.
      if (requested.leaseHeld) {
        expect(delivered, `round ${round}: request landed first, so the releaser must see it`).to.equal(webhookId);
        requestFirst++;
      } else {
        expect(delivered, `round ${round}: release landed first, so nothing may be delivered`).to.equal(undefined);
        releaseFirst++;
      }
      expect((await store.get(key))?.rerunRequested, `round ${round}: no request left behind`).to.equal(undefined);
    }
    expect([...deliveries.values()].every((c) => c === 1), 'no trigger delivered twice').to.equal(true);
    expect(deliveries.size).to.equal(requestFirst);
    // Both orders must have happened, or this test proved nothing about the race.
    expect(requestFirst, 'rounds where the request won').to.be.greaterThan(0);
    expect(releaseFirst, 'rounds where the release won').to.be.greaterThan(0);
  });

  it('covers every one of several racing requesters, either by the follow-up or by running itself', async () => {
    let coveredByFollowUp = 0;
    for (let round = 0; round < 30; round++) {
      const holder = `ex_multi_${round}`;
      await store.acquireEntryLease(key, holder, LEASE_MS);
      const ids = ['a', 'b', 'c'].map((s) => `wh_${round}_${s}`);
      const [released, ...requests] = await Promise.all([
        jittered(6, () => store.releaseEntryLease(key, holder)),
        ...ids.map((id, i) => jittered(6, () => store.requestRerun(key, trigger(id), `ex_${round}_${i}`))),
      ]);
      const held = ids.filter((_, i) => requests[i]!.leaseHeld);
      if (held.length > 0) {
        // One follow-up for all of them, carrying one of their triggers.
        expect(held).to.include(released.rerunRequested?.webhookId);
        expect(released.coalesced).to.equal(held.length);
        coveredByFollowUp++;
      } else {
        expect(released.rerunRequested).to.equal(undefined);
      }
    }
    expect(coveredByFollowUp).to.be.greaterThan(0);
  });

  it('keeps the canvas id across leases, reruns and publications', async () => {
    const entry = await store.setCanvas(key, { canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1' });
    expect(entry).to.include({ canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1' });
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    await store.requestRerun(key, trigger('wh_1'), 'ex_1');
    await store.recordPublished(key, { executionId: 'ex_a', packageName: 'benchling/etr_1', topHash: 'abc', at: clock.now().toISOString() });
    await store.releaseEntryLease(key, 'ex_a');
    const after = await store.get(key);
    expect(after).to.include({ canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1' });
    expect(after?.lastPublished?.topHash).to.equal('abc');

    // A canvas set while an execution holds the entry leaves the lease alone.
    await store.acquireEntryLease(key, 'ex_b', LEASE_MS);
    await store.setCanvas(key, { canvasId: 'cnvs_2' });
    expect(await store.get(key)).to.include({ canvasId: 'cnvs_2', appId: 'app_1', leaseExecutionId: 'ex_b' });
  });

  it('records the newest publication and ignores an older one that arrives late', async () => {
    const older = { executionId: 'ex_1', packageName: 'benchling/etr', topHash: 'old', at: '2026-01-01T00:00:00.000Z' };
    const newer = { executionId: 'ex_2', packageName: 'benchling/etr', topHash: 'new', at: '2026-01-01T00:05:00.000Z' };
    expect(await store.recordPublished(key, newer)).to.equal(true);
    expect(await store.recordPublished(key, older)).to.equal(false);
    expect((await store.get(key))?.lastPublished).to.deep.equal(newer);
  });
});
