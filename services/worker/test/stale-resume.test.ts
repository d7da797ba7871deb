import { expect } from 'chai';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { entryKey, type JobMessage } from '@bp/shared';
import { latestPointerKey } from '@bp/shared/quilt/index';
import { handleJob } from '../src/index.ts';
import type { Published } from '../src/steps/publish.ts';
import { useWorker } from './support/worker-suite.ts';

const TENANT = 'ten_stale';

/**
 * A run whose worker died after reading the entry resumes once its leases lapse. If a later run
 * has read and published the entry meanwhile, the resumed run holds an older state: it must not
 * publish it (nor write it under the package prefix). The chaos suite found this.
 * Against fauxqs, DynamoDB Local and the Benchling simulator.
 */
describe('a run resumed after a later run published the entry', function () {
  this.timeout(60_000);
  const suite = useWorker('stale', { sim: { exportDelayMs: 0, tenantId: TENANT } });

  const queuedJob = (entryId: string, webhookId: string, receivedAt: Date): Promise<JobMessage> =>
    suite.queuedJob({
      tenantId: TENANT,
      entryId,
      trigger: { webhookId, type: 'v2.entry.updated.fields', updates: ['fields.Name'] },
      receivedAt,
    });

  it("is superseded: latest stays the later run's revision, and the entry is released", async () => {
    const entryId = 'etr_stale_resume_1';
    const key = entryKey(TENANT, entryId);
    const readAt = new Date(Date.now() - 60_000);
    // Run A read the entry a minute ago, then its worker died: both its leases lapse at once.
    const a = await queuedJob(entryId, 'wh_stale_a', new Date(readAt.getTime() - 1000));
    await suite.deps.executions.beginAttempt(a.executionId, { workerId: 'stale-w1', leaseMs: 100 });
    const snapshot = await suite.deps.benchlingFor(a).getEntry(entryId);
    await suite.deps.executions.checkpoint(a.executionId, 'stale-w1', 'fetch-entry', {
      id: snapshot.id,
      displayId: snapshot.displayId,
      name: snapshot.name,
      fetchedAt: readAt.toISOString(),
    });
    expect((await suite.deps.entries.acquireEntryLease(key, a.executionId, 100)).acquired).to.equal(true);
    await new Promise((r) => setTimeout(r, 200));

    // Run B, for a later webhook, takes the lapsed entry and publishes it.
    const b = await queuedJob(entryId, 'wh_stale_b', new Date());
    expect(await handleJob(suite.deps, JSON.stringify(b), 1, new AbortController().signal)).to.deep.equal({ action: 'done' });
    const bDone = await suite.deps.executions.get(b.executionId);
    expect(bDone?.status).to.equal('SUCCEEDED');
    const published = bDone!.outputs.publish as Published;

    // A's message comes back: it takes its execution over and finds B's publish newer than its read.
    expect(await handleJob(suite.deps, JSON.stringify(a), 2, new AbortController().signal)).to.deep.equal({ action: 'done' });
    const aDone = await suite.deps.executions.get(a.executionId);
    expect(aDone?.status).to.equal('SUPERSEDED');
    expect(aDone!.outputs.publish, 'A published nothing').to.equal(undefined);
    expect(aDone!.events.at(-1)?.detail).to.include(b.executionId);
    const entry = await suite.deps.entries.get(key);
    expect(entry?.lastPublished?.executionId).to.equal(b.executionId);
    expect(entry?.leaseExecutionId, 'the entry is free again').to.equal(undefined);
    const latest = await suite.aws.s3.send(
      new GetObjectCommand({ Bucket: suite.deps.config.names.bucket, Key: latestPointerKey(published.packageName) }),
    );
    expect((await latest.Body!.transformToString()).trim()).to.equal(published.topHash);
  });
});
