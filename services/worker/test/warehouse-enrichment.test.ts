import { expect } from 'chai';
import pg from 'pg';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createLogger, type JobMessage } from '@bp/shared';
import { manifestKey, parseManifest } from '@bp/shared/quilt/index';
import { type LocalWarehouse, startLocalWarehouse } from '@bp/local-stack/warehouse';
import { DBA_MESSAGE, type FailureKind, openWarehouse, warehouseConfigFromEnv } from '@bp/warehouse';
import { handleJob, type WorkerDeps } from '../src/index.ts';
import type { Published } from '../src/steps/publish.ts';
import { useWorker } from './support/worker-suite.ts';

const TENANT = 'ten_warehouse';

/**
 * An entry's package lists the entities registered in it and the results recorded in it, read
 * from a real PostgreSQL warehouse seeded with the simulator's story; a warehouse outage retries
 * the job, a refusal fails it. Against fauxqs, DynamoDB Local, the simulator and PostgreSQL.
 */
describe('entry packages enriched from the warehouse', function () {
  this.timeout(90_000);
  const suite = useWorker('warehouse', { sim: { exportDelayMs: 0, tenantId: TENANT } });
  let w: LocalWarehouse;
  let deps: WorkerDeps;
  let closeWarehouse: () => Promise<void>;
  const failures: FailureKind[] = [];

  before(async function () {
    this.timeout(60_000);
    w = await startLocalWarehouse({ baseUrl: suite.sim.url });
    const opened = await openWarehouse({
      config: warehouseConfigFromEnv(w.env)!,
      logger: createLogger({ service: 'test', level: 'silent' }),
      onFailure: (k) => failures.push(k),
      tuning: { retryMinMs: 20 },
    });
    closeWarehouse = opened.close;
    deps = { ...suite.deps, warehouse: opened.warehouse };
  });
  after(async function () {
    this.timeout(30_000);
    await closeWarehouse?.();
    await w?.stop();
  });

  const job = (entryId: string, webhookId: string): Promise<JobMessage> =>
    suite.queuedJob({ tenantId: TENANT, entryId, trigger: { webhookId, type: 'v2.entry.created' } });
  const run = (d: WorkerDeps, j: JobMessage, receiveCount = 1) =>
    handleJob(d, JSON.stringify(j), receiveCount, new AbortController().signal);

  async function packageFile(published: Published, logicalKey: string): Promise<unknown> {
    const res = await suite.aws.s3.send(
      new GetObjectCommand({ Bucket: suite.deps.config.names.bucket, Key: `${published.packageName}/${logicalKey}` }),
    );
    return JSON.parse(await res.Body!.transformToString());
  }
  async function userMeta(published: Published): Promise<Record<string, unknown>> {
    const res = await suite.aws.s3.send(
      new GetObjectCommand({ Bucket: suite.deps.config.names.bucket, Key: manifestKey(published.topHash!) }),
    );
    return parseManifest(await res.Body!.transformToString()).meta.userMeta as Record<string, unknown>;
  }

  it('writes entities.json and results.json and summarises them in the package metadata', async () => {
    const entry = w.story.entries[0]!;
    const j = await job(entry.id, 'wh_enrich_1');
    expect(await run(deps, j)).to.deep.equal({ action: 'done' });
    const ex = await suite.deps.executions.get(j.executionId);
    expect(ex?.status).to.equal('SUCCEEDED');
    const published = ex!.outputs.publish as Published;
    const samples = w.story.samples.filter((s) => s.entryId === entry.id && !s.archived);
    const entities = (await packageFile(published, 'entities.json')) as {
      entryId: string;
      entities: Array<{ id: string; registryId: string; fields: Record<string, unknown> }>;
    };
    expect(entities.entryId).to.equal(entry.id);
    expect(entities.entities.map((e) => e.registryId)).to.have.members(samples.map((s) => s.registryId));
    const results = (await packageFile(published, 'results.json')) as { results: Array<{ id: string; fields: Record<string, unknown> }> };
    expect(results.results.map((r) => r.id)).to.have.members(w.story.results.filter((r) => r.entryId === entry.id).map((r) => r.id));
    const meta = await userMeta(published);
    expect(meta.benchling).to.include({ entryId: entry.id, displayId: entry.displayId });
    expect((meta.warehouse as { entities: { count: number } }).entities.count).to.equal(samples.length);
    expect((meta.warehouse as { source: { from: string } }).source.from).to.equal('warehouse');
    const entryJson = (await packageFile(published, 'entry.json')) as { warehouse?: unknown };
    expect(entryJson.warehouse).to.deep.equal(meta.warehouse);
  });

  it('without a warehouse configured, writes neither file nor summary', async () => {
    expect(suite.deps.warehouse).to.equal(undefined);
    const j = await job(w.story.entries[1]!.id, 'wh_enrich_none');
    expect(await run(suite.deps, j)).to.deep.equal({ action: 'done' });
    const published = (await suite.deps.executions.get(j.executionId))!.outputs.publish as Published;
    const keys = (await userMeta(published)) as Record<string, unknown>;
    expect(keys).to.not.have.property('warehouse');
    const missing = await packageFile(published, 'entities.json').then(
      () => undefined,
      (e: { name?: string }) => e.name,
    );
    expect(missing).to.equal('NoSuchKey');
  });

  it('PostgreSQL stopped mid-run: the job is retried, and completes once it is back', async () => {
    const entry = w.story.entries[3]!;
    const j = await job(entry.id, 'wh_enrich_outage');
    await w.postgres.stop();
    try {
      const first = await run(deps, j, 1);
      expect(first.action).to.equal('retry');
      const during = await suite.deps.executions.get(j.executionId);
      expect(during?.status).to.not.equal('FAILED');
      expect(during?.lastError?.message).to.match(/warehouse unreachable/);
    } finally {
      await w.postgres.start();
    }
    expect(await run(deps, j, 2)).to.deep.equal({ action: 'done' });
    const ex = await suite.deps.executions.get(j.executionId);
    expect(ex?.status).to.equal('SUCCEEDED');
    const entities = (await packageFile(ex!.outputs.publish as Published, 'entities.json')) as {
      entities: unknown[];
      source: { from: string };
    };
    expect(entities.entities.length).to.be.greaterThan(0);
    expect(entities.source.from).to.equal('warehouse');
  });

  it('PostgreSQL stopped: an entry looked up within 5 minutes is packaged from the cached answer, which the package says', async () => {
    const entry = w.story.entries[0]!; // looked up by the first test
    const j = await job(entry.id, 'wh_enrich_cached');
    await w.postgres.stop();
    try {
      expect(await run(deps, j, 1)).to.deep.equal({ action: 'done' });
    } finally {
      await w.postgres.start();
    }
    const ex = await suite.deps.executions.get(j.executionId);
    expect(ex?.status).to.equal('SUCCEEDED');
    const published = ex!.outputs.publish as Published;
    const entities = (await packageFile(published, 'entities.json')) as {
      entities: unknown[];
      source: { from: string; ageSeconds: number };
    };
    expect(entities.source.from).to.equal('cache');
    expect(entities.source.ageSeconds).to.be.within(0, 300);
    expect(entities.entities).to.have.length(w.story.samples.filter((s) => s.entryId === entry.id && !s.archived).length);
    expect(((await userMeta(published)).warehouse as { source: { from: string } }).source.from).to.equal('cache');
  });

  it('permission revoked: the execution fails with the DBA message', async () => {
    const entry = w.story.entries[4]!;
    const admin = new pg.Client({ connectionString: w.adminUrl });
    await admin.connect();
    await admin.query(`REVOKE SELECT ON ${w.env.WAREHOUSE_SCHEMA}.registration_origin$raw FROM warehouse_reader`);
    try {
      const j = await job(entry.id, 'wh_enrich_denied');
      expect(await run(deps, j, 1)).to.deep.equal({ action: 'done' });
      const ex = await suite.deps.executions.get(j.executionId);
      expect(ex?.status).to.equal('FAILED');
      expect(ex?.lastError?.message).to.contain(DBA_MESSAGE);
      expect(ex?.outputs.publish, 'nothing published').to.equal(undefined);
      expect(failures).to.include('access_denied');
    } finally {
      await admin.query(`GRANT SELECT ON ${w.env.WAREHOUSE_SCHEMA}.registration_origin$raw TO warehouse_reader`);
      await admin.end();
    }
  });
});
