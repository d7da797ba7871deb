import { expect } from 'chai';
import { PermanentError, TransientError } from '@bp/shared';
import { EmfPublisher, PackagerMetrics } from '@bp/shared/metrics/index';
import { DBA_MESSAGE } from '../src/index.ts';
import { asAdmin, openClient, useLocalWarehouse } from './support.ts';

describe('warehouse failures: unreachable, too slow, refused', function () {
  this.timeout(90_000);
  const suite = useLocalWarehouse();

  it('PostgreSQL stopped mid-run: answers from cache within its age, else fails transiently; works again once it is back', async () => {
    const { w } = suite;
    let now = Date.now();
    const { warehouse, close, failures } = await openClient(w, { tuning: { now: () => now } });
    try {
      const sample = w.story.samples[0]!;
      const fresh = await warehouse.samplesFor({ barcodes: [sample.barcode] });
      expect(fresh.source.from).to.equal('warehouse');
      await w.postgres.stop();

      now += 4 * 60_000; // inside the 5-minute fallback age
      const cached = await warehouse.samplesFor({ barcodes: [sample.barcode] });
      expect(cached.source).to.deep.equal({ from: 'cache', ageSeconds: 240 });
      expect(cached.matched.map((m) => m.entity.id)).to.deep.equal([sample.id]);

      // Never looked up before: no cached answer, so the job's transient failure (retried by the queue).
      const never = await warehouse.entryContents(w.story.entries[1]!.id).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(never).to.be.instanceOf(TransientError);
      expect((never as TransientError).code).to.equal('WarehouseUnavailable');
      expect((never as Error).message).to.match(/entities registered in the entry/);

      now += 2 * 60_000; // the cached answer is now 6 minutes old: too old to stand in
      const stale = await warehouse.samplesFor({ barcodes: [sample.barcode] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(stale).to.be.instanceOf(TransientError);
      expect(failures).to.deep.equal(['connection', 'connection']);

      await w.postgres.start();
      const back = await warehouse.entryContents(w.story.entries[1]!.id);
      expect(back.source.from).to.equal('warehouse');
      expect(back.entities.length).to.be.greaterThan(0);
    } finally {
      await w.postgres.start();
      await close();
    }
  });

  it('a query past the statement timeout fails with an error naming the lookup', async () => {
    const { w } = suite;
    // A sample table whose every read takes a second, longer than the timeout below.
    await asAdmin(w, async (c) => {
      await c.query(`CREATE VIEW slow_sample$raw AS SELECT s.* FROM sample$raw s, pg_sleep(1) AS z`);
      await c.query(`GRANT SELECT ON slow_sample$raw TO warehouse_reader`);
    });
    const { warehouse, close, failures } = await openClient(w, {
      env: { WAREHOUSE_STATEMENT_TIMEOUT_MS: '200', WAREHOUSE_SAMPLE_TABLE: 'slow_sample' },
    });
    try {
      const err = await warehouse.samplesFor({ barcodes: ['BC-ANY'] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PermanentError);
      expect((err as PermanentError).code).to.equal('WarehouseQueryTimeout');
      expect((err as Error).message).to.match(/lookup "samples by barcode\/id" exceeded the statement timeout/);
      expect(failures).to.deep.equal(['query_timeout']);
    } finally {
      await close();
      await asAdmin(w, (c) => c.query('DROP VIEW slow_sample$raw'));
    }
  });

  it('permission revoked: fails permanently with the DBA message and reports access_denied', async () => {
    const { w } = suite;
    const { warehouse, close, failures } = await openClient(w);
    try {
      const sample = w.story.samples[0]!;
      expect((await warehouse.samplesFor({ barcodes: [sample.barcode] })).matched).to.have.length(1);
      await asAdmin(w, (c) => c.query('REVOKE SELECT ON sample$raw FROM warehouse_reader'));
      // Even with a cached answer: a refusal is not an outage, so no fallback hides it.
      const err = await warehouse.samplesFor({ barcodes: [sample.barcode] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PermanentError);
      expect((err as PermanentError).code).to.equal('WarehouseAccessDenied');
      expect((err as Error).message).to.contain(DBA_MESSAGE);
      expect(failures).to.deep.equal(['access_denied']);
      // What main.ts does with it: the counter on /metrics and the EMF line the CDK alarm watches.
      const lines: string[] = [];
      const emf = new EmfPublisher({ service: 'worker', write: (l) => lines.push(l), flushIntervalMs: 0 });
      const metrics = new PackagerMetrics().emitTo(emf);
      for (const k of failures) metrics.warehouseFailed(k);
      await emf.flush();
      expect(await metrics.text()).to.match(/bp_warehouse_failures_total\{kind="access_denied"\} 1/);
      const line = JSON.parse(lines.find((l) => l.includes('WarehouseFailures'))!);
      expect(line).to.include({ Service: 'worker', Kind: 'access_denied', WarehouseFailures: 1 });
      expect(line._aws.CloudWatchMetrics[0].Namespace).to.equal('BenchlingPackager');
    } finally {
      await asAdmin(w, (c) => c.query('GRANT SELECT ON sample$raw TO warehouse_reader'));
      await close();
    }
  });
});
