import { expect } from 'chai';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { partnerFileUrl, runFileSha256 } from '@bp/benchling-sim/partner-files';
import { createLogger, entryKey } from '@bp/shared';
import { linkedRunsNewestFirst } from '@bp/shared/executions/index';
import { readLatest } from '@bp/shared/quilt/index';
import { type LocalWarehouse, startLocalWarehouse } from '@bp/local-stack/warehouse';
import { openWarehouse, warehouseConfigFromEnv } from '@bp/warehouse';
import { handleJob, type WorkerDeps } from '../../src/index.ts';
import { runPackageName } from '../../src/partner/index.ts';
import { partnerJob, policyFor } from '../support/partner-jobs.ts';
import { useWorker } from '../support/worker-suite.ts';

const TENANT = 'ten_partner_wh';

/**
 * A sequencing run's samples, by barcode, meet the Benchling entities they are and the entries they
 * were registered in, read from a real PostgreSQL warehouse seeded with the simulator's story: the
 * run's package holds samples.json, its metadata the summary, and those entries list the run.
 */
describe('partner runs enriched from the warehouse', function () {
  this.timeout(120_000);
  const w = useWorker('partner-wh', { sim: { tenantId: TENANT } });
  let wh: LocalWarehouse;
  let deps: WorkerDeps;
  let close: () => Promise<void>;

  before(async function () {
    this.timeout(60_000);
    wh = await startLocalWarehouse({ baseUrl: w.sim.url });
    const opened = await openWarehouse({
      config: warehouseConfigFromEnv(wh.env)!,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    close = opened.close;
    deps = { ...w.deps, warehouse: opened.warehouse };
  });
  after(async function () {
    this.timeout(30_000);
    await close?.();
    await wh?.stop();
  });

  it('writes samples.json naming each sample’s entity and entry, reports unknown barcodes as unmatched, links the entries', async () => {
    const live = wh.story.samples.filter((s) => !s.archived);
    const [a, b] = [live[0]!, live.find((s) => s.entryId !== live[0]!.entryId) ?? live[1]!];
    const runId = `RUN-WH-${Date.now().toString(36)}`;
    const file = { path: 'SampleSheet.csv', size: 2048 };
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'sequencing.complete',
        run: { id: runId },
        samples: [
          { id: 'lane1-a', barcode: a.barcode },
          { id: 'lane1-b', barcode: b.barcode },
          { id: 'lane1-x', barcode: "' OR 1=1 --" },
        ],
        benchling: { tenantId: TENANT },
        files: [
          { ...file, url: partnerFileUrl(w.sim.url, runId, file.path, file.size), sha256: runFileSha256(runId, file.path, file.size) },
        ],
      },
      policy: policyFor(w.sim.url),
    });
    expect(await handleJob(deps, JSON.stringify(job), 1, new AbortController().signal)).to.deep.equal({ action: 'done' });
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status, JSON.stringify(ex.lastError)).to.equal('SUCCEEDED');

    const pkg = runPackageName('illumina', runId);
    const latest = (await readLatest(w.aws.s3, w.deps.config.names.bucket, pkg))!;
    const entry = latest.entries.find((e) => e.logicalKey === 'samples.json')!;
    expect(entry, 'samples.json is in the package').to.not.equal(undefined);
    const res = await w.aws.s3.send(new GetObjectCommand({ Bucket: entry.physicalKey.bucket, Key: entry.physicalKey.key }));
    const samples = JSON.parse(await res.Body!.transformToString()) as {
      matched: Array<{ value: string; entity: { id: string; name: string }; entry: { id: string } }>;
      unmatched: unknown[];
    };
    const byBarcode = new Map(samples.matched.map((m) => [m.value, m]));
    expect(byBarcode.get(a.barcode)?.entity.id).to.equal(a.id);
    expect(byBarcode.get(a.barcode)?.entry.id).to.equal(a.entryId);
    expect(byBarcode.get(b.barcode)?.entity.id).to.equal(b.id);
    expect(byBarcode.get(b.barcode)?.entry.id).to.equal(b.entryId);
    expect(JSON.stringify(samples.unmatched)).to.include("' OR 1=1 --");
    expect(samples.matched).to.have.length(2);

    const meta = latest.meta.userMeta as { samples: { matched: number; unmatched: number; entries: Array<{ id: string }> } };
    expect([meta.samples.matched, meta.samples.unmatched]).to.deep.equal([2, 1]);
    expect(meta.samples.entries.map((e) => e.id).sort()).to.deep.equal([...new Set([a.entryId, b.entryId])].sort());

    for (const entryId of new Set([a.entryId, b.entryId])) {
      const runs = linkedRunsNewestFirst(await w.deps.entries.get(entryKey(TENANT, entryId)));
      expect(
        runs.map((r) => r.packageName),
        `entry ${entryId} lists the run`,
      ).to.include(pkg);
    }
  });
});
