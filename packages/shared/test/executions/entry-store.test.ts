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
    expect(await store.acquireEntryLease(key, 'ex_a', LEASE_MS)).to.deep.equal({
      acquired: true,
      expiresAt: clock.now().getTime() + LEASE_MS,
    });
    expect(await store.acquireEntryLease(key, 'ex_b', LEASE_MS)).to.deep.equal({
      acquired: false,
      heldBy: 'ex_a',
      expiresAt: clock.now().getTime() + LEASE_MS,
    });
    clock.advance(1000);
    expect((await store.acquireEntryLease(key, 'ex_a', LEASE_MS)).acquired).to.equal(true);
    clock.advance(LEASE_MS);
    expect(await store.acquireEntryLease(key, 'ex_b', LEASE_MS)).to.deep.equal({
      acquired: true,
      expiresAt: clock.now().getTime() + LEASE_MS,
    });
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

  it('passes the lease and the latest trigger requested while it was held to one follow-up, exactly once', async () => {
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    expect(await store.requestRerun(key, trigger('wh_1'), 'ex_1')).to.deep.equal({
      leaseHeld: true,
      heldBy: 'ex_a',
      expiresAt: clock.now().getTime() + LEASE_MS,
    });
    expect((await store.requestRerun(key, trigger('wh_2'), 'ex_2')).leaseHeld).to.equal(true);
    const ended = await store.handOffEntryLease(key, 'ex_a', 'ex_f', LEASE_MS);
    expect(ended).to.deep.include({ outcome: 'handedOff', to: 'ex_f', coalesced: 2 });
    expect((ended as { trigger: Trigger }).trigger.webhookId).to.equal('wh_2');
    expect(await store.get(key)).to.deep.include({
      leaseExecutionId: 'ex_f',
      leaseExpiresAt: clock.now().getTime() + LEASE_MS,
      handoffFrom: 'ex_a',
      handoffTo: 'ex_f',
    });
    expect((await store.get(key))?.rerunRequested, 'the request is taken as it is handed on').to.equal(undefined);
    // Handed off: the old holder ending again (a redelivery) is told about the same follow-up, never a new one.
    const again = await store.handOffEntryLease(key, 'ex_a', 'ex_other', LEASE_MS);
    expect(again.outcome).to.equal('notHeld');
    expect((again as { pendingHandoff?: { to: string; trigger: Trigger } }).pendingHandoff).to.deep.include({ to: 'ex_f' });
    expect((again as { pendingHandoff: { trigger: Trigger } }).pendingHandoff.trigger.webhookId).to.equal('wh_2');
    // The follow-up does not inherit the request: it releases, and then the old holder is told nothing.
    expect(await store.handOffEntryLease(key, 'ex_f', 'ex_g', LEASE_MS)).to.deep.equal({ outcome: 'released' });
    expect(await store.handOffEntryLease(key, 'ex_a', 'ex_other', LEASE_MS)).to.deep.equal({ outcome: 'notHeld' });
    expect((await store.get(key))?.leaseExecutionId).to.equal(undefined);
  });

  it('tells a trigger for a free or lapsed entry to run itself, and records nothing', async () => {
    expect(await store.requestRerun(key, trigger('wh_free'), 'ex_1')).to.deep.equal({ leaseHeld: false });
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    clock.advance(LEASE_MS);
    expect(await store.requestRerun(key, trigger('wh_lapsed'), 'ex_2')).to.deep.equal({ leaseHeld: false });
    expect((await store.get(key))?.rerunRequested).to.equal(undefined);
    expect(await store.handOffEntryLease(key, 'ex_a', 'ex_f', LEASE_MS)).to.deep.equal({ outcome: 'released' });
  });

  it('keeps a rerun request for the next holder when the old holder lost its lapsed lease', async () => {
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    await store.requestRerun(key, trigger('wh_1'), 'ex_1');
    clock.advance(LEASE_MS);
    await store.acquireEntryLease(key, 'ex_b', LEASE_MS);
    expect(await store.handOffEntryLease(key, 'ex_a', 'ex_fa', LEASE_MS)).to.deep.equal({ outcome: 'notHeld' });
    expect((await store.get(key))?.leaseExecutionId, 'the hand-off left the new holder alone').to.equal('ex_b');
    const ended = await store.handOffEntryLease(key, 'ex_b', 'ex_fb', LEASE_MS);
    expect(ended).to.deep.include({ outcome: 'handedOff', to: 'ex_fb', coalesced: 1 });
    expect((ended as { trigger: Trigger }).trigger.webhookId).to.equal('wh_1');
  });

  it('never loses or duplicates a rerun request that races the hand-off (50 rounds)', async () => {
    const deliveries = new Map<string, number>();
    let requestFirst = 0;
    let handOffFirst = 0;
    for (let round = 0; round < 50; round++) {
      const holder = `ex_holder_${round}`;
      const followUp = `ex_follow_${round}`;
      expect((await store.acquireEntryLease(key, holder, LEASE_MS)).acquired).to.equal(true);
      const webhookId = `wh_${round}`;
      const [ended, requested] = await Promise.all([
        jittered(5, () => store.handOffEntryLease(key, holder, followUp, LEASE_MS)),
        jittered(5, () => store.requestRerun(key, trigger(webhookId), `ex_req_${round}`)),
      ]);
      expect(ended.outcome, `round ${round}: the holder always ends its own hold`).to.not.equal('notHeld');
      const delivered = ended.outcome === 'handedOff' ? ended.trigger.webhookId : undefined;
      if (delivered) deliveries.set(delivered, (deliveries.get(delivered) ?? 0) + 1);
      // Exactly one side takes responsibility: the holder hands off to a follow-up, or the requester runs itself.
      if (requested.leaseHeld) {
        expect(requested.heldBy, `round ${round}: the request found the holder`).to.equal(holder);
        expect(delivered, `round ${round}: request landed first, so the hand-off must carry it`).to.equal(webhookId);
        expect((await store.get(key))?.leaseExecutionId, `round ${round}: the follow-up holds the entry`).to.equal(followUp);
        // The follow-up finishes: nothing was coalesced into it, so it releases.
        expect(await store.handOffEntryLease(key, followUp, `ex_next_${round}`, LEASE_MS)).to.deep.equal({ outcome: 'released' });
        requestFirst++;
      } else {
        expect(ended, `round ${round}: hand-off landed first, so it released and delivered nothing`).to.deep.equal({ outcome: 'released' });
        handOffFirst++;
      }
      const after = await store.get(key);
      expect(after?.rerunRequested, `round ${round}: no request left behind`).to.equal(undefined);
      expect(after?.leaseExecutionId, `round ${round}: the entry is free again`).to.equal(undefined);
    }
    expect(
      [...deliveries.values()].every((c) => c === 1),
      'no trigger delivered twice',
    ).to.equal(true);
    expect(deliveries.size).to.equal(requestFirst);
    // Both orders must have happened, or this test proved nothing about the race.
    expect(requestFirst, 'rounds where the request won').to.be.greaterThan(0);
    expect(handOffFirst, 'rounds where the hand-off won').to.be.greaterThan(0);
  });

  it('covers every racing requester: by the hand-off it landed before, the follow-up it landed on, or by running itself', async () => {
    let coveredByHandOff = 0;
    let ranThemselves = 0;
    for (let round = 0; round < 30; round++) {
      const holder = `ex_multi_${round}`;
      const followUp = `ex_multi_f_${round}`;
      await store.acquireEntryLease(key, holder, LEASE_MS);
      const ids = ['a', 'b', 'c'].map((s) => `wh_${round}_${s}`);
      const [ended, ...requests] = await Promise.all([
        jittered(6, () => store.handOffEntryLease(key, holder, followUp, LEASE_MS)),
        ...ids.map((id, i) => jittered(6, () => store.requestRerun(key, trigger(id), `ex_${round}_${i}`))),
      ]);
      const heldBy = (who: string) => ids.filter((_, i) => requests[i]!.leaseHeld && (requests[i] as { heldBy: string }).heldBy === who);
      const onHolder = heldBy(holder);
      const onFollowUp = heldBy(followUp);
      // Every requester told "held" found the holder or its follow-up; nobody else ever held the entry.
      expect(onHolder.length + onFollowUp.length, `round ${round}`).to.equal(requests.filter((r) => r.leaseHeld).length);
      if (onHolder.length > 0) {
        // One follow-up for all that landed on the holder, carrying one of their triggers.
        expect(ended.outcome).to.equal('handedOff');
        if (ended.outcome !== 'handedOff') continue;
        expect(onHolder).to.include(ended.trigger.webhookId);
        expect(ended.coalesced).to.equal(onHolder.length);
        coveredByHandOff++;
        // Requests that landed after the hand-off wait on the follow-up, which starts one more run for them when it ends.
        const next = await store.handOffEntryLease(key, followUp, `ex_multi_g_${round}`, LEASE_MS);
        if (onFollowUp.length > 0) {
          expect(next.outcome).to.equal('handedOff');
          if (next.outcome !== 'handedOff') continue;
          expect(onFollowUp).to.include(next.trigger.webhookId);
          expect(next.coalesced).to.equal(onFollowUp.length);
          expect(await store.handOffEntryLease(key, `ex_multi_g_${round}`, `ex_multi_h_${round}`, LEASE_MS)).to.deep.equal({
            outcome: 'released',
          });
        } else {
          expect(next).to.deep.equal({ outcome: 'released' });
        }
      } else {
        // Released before any request landed: each of them runs itself.
        expect(ended).to.deep.equal({ outcome: 'released' });
        expect(onFollowUp).to.deep.equal([]);
        ranThemselves++;
      }
      expect((await store.get(key))?.leaseExecutionId, `round ${round}: the entry is free again`).to.equal(undefined);
    }
    expect(coveredByHandOff, 'rounds where requests landed before the hand-off').to.be.greaterThan(0);
    expect(ranThemselves, 'rounds where the hand-off released first').to.be.greaterThan(0);
    expect(coveredByHandOff + ranThemselves).to.equal(30);
  });

  it('keeps the canvas id across leases, hand-offs and publications', async () => {
    const entry = await store.setCanvas(key, { canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1' });
    expect(entry).to.include({ canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1' });
    await store.acquireEntryLease(key, 'ex_a', LEASE_MS);
    await store.requestRerun(key, trigger('wh_1'), 'ex_1');
    await store.recordPublished(key, {
      executionId: 'ex_a',
      packageName: 'benchling/etr_1',
      topHash: 'abc',
      at: clock.now().toISOString(),
    });
    expect((await store.handOffEntryLease(key, 'ex_a', 'ex_f', LEASE_MS)).outcome).to.equal('handedOff');
    expect(await store.get(key)).to.include({ canvasId: 'cnvs_1', appId: 'app_1', featureId: 'feat_1', leaseExecutionId: 'ex_f' });
    expect(await store.handOffEntryLease(key, 'ex_f', 'ex_g', LEASE_MS)).to.deep.equal({ outcome: 'released' });
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
