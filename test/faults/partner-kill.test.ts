import { expect } from 'chai';
import { partnerFileUrl, runFileSha256 } from '@bp/benchling-sim/partner-files';
import type { ExecutionRecord } from '@bp/shared';
import { runPackageName } from '@bp/worker/partner/index';
import { enqueuePartnerJob, partnerJob, policyFor } from '../../services/worker/test/support/partner-jobs.ts';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { printTable, seconds } from '../support/faults/report.ts';
import { WorkerPool } from '../support/faults/service-processes.ts';

const RUNS = 3;
/** The large file of each run: big enough that a kill lands mid-transfer on a loaded machine. */
const BIG_BYTES = Number(process.env.BP_PARTNER_KILL_MB ?? 96) * 1024 * 1024;
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'SUPERSEDED']);

describe('faults: worker processes SIGKILLed during partner run transfers', function () {
  this.timeout(400_000);
  let sys: RunningSystem;
  let pool: WorkerPool;

  before(async function () {
    this.timeout(60_000);
    sys = await startSystem({ label: 'partnerkill', workers: 0, visibilityTimeoutSeconds: 10, maxReceiveCount: 6 });
    pool = new WorkerPool({
      label: 'partnerkill',
      env: { ...sys.env, LOG_LEVEL: 'info', HEARTBEAT_SECONDS: '3', WORKER_CONCURRENCY: '2', SHUTDOWN_GRACE_SECONDS: '3' },
    });
    await Promise.all([pool.start(1), pool.start(2)].map((w) => w.waitForLog('worker started', 45_000)));
  });
  after(async function () {
    this.timeout(60_000);
    await pool?.stopAll(10_000);
    await sys?.stop();
  });

  it('completes every acknowledged sequencing.complete event with every file whole, whatever the kills cut', async () => {
    const t0 = Date.now();
    const base = sys.sim.url;
    const runs = Array.from({ length: RUNS }, (_, i) => `KILL-RUN-${i}-${Date.now().toString(36)}`);
    const expected = new Map<string, Array<{ path: string; size: number; sha256: string }>>();
    const jobs = [];
    for (const runId of runs) {
      const files = [
        { path: 'reads/big.fastq.gz', size: BIG_BYTES },
        { path: 'reads/small.fastq.gz', size: 5 * 1024 * 1024 + 3 },
        { path: 'SampleSheet.csv', size: 777 },
      ].map((f) => ({ ...f, sha256: runFileSha256(runId, f.path, f.size) }));
      expected.set(runId, files);
      const job = await partnerJob(sys.executions, {
        event: {
          type: 'sequencing.complete',
          run: { id: runId },
          files: files.map((f) => ({ ...f, url: partnerFileUrl(base, runId, f.path, f.size) })),
        },
        policy: policyFor(base, { maxRetries: 6 }),
      });
      await enqueuePartnerJob(sys.aws.sqs, sys.env.JOBS_QUEUE_URL!, job);
      jobs.push(job);
    }

    // Whenever a worker is streaming a run's files, SIGKILL it (once per event) and restart its slot.
    const killedDuring = new Set<string>();
    let kills = 0;
    const deadline = Date.now() + 300_000;
    let records: ExecutionRecord[] = [];
    while (Date.now() < deadline) {
      records = (await Promise.all(jobs.map((j) => sys.executions.get(j.executionId)))).filter(
        (r): r is ExecutionRecord => r !== undefined,
      );
      if (records.length === jobs.length && records.every((r) => FINAL.has(r.status))) break;
      for (const r of records) {
        if (r.status !== 'RUNNING' || r.step !== 'fetch-files' || !r.leaseOwner || killedDuring.has(r.executionId)) continue;
        const slot = pool.liveSlots().find((s) => pool.get(s)!.id === r.leaseOwner);
        if (slot === undefined) continue;
        killedDuring.add(r.executionId);
        await pool.get(slot)!.kill('SIGKILL');
        kills++;
        pool.start(slot);
      }
      await new Promise((res) => setTimeout(res, 250));
    }

    const rows: Array<[string, string | number]> = records.map((r) => [
      r.runId ?? r.executionId,
      `${r.status}, ${r.attempts} attempts${killedDuring.has(r.executionId) ? ', killed mid-transfer' : ''}`,
    ]);
    printTable(
      'partner transfers under SIGKILL',
      ['run', 'outcome'],
      [...rows, ['SIGKILLs', kills], ['seconds', seconds(Date.now() - t0)]],
    );
    expect(kills, 'kills landed during transfers').to.be.at.least(1);
    expect(records.map((r) => [r.runId, r.status, r.lastError?.message])).to.deep.equal(
      runs.map((runId) => [runId, 'SUCCEEDED', records.find((r) => r.runId === runId)?.lastError?.message]),
    );
    for (const runId of runs) {
      const latest = await sys.latest(runPackageName('illumina', runId));
      const byKey = new Map((latest?.entries ?? []).map((e) => [e.logicalKey, e]));
      for (const f of expected.get(runId)!) {
        const e = byKey.get(`data/${f.path}`);
        expect(e, `${runId} ${f.path} in the package`).to.not.equal(undefined);
        expect([e!.size, e!.meta.sha256]).to.deep.equal([f.size, f.sha256]);
      }
    }
    for (const r of records.filter((x) => killedDuring.has(x.executionId))) {
      expect(
        r.events.some((ev) => ev.type === 'AttemptStarted' && /took over|worker/.test(ev.detail ?? '')) && r.attempts >= 2,
        `${r.runId} resumed by another attempt`,
      ).to.equal(true);
    }
  });
});
