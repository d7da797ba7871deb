import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { generateEntry, serviceEnvFor, type Simulator, startSimulator } from '@bp/benchling-sim';
import { isolatedEnv } from '@bp/local-stack/testing';
import {
  type AwsClients,
  awsOptionsFromEnv,
  createAwsClients,
  createLogger,
  type ExecutionRecord,
  type JobMessage,
  newExecutionId,
  newQueuedExecution,
} from '@bp/shared';
import { readLatest } from '@bp/shared/quilt/index';
import { buildWorkerDeps, packageNameFor, workerConfigFromEnv, type WorkerDeps } from '../src/index.ts';
import { receiveThroughPolls } from './support/worker-suite.ts';
import { ExportServer } from './transfer/support/export-server.ts';
import { buildZip, type ZipEntrySpec } from './transfer/support/zip-builder.ts';

/**
 * Issue 13, items 1, 5 and 9, on real servers: two Benchling simulators as two tenants, DynamoDB
 * Local and fauxqs. One deployment serves both (BENCHLING_TENANTS), each under its own prefix.
 */
describe('tenants, package names and export file names', function () {
  this.timeout(120_000);
  let simA: Simulator;
  let simB: Simulator;
  let aws: AwsClients;
  let deps: WorkerDeps;
  /** The same worker publishing through the packaging engine's queue (QUILT_PUBLISH=queue). */
  let queueDeps: WorkerDeps;
  let bucket: string;
  const exports = new ExportServer();
  let n = 0;

  before(async function () {
    this.timeout(60_000);
    simA = await startSimulator({ tenantId: 'ten_A', exportDelayMs: 0 });
    simB = await startSimulator({ tenantId: 'ten_B', exportDelayMs: 0 });
    const env = {
      ...(await isolatedEnv('tenants')),
      ...serviceEnvFor(simA),
      BENCHLING_TENANTS: `ten_A=${simA.url},ten_B=${simB.url}=lab-b`,
      WORKER_ID: 'tenants-worker',
    };
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 3 }));
    deps = await buildWorkerDeps(
      workerConfigFromEnv(env),
      aws,
      createLogger({ service: 'test', level: process.env.BP_TEST_LOG_LEVEL || 'silent' }),
    );
    queueDeps = await buildWorkerDeps(workerConfigFromEnv({ ...env, QUILT_PUBLISH: 'queue' }), aws, deps.logger);
    bucket = deps.config.names.bucket;
    await exports.start();
  });
  after(async () => {
    aws?.destroy();
    await simA?.close();
    await simB?.close();
    await exports.stop();
  });

  /** Gives `entryId` of `sim` the display id `displayId` (Benchling shows it; the simulator derives one otherwise). */
  const withDisplayId = (sim: Simulator, entryId: string, displayId: string) =>
    sim.state.entries.set(entryId, { ...generateEntry(entryId), displayId });

  async function run(job: JobMessage, outputs: ExecutionRecord['outputs'] = {}, worker: WorkerDeps = deps): Promise<ExecutionRecord> {
    const now = new Date(job.trigger.receivedAt);
    await deps.executions.create({
      ...newQueuedExecution({
        executionId: job.executionId,
        tenantId: job.tenantId,
        kind: job.kind,
        entryId: job.entryId!,
        trigger: job.trigger,
        now,
      }),
      outputs,
    });
    await receiveThroughPolls(worker, JSON.stringify(job), 1);
    return (await deps.executions.get(job.executionId))!;
  }

  const jobFor = (tenantId: string, baseURL: string, entryId: string): JobMessage => {
    const now = new Date();
    return {
      v: 1,
      kind: 'entry.package',
      executionId: newExecutionId(now),
      tenantId,
      baseURL,
      entryId,
      trigger: { webhookId: `wh_tenants_${++n}`, type: 'v2.entry.created', receivedAt: now.toISOString() },
    };
  };

  const keysUnder = async (prefix: string) =>
    (await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents?.map((o) => o.Key!).sort() ?? [];
  const text = async (key: string) =>
    await (await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf-8');

  describe('tenant isolation (BENCHLING_TENANTS)', () => {
    it('publishes two tenants’ entries with one display id as two packages, each under its tenant’s prefix', async () => {
      withDisplayId(simA, 'etr_aaa', 'EXP24000001');
      withDisplayId(simB, 'etr_bbb', 'EXP24000001');
      const a = await run(jobFor('ten_A', simA.url, 'etr_aaa'));
      const b = await run(jobFor('ten_B', simB.url, 'etr_bbb'));
      expect([a.status, b.status], `${a.lastError?.message} ${b.lastError?.message}`).to.deep.equal(['SUCCEEDED', 'SUCCEEDED']);
      expect((a.outputs.publish as { packageName: string }).packageName).to.equal('benchling/EXP24000001');
      expect((b.outputs.publish as { packageName: string }).packageName).to.equal('lab-b/EXP24000001');
      expect(JSON.parse(await text('benchling/EXP24000001/entry.json')).entryId).to.equal('etr_aaa');
      expect(JSON.parse(await text('lab-b/EXP24000001/entry.json')).entryId).to.equal('etr_bbb');
      const latestA = await readLatest(aws.s3, bucket, 'benchling/EXP24000001');
      expect(
        latestA!.entries.every((e) => e.physicalKey.key.startsWith('benchling/EXP24000001/')),
        'A’s revision points only at A’s objects',
      ).to.equal(true);
    });

    it('fails a job of a tenant it does not serve, or of a served tenant at another base URL, before any credential is sent', async () => {
      const tokensBefore = simA.state.tokensIssued + simB.state.tokensIssued;
      const requestsBefore = simA.state.requestLog.length;
      for (const [tenantId, baseURL] of [
        ['ten_C', simA.url],
        ['ten_A', simB.url],
        ['ten_A', `${simA.url}/evil`],
        ['ten_A', simA.url.replace('127.0.0.1', '127.0.0.1.nip.io')],
      ] as const) {
        const e = await run(jobFor(tenantId, baseURL, `etr_refused_${++n}`));
        expect(e.status, `${tenantId} at ${baseURL}`).to.equal('FAILED');
        expect(e.lastError, `${tenantId} at ${baseURL}`).to.include({ class: 'BenchlingTenantRejected' });
        expect(e.lastError!.message).to.include('no credentials were sent');
      }
      expect(simA.state.tokensIssued + simB.state.tokensIssued, 'tokens issued').to.equal(tokensBefore);
      expect(simA.state.requestLog.length, 'requests to tenant A').to.equal(requestsBefore);
    });

    it('keeps display ids that clean up alike apart: EXP-1.a and EXP-1/a are two valid packages', async () => {
      withDisplayId(simA, 'etr_dot', 'EXP-1.a');
      withDisplayId(simA, 'etr_slash', 'EXP-1/a');
      const dot = await run(jobFor('ten_A', simA.url, 'etr_dot'));
      const slash = await run(jobFor('ten_A', simA.url, 'etr_slash'));
      expect([dot.status, slash.status]).to.deep.equal(['SUCCEEDED', 'SUCCEEDED']);
      const names = [dot, slash].map((e) => (e.outputs.publish as { packageName: string }).packageName);
      expect(names[0]).to.not.equal(names[1]);
      for (const name of names) expect(name).to.match(/^benchling\/EXP-1_a_[0-9a-f]{10}$/);
      expect(names).to.deep.equal([packageNameFor('benchling', 'EXP-1.a'), packageNameFor('benchling', 'EXP-1/a')]);
    });

    it('does not write over a package another entry of the tenant published under the same name', async () => {
      withDisplayId(simA, 'etr_first', 'EXP-SAME');
      withDisplayId(simA, 'etr_second', 'EXP-SAME');
      const first = await run(jobFor('ten_A', simA.url, 'etr_first'));
      expect(first.status).to.equal('SUCCEEDED');
      const before = await readLatest(aws.s3, bucket, 'benchling/EXP-SAME');
      const second = await run(jobFor('ten_A', simA.url, 'etr_second'));
      expect(second.status).to.equal('FAILED');
      expect(second.lastError).to.include({ class: 'PackageNameTaken', step: 'transfer' });
      expect(JSON.parse(await text('benchling/EXP-SAME/entry.json')).entryId).to.equal('etr_first');
      expect((await readLatest(aws.s3, bucket, 'benchling/EXP-SAME'))!.topHash).to.equal(before!.topHash);
    });

    it('in queue mode, never cleans up another tenant’s or another entry’s objects', async () => {
      withDisplayId(simA, 'etr_qa', 'EXP-Q');
      withDisplayId(simB, 'etr_qb', 'EXP-Q');
      withDisplayId(simA, 'etr_qa2', 'EXP-Q');
      const a = await run(jobFor('ten_A', simA.url, 'etr_qa'), {}, queueDeps);
      expect(a.status, a.lastError?.message).to.equal('SUCCEEDED');
      const aKeys = await keysUnder('benchling/EXP-Q/');
      expect(aKeys).to.include('benchling/EXP-Q/entry.json');
      const b = await run(jobFor('ten_B', simB.url, 'etr_qb'), {}, queueDeps);
      expect(b.status, b.lastError?.message).to.equal('SUCCEEDED');
      expect(await keysUnder('lab-b/EXP-Q/')).to.include('lab-b/EXP-Q/entry.json');
      // Another entry of tenant A with the same display id: refused before it uploads or cleans up.
      const a2 = await run(jobFor('ten_A', simA.url, 'etr_qa2'), {}, queueDeps);
      expect(a2.lastError).to.include({ class: 'PackageNameTaken' });
      expect(await keysUnder('benchling/EXP-Q/'), 'tenant A’s objects after B and A2 ran').to.deep.equal(aKeys);
      expect(JSON.parse(await text('benchling/EXP-Q/entry.json')).entryId).to.equal('etr_qa');
    });
  });

  describe('export file names', () => {
    /** A job resumed at the transfer of a hand-built export ZIP (Benchling's part checkpointed). */
    async function runZip(entries: ZipEntrySpec[]): Promise<{ e: ExecutionRecord; packageName: string }> {
      const i = ++n;
      const route = `/exports/names-${i}.zip`;
      exports.routes.set(route, { body: buildZip(entries) });
      const entryId = `etr_names_${i}`;
      const displayId = `NAMES${i}`;
      const job = jobFor('ten_A', simA.url, entryId);
      const at = job.trigger.receivedAt;
      const e = await run(job, {
        'fetch-entry': { id: entryId, displayId, name: `Names ${i}`, fields: {}, customFields: {}, fetchedAt: at },
        'start-export': { taskId: `task_names_${i}`, format: 'pdf', startedAt: at },
        'await-export': { downloadURL: exports.url(route), readyAt: at, polls: 1 },
      });
      return { e, packageName: packageNameFor('benchling', displayId) };
    }
    const file = (name: string, body = `${name} from the export\n`): ZipEntrySpec => ({ name, data: Buffer.from(body) });

    it('keeps an export’s README.md, entry.json and input.json beside ours, renamed, and overwrites nothing', async () => {
      const { e, packageName } = await runZip([
        file('report.pdf'),
        file('README.md'),
        file('entry.json'),
        file('input.json'),
        file('Readme.export.md'),
      ]);
      expect(e.status, e.lastError?.message).to.equal('SUCCEEDED');
      const keys = (await readLatest(aws.s3, bucket, packageName))!.entries.map((x) => x.logicalKey).sort();
      expect(keys).to.deep.equal([
        'README.export.md',
        'README.md',
        'Readme.export.export.md',
        'entry.export.json',
        'entry.json',
        'input.export.json',
        'input.json',
        'report.pdf',
      ]);
      expect(await text(`${packageName}/README.export.md`)).to.equal('README.md from the export\n');
      expect(await text(`${packageName}/entry.export.json`)).to.equal('entry.json from the export\n');
      expect(await text(`${packageName}/Readme.export.export.md`)).to.equal('Readme.export.md from the export\n');
      expect(await text(`${packageName}/README.md`)).to.match(/^# Names /);
      expect(JSON.parse(await text(`${packageName}/entry.json`)).entryId).to.match(/^etr_names_/);
    });

    it('refuses a name with a bidirectional override as unsafe, naming the entry, and uploads nothing', async () => {
      const { e, packageName } = await runZip([file('report.pdf'), file('invoice\u202Efdp.exe')]);
      expect(e.status).to.equal('FAILED');
      expect(e.lastError).to.include({ class: 'ZipBadPath', step: 'transfer' });
      expect(e.lastError!.message).to.include(JSON.stringify('invoice\u202Efdp.exe'));
      expect(await readLatest(aws.s3, bucket, packageName)).to.equal(undefined);
    });

    it('publishes names that differ only by case, and says in the README that a case-insensitive disk cannot hold both', async () => {
      const { e, packageName } = await runZip([file('report.pdf'), file('Data.csv'), file('data.csv')]);
      expect(e.status, e.lastError?.message).to.equal('SUCCEEDED');
      const keys = (await readLatest(aws.s3, bucket, packageName))!.entries.map((x) => x.logicalKey);
      expect(keys).to.include.members(['Data.csv', 'data.csv']);
      const readme = await text(`${packageName}/README.md`);
      expect(readme).to.include('differ only by case').and.include('`Data.csv`, `data.csv`');
    });
  });
});
