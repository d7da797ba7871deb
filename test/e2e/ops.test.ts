import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processMetrics } from '@bp/shared/metrics/index';
import { packageNameFor } from '@bp/worker';
import { type RunningSystem, startSystem } from '../support/system.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OPS_BIN = path.join(root, 'packages/ops/bin/ops.js');

/** Runs the ops CLI as an operator would, as its own process, against the system's environment. */
function ops(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPS_BIN, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function counter(series: string): Promise<number> {
  const line = (await processMetrics().text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function dlqVisible(sys: RunningSystem): Promise<number> {
  const r = await ops(['--json', 'queues'], sys.env);
  return (JSON.parse(r.stdout) as Array<{ queue: string; visible: number }>).find((q) => q.queue === 'dlq')!.visible;
}

describe('operators recover a poison message: peek, dry run, fix, replay, success', function () {
  this.timeout(150_000);
  let sys: RunningSystem;
  const entryId = 'etr_poison_ops';

  before(async () => {
    // One receive before the DLQ, so the poison message gets there after one attempt (~10 s of in-process retries).
    sys = await startSystem({ label: 'ops', maxReceiveCount: 1, sim: { rateLimit: { limit: 10_000, windowSeconds: 30 } } });
  });
  after(async () => sys?.stop());

  it('replays a dead-lettered job after the fault is fixed, and its execution then succeeds', async () => {
    const failedBefore = await counter('bp_executions_finished_total{kind="entry.package",status="FAILED"}');
    const deadBefore = await counter('bp_dlq_messages_total{direction="dead_lettered",reason="max_receives"}');
    // Benchling answers 503 for this entry until the fault is lifted.
    const fault = sys.sim.faults.add({ path: `/entries/${entryId}$`, method: 'GET', status: 503 });
    const sent = await sys.send({ type: 'v2.entry.created', entryId });
    expect(sent.status).to.equal(202);
    const executionId = String(sent.json.executionId);
    const failed = await sys.waitForExecution(executionId, { timeoutMs: 60_000 });
    expect(failed.status).to.equal('FAILED');
    expect(failed.lastError).to.include({ step: 'fetch-entry', class: 'BenchlingUnavailable' });
    const deadline = Date.now() + 30_000;
    while ((await dlqVisible(sys)) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));

    // 1. The failure is visible: in the FAILED list with its reason, and on the DLQ with its last error.
    const list = await ops(['executions', 'list', '--status', 'FAILED'], sys.env);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout.split('\n').find((l) => l.includes(executionId)))
      .to.include(entryId)
      .and.include('BenchlingUnavailable');
    const peek = await ops(['--json', 'dlq', 'peek'], sys.env);
    expect(peek.code, peek.stderr).to.equal(0);
    const peeked = JSON.parse(peek.stdout) as Array<{
      executionId: string;
      executionStatus: string;
      lastError: { class: string; message: string };
    }>;
    expect(peeked).to.have.length(1);
    expect(peeked[0]).to.deep.include({ executionId, executionStatus: 'FAILED' });
    expect(peeked[0]!.lastError.message).to.match(/gave up after 1 attempts/);

    // 2. A dry run moves nothing.
    const dry = await ops(['dlq', 'replay', '--all', '--dry-run'], sys.env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(/^dry run: would move 1 of 1 matching/);
    expect(await dlqVisible(sys)).to.equal(1);
    expect((await sys.executions.get(executionId))!.status).to.equal('FAILED');

    // 3. Fix the cause, replay for real: the execution is reopened, runs again and succeeds.
    sys.sim.faults.remove(fault.id);
    const replay = await ops(['dlq', 'replay', '--execution', executionId, '--rate', '10/s'], sys.env);
    expect(replay.code, replay.stderr).to.equal(0);
    expect(replay.stdout).to.match(/^moved 1 of 1 matching/);
    expect(replay.stderr).to.include(`moved ${executionId} (${entryId})`);
    const done = await sys.waitForExecution(executionId, { statuses: ['SUCCEEDED'], timeoutMs: 60_000 });
    expect(done.attempts).to.equal(2);
    expect(done.events.map((e) => e.type)).to.include.members(['Failed', 'Reopened', 'Succeeded']);
    const entry = sys.sim.state.entries.get(entryId)!;
    expect(await sys.latest(packageNameFor('benchling', entry.displayId)), 'the package exists').to.not.equal(undefined);
    expect(await dlqVisible(sys)).to.equal(0);

    // 4. `executions show` tells the whole story, with the package link.
    const show = await ops(['executions', 'show', executionId], sys.env);
    expect(show.stdout)
      .to.include('SUCCEEDED')
      .and.include('Reopened')
      .and.include(`quilt+s3://${sys.env.PACKAGE_BUCKET}#package=benchling/`);

    // The worker counted the failure and the move to the DLQ in the process metrics.
    expect(await counter('bp_executions_finished_total{kind="entry.package",status="FAILED"}')).to.equal(failedBefore + 1);
    expect(await counter('bp_dlq_messages_total{direction="dead_lettered",reason="max_receives"}')).to.equal(deadBefore + 1);
  });
});
