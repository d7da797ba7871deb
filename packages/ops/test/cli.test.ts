import { expect } from 'chai';
import { type JobMessage, newQueuedExecution } from '@bp/shared';
import { EXIT, type OpsDeps, runCli } from '../src/index.ts';
import { deadLetteredJob, drain, jobFor, opsStack, runOps } from './support.ts';

/** Runs the CLI in-process with captured output (same code path as the bin, minus process start-up). */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), user: 'test' });
  return { code, stdout, stderr };
}

describe('ops CLI: executions, queues, repackage, exit codes', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let deps: OpsDeps & { destroy(): void };
  let failedId: string;

  before(async () => {
    ({ env, deps } = await opsStack('cli'));
    failedId = await deadLetteredJob(deps, {
      entryId: 'etr_cli_broken',
      errorClass: 'BenchlingNotFound',
      message: 'entry etr_cli_broken not found',
    });
  });
  after(() => deps.destroy());

  it('shows a failing entry in `executions list --status FAILED` with its reason (CLI run as a process)', async () => {
    const r = await runOps(['executions', 'list', '--status', 'FAILED'], env);
    expect(r.code, r.stderr).to.equal(EXIT.ok);
    const row = r.stdout.split('\n').find((l) => l.includes(failedId));
    expect(row, r.stdout).to.not.equal(undefined);
    expect(row).to.include('FAILED').and.include('etr_cli_broken').and.include('BenchlingNotFound: entry etr_cli_broken not found');
  });

  it('prints the same rows as JSON with --json, for scripts', async () => {
    const r = await cli(['executions', 'list', '--status', 'failed', '--json'], env);
    expect(r.code).to.equal(EXIT.ok);
    const rows = JSON.parse(r.stdout) as Array<{ executionId: string; lastError: string; status: string }>;
    expect(rows.map((x) => x.executionId)).to.include(failedId);
    expect(rows.find((x) => x.executionId === failedId)).to.include({
      status: 'FAILED',
      lastError: 'BenchlingNotFound: entry etr_cli_broken not found',
    });
  });

  it('shows one execution with its steps, attempts, errors, history and package link', async () => {
    const id = `ex_show_${Date.now().toString(36)}`;
    const job = jobFor(id, 'etr_cli_done');
    await deps.executions.create(
      newQueuedExecution({
        executionId: id,
        tenantId: job.tenantId,
        kind: job.kind,
        entryId: job.entryId,
        trigger: job.trigger,
        now: new Date(),
      }),
    );
    await deps.executions.beginAttempt(id, { workerId: 'w1', leaseMs: 30_000 });
    await deps.executions.recordStepStart(id, 'w1', 'fetch-entry');
    await deps.executions.recordRetry(id, 'w1', 'fetch-entry', { class: 'BenchlingUnavailable', message: 'HTTP 503' });
    await deps.executions.beginAttempt(id, { workerId: 'w2', leaseMs: 30_000 });
    for (const step of ['fetch-entry', 'start-export', 'await-export', 'transfer', 'write-metadata', 'publish', 'update-canvas']) {
      await deps.executions.recordStepStart(id, 'w2', step);
      const output =
        step === 'publish'
          ? { mode: 'direct', packageName: 'benchling/EXP42', topHash: 'a'.repeat(64), publishedAt: new Date().toISOString() }
          : { ok: true };
      await deps.executions.checkpoint(id, 'w2', step, output);
    }
    await deps.executions.succeed(id, 'w2');

    const human = await cli(['executions', 'show', id], env);
    expect(human.code, human.stderr).to.equal(EXIT.ok);
    expect(human.stdout)
      .to.include('SUCCEEDED')
      .and.include(`quilt+s3://${env.PACKAGE_BUCKET}#package=benchling/EXP42@${'a'.repeat(64)}`);
    expect(human.stdout).to.include('BenchlingUnavailable: HTTP 503');
    const json = JSON.parse((await cli(['--json', 'executions', 'show', id], env)).stdout) as {
      steps: Array<{ step: string; state: string; starts: number }>;
      errors: Array<{ step: string; detail: string }>;
      execution: { attempts: number };
      package: { name: string };
    };
    expect(json.execution.attempts).to.equal(2);
    expect(json.steps.map((s) => s.state)).to.deep.equal(Array(7).fill('done'));
    expect(json.steps.find((s) => s.step === 'fetch-entry')!.starts).to.equal(2);
    expect(json.errors).to.have.length(1);
    expect(json.errors[0]).to.deep.include({ step: 'fetch-entry' });
    expect(json.package.name).to.equal('benchling/EXP42');
  });

  it('shows queue depths, in-flight counts and the DLQ’s oldest message age', async () => {
    const r = await cli(['queues', '--json'], env);
    expect(r.code).to.equal(EXIT.ok);
    const [jobs, dlq] = JSON.parse(r.stdout) as Array<{ queue: string; visible: number; oldestAgeSeconds: number | null }>;
    expect(jobs!.queue).to.equal('jobs');
    expect(dlq).to.include({ queue: 'dlq', visible: 1 });
    expect(dlq!.oldestAgeSeconds).to.be.a('number').and.to.be.at.least(0);
  });

  it('repackages an entry on demand: a QUEUED execution and its job message, like the ingress', async () => {
    const r = await cli(['--json', 'repackage', 'etr_cli_again', '--tenant', 'ten_ops', '--base-url', 'https://acme.benchling.com/'], env);
    expect(r.code, r.stderr).to.equal(EXIT.ok);
    const { executionId } = JSON.parse(r.stdout) as { executionId: string };
    const rec = await deps.executions.get(executionId);
    expect(rec).to.deep.include({ status: 'QUEUED', entryId: 'etr_cli_again', tenantId: 'ten_ops' });
    expect(rec!.trigger).to.include({ type: 'ops.repackage', userId: 'test' });
    const [body] = await drain(deps.sqs, deps.names.jobsQueueUrl);
    const job = JSON.parse(body!) as JobMessage;
    expect(job).to.deep.include({ executionId, kind: 'entry.package', entryId: 'etr_cli_again', baseURL: 'https://acme.benchling.com' });
    expect(job.trigger.webhookId).to.match(/^ops:/);
  });

  it('exits 3 for an execution that does not exist, 2 for bad usage or missing configuration', async () => {
    const missing = await runOps(['executions', 'show', 'ex_does_not_exist'], env);
    expect(missing.code).to.equal(EXIT.notFound);
    expect(missing.stderr).to.match(/does not exist/);
    expect((await cli(['executions', 'list', '--status', 'BOGUS'], env)).code).to.equal(EXIT.usage);
    expect((await cli(['executions', 'list', '--since', 'yesterday-ish'], env)).code).to.equal(EXIT.usage);
    expect((await cli(['dlq', 'replay'], env)).code, 'no filter').to.equal(EXIT.usage);
    expect((await cli(['repackage', 'etr_x'], env)).code, 'no tenant').to.equal(EXIT.usage);
    const { JOBS_QUEUE_URL: _omit, ...noQueue } = env;
    const noConfig = await cli(['queues'], noQueue);
    expect(noConfig.code).to.equal(EXIT.usage);
    expect(noConfig.stderr).to.match(/JOBS_QUEUE_URL is required/);
    expect((await cli(['--help'], env)).code).to.equal(EXIT.ok);
  });
});
