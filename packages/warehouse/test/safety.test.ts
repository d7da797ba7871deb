import { expect } from 'chai';
import pg from 'pg';
import { asAdmin, openClient, useLocalWarehouse } from './support.ts';

describe('warehouse safety: read-only role, parameterised queries, bounded pool', function () {
  this.timeout(60_000);
  const suite = useLocalWarehouse();

  async function asReader<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: suite.w.env.WAREHOUSE_URL });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  const writes = {
    INSERT: `INSERT INTO entry$raw (id, name) VALUES ('etr_evil', 'evil')`,
    UPDATE: `UPDATE entry$raw SET name = 'evil'`,
    DELETE: `DELETE FROM sample$raw`,
  };
  for (const [verb, sql] of Object.entries(writes)) {
    it(`refuses the read-only role an ${verb}, even in a read-write transaction`, async () => {
      await asReader(async (c) => {
        const readOnly = await c.query(sql).then(
          () => undefined,
          (e: { code?: string }) => e,
        );
        expect(readOnly?.code, 'read-only session').to.equal('25006');
        await c.query('BEGIN READ WRITE');
        const noGrant = await c.query(sql).then(
          () => undefined,
          (e: { code?: string; message?: string }) => e,
        );
        await c.query('ROLLBACK');
        expect(noGrant?.code, 'no write privilege').to.equal('42501');
        expect(noGrant?.message).to.match(/permission denied/);
      });
      const counts = await asAdmin(
        suite.w,
        async (c) =>
          (
            await c.query(
              `SELECT (SELECT count(*) FROM entry$raw WHERE name = 'evil' OR id = ` +
                `'etr_evil')::int AS evil, (SELECT count(*) FROM sample$raw)::int AS samples`,
            )
          ).rows[0],
      );
      expect(counts).to.deep.equal({ evil: 0, samples: suite.w.story.samples.length });
    });
  }

  it('matches nothing and changes nothing for barcodes and ids that are SQL', async () => {
    const { warehouse, close } = await openClient(suite.w);
    const hostile = [`' OR 1=1 --`, `x'); DROP TABLE entry$raw; --`, `BC-%`, `"; DELETE FROM sample$raw; --`];
    const before = await asAdmin(
      suite.w,
      async (c) =>
        (await c.query('SELECT (SELECT count(*) FROM entry$raw)::int AS entries, (SELECT count(*) FROM sample$raw)::int AS samples'))
          .rows[0],
    );
    try {
      const answer = await warehouse.samplesFor({ barcodes: hostile, ids: hostile });
      expect(answer.matched).to.deep.equal([]);
      expect(answer.unmatched).to.have.length(hostile.length * 2);
      expect((await warehouse.entryContents(`x'); DROP TABLE entry$raw; --`)).entities).to.deep.equal([]);
    } finally {
      await close();
    }
    const after = await asAdmin(
      suite.w,
      async (c) =>
        (await c.query('SELECT (SELECT count(*) FROM entry$raw)::int AS entries, (SELECT count(*) FROM sample$raw)::int AS samples'))
          .rows[0],
    );
    expect(after).to.deep.equal(before);
    expect(before.entries).to.equal(suite.w.story.entries.length);
  });

  it('never holds more than 15 connections under 50 concurrent lookups', async () => {
    const { warehouse, pool, close } = await openClient(suite.w);
    let peakPool = 0;
    let peakServer = 0;
    let sampling = true;
    const sampler = (async () => {
      const admin = new pg.Client({ connectionString: suite.w.adminUrl });
      await admin.connect();
      while (sampling) {
        peakPool = Math.max(peakPool, pool.totalCount);
        const n = (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'warehouse_reader'`)).rows[0]
          .n as number;
        peakServer = Math.max(peakServer, n);
        await new Promise((r) => setTimeout(r, 5));
      }
      await admin.end();
    })();
    try {
      const barcodes = suite.w.story.samples.map((s) => s.barcode);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          i % 2
            ? warehouse.samplesFor({ barcodes: [barcodes[i % barcodes.length]!] })
            : warehouse.entryContents(suite.w.story.entries[i % 6]!.id),
        ),
      );
      expect(answers).to.have.length(50);
      expect(pool.options.max).to.equal(15);
      peakPool = Math.max(peakPool, pool.totalCount);
    } finally {
      sampling = false;
      await sampler;
      await close();
    }
    expect(peakPool, 'pool').to.be.within(2, 15);
    expect(peakServer, 'server-side sessions').to.be.within(1, 15);
  });
});
