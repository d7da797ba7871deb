import { expect } from 'chai';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ExecutionRecord } from '@bp/shared';
import { packageNameFor } from '@bp/worker';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { checkRevisions } from '../support/faults/invariants.ts';
import { eventually } from '../support/faults/queues.ts';
import { printTable, seconds } from '../support/faults/report.ts';
import { WorkerPool } from '../support/faults/service-processes.ts';

/**
 * Export size. The brief's 1 GB takes ~45 s per transfer at fauxqs's ~20–25 MB/s, and each case
 * transfers once partly and once fully: several minutes. This size keeps each transfer to seconds
 * while still being far larger than one multipart part, so a signal lands mid-upload.
 */
const EXPORT_MB = Number(process.env.BP_SHUTDOWN_EXPORT_MB ?? 1000);
const GRACE_SECONDS = 3;

describe(`a worker stopped in the middle of a ${EXPORT_MB} MB transfer`, function () {
  this.timeout(240_000);
  let sys: RunningSystem;
  let pool: WorkerPool;

  before(async function () {
    this.timeout(60_000);
    sys = await startSystem({
      label: 'shutdown',
      workers: 0,
      visibilityTimeoutSeconds: 10,
      sim: { exportDelayMs: 200, rateLimit: { limit: 1_000_000, windowSeconds: 30 } },
    });
    pool = new WorkerPool({
      label: 'shutdown',
      env: {
        ...sys.env,
        LOG_LEVEL: 'info',
        HEARTBEAT_SECONDS: '3',
        WORKER_CONCURRENCY: '1',
        SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
      },
    });
  });
  after(async function () {
    this.timeout(60_000);
    await pool?.stopAll(10_000);
    await sys?.stop();
  });

  /**
   * Sends the webhook and resolves once the upload to S3 is underway: the export's small files are
   * in the bucket (they come first in the ZIP) and its three large ones are not all there yet.
   */
  async function transferUnderway(entryId: string): Promise<{ executionId: string; packageName: string }> {
    const r = await sys.send({ type: 'v2.entry.created', entryId });
    expect(r.status).to.equal(202);
    const executionId = String(r.json.executionId);
    const packageName = await eventually(
      'the simulator serving the entry',
      async () => {
        const e = sys.sim.state.entries.get(entryId);
        return e ? packageNameFor('benchling', e.displayId) : undefined;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
    await eventually(
      'the upload to S3 starting',
      async () => {
        const keys = await keysUnder(`${packageName}/attachments/data/`);
        if (keys.some((k) => k.includes('/large/')) && keys.filter((k) => k.includes('/large/')).length >= 3) {
          throw new Error('the transfer finished before the test could interrupt it: raise BP_SHUTDOWN_EXPORT_MB');
        }
        return keys.some((k) => k.includes('/small/')) ? true : undefined;
      },
      { timeoutMs: 180_000, everyMs: 100 },
    );
    return { executionId, packageName };
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const res = await sys.aws.s3.send(new ListObjectsV2Command({ Bucket: sys.env.PACKAGE_BUCKET, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!);
  }

  function attemptsOf(e: ExecutionRecord): string[] {
    return e.events.filter((ev) => ev.type === 'AttemptStarted').map((ev) => ev.detail ?? '');
  }

  it(`SIGTERM: hands the job back after ${GRACE_SECONDS} s grace, exits 0; a restarted worker resumes it with the one export`, async () => {
    const first = pool.start(1);
    await first.waitForLog('worker started');
    const entryId = `etr_big${EXPORT_MB}mb_sigterm`;
    const { executionId, packageName } = await transferUnderway(entryId);

    const signalled = Date.now();
    const code = await first.kill('SIGTERM', 30_000);
    const exitMs = Date.now() - signalled;
    const logs = await first.logLines();
    const handedBack = (await sys.executions.get(executionId))!;
    const leftUnderPrefix = await keysUnder(`${packageName}/`);

    const restarted = pool.start(1);
    const done = await sys.waitForExecution(executionId, { timeoutMs: 150_000 });
    const resumedMs = Date.parse(done.finishedAt!) - restarted.startedAt;
    const revisions = await checkRevisions(sys.aws.s3, sys.env.PACKAGE_BUCKET!);

    printTable(
      'SIGTERM during the transfer',
      ['what', 'value'],
      [
        ['exit code', String(code)],
        ['seconds from SIGTERM to exit', seconds(exitMs)],
        ['execution after the exit', `${handedBack.status}, step ${handedBack.step}, lease ${handedBack.leaseOwner ?? 'released'}`],
        ['objects left under the package prefix', leftUnderPrefix.length],
        ['restarted worker finished it in (s)', seconds(resumedMs)],
        ['exports started at Benchling', sys.sim.state.exportsStartedFor(entryId)],
        ['attempts', attemptsOf(done).join(' | ')],
      ],
    );
    expect(code).to.equal(0);
    // The hand-back (abort, roll back, record, release) happens inside the grace period too.
    expect(exitMs, 'exit within the grace period').to.be.below(GRACE_SECONDS * 1000);
    expect(logs.some((l) => l.message === 'grace period over: handing in-flight jobs back')).to.equal(true);
    expect(logs.at(-1)?.message).to.equal('stopped');
    expect(handedBack.status).to.equal('RUNNING');
    expect(handedBack.leaseOwner, 'lease released for the next worker').to.equal(undefined);
    expect(handedBack.events.at(-1)).to.deep.include({ type: 'StepFailed', step: 'transfer' });
    expect(handedBack.events.at(-1)!.detail).to.match(/worker shutting down/);
    expect(leftUnderPrefix, 'the interrupted transfer rolled back its files').to.deep.equal([]);
    expect(done.status).to.equal('SUCCEEDED');
    // The attempts before the signal (the export may have been polled again after a requeue) were
    // all the first worker's; after it, exactly one, the restarted worker's, which finished.
    const attempts = attemptsOf(done);
    expect(attempts.at(-1)).to.equal(`worker ${restarted.id}`);
    expect(attempts.slice(0, -1).every((a) => a === `worker ${first.id}`)).to.equal(true);
    expect(done.events.filter((ev) => /worker shutting down/.test(ev.detail ?? ''))).to.have.length(1);
    expect(sys.sim.state.exportsStartedFor(entryId), 'resumed from the checkpoint, not restarted').to.equal(1);
    expect(revisions.problems).to.deep.equal([]);
  });

  it('SIGKILL: nothing is lost either; the lease lapses and another worker completes the job', async () => {
    // Slot 1 holds the worker restarted above; it alone is running when the job arrives.
    const victim = pool.get(1)!;
    const entryId = `etr_big${EXPORT_MB}mb_sigkill`;
    const { executionId } = await transferUnderway(entryId);
    const rescuer = pool.start(2);
    await rescuer.waitForLog('worker started');

    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const done = await sys.waitForExecution(executionId, { timeoutMs: 150_000 });
    const attempts = attemptsOf(done);
    const revisions = await checkRevisions(sys.aws.s3, sys.env.PACKAGE_BUCKET!);

    printTable(
      'SIGKILL during the transfer',
      ['what', 'value'],
      [
        ['killed worker exit', `signal ${victim.proc.child.signalCode}`],
        ['seconds from the kill to SUCCEEDED', seconds(Date.parse(done.finishedAt!) - killedAt)],
        ['exports started at Benchling', sys.sim.state.exportsStartedFor(entryId)],
        ['attempts', attempts.join(' | ')],
      ],
    );
    expect(victim.proc.child.signalCode).to.equal('SIGKILL');
    expect(done.status).to.equal('SUCCEEDED');
    expect(attempts.at(-1)).to.match(new RegExp(`^worker ${rescuer.id} \\(took over from ${victim.id}, lease lapsed\\)`));
    expect(sys.sim.state.exportsStartedFor(entryId)).to.equal(1);
    expect(revisions.problems).to.deep.equal([]);
  });
});
