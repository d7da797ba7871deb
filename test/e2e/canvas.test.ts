import { expect } from 'chai';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { entryKey } from '@bp/shared';
import { packageNameFor } from '@bp/worker';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { buttonOf, CanvasDriver, markdownOf, tableRows } from '../support/canvas.ts';

/**
 * The entry canvas end to end: webhooks signed by the simulator, the real ingress, worker fleets
 * on fauxqs and DynamoDB Local, packages in S3; every canvas write checked by the simulator
 * against Benchling's schema (a non-conforming one is a 400 and fails the job).
 */
describe('the entry canvas: browse, versions, metadata, linked runs, through the real ingress and workers', function () {
  this.timeout(180_000);
  let sys: RunningSystem;
  before(async () => {
    sys = await startSystem({
      label: 'canvas',
      workers: 2,
      sim: { slowExportDelayMs: 4_000, rateLimit: { limit: 100_000, windowSeconds: 30 } },
    });
  });
  after(async () => sys?.stop());

  const editEntry = async (entryId: string, fields: Record<string, unknown>) => {
    const r = await fetch(`${sys.sim.url}/_sim/entries/${entryId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields }),
    });
    expect(r.status).to.be.lessThan(300);
  };

  it('pages a folder of 57 files 15/15/15/12 with "16–30 of 57", next disabled on the last page, previous on the first', async () => {
    const c = new CanvasDriver(sys, 'etr_files57_canvas');
    await c.init();
    expect(buttonOf(c.now(), 'nav:files')?.enabled, 'nothing to browse before the first package').to.equal(false);
    const run = await c.update();
    expect(run.status, JSON.stringify(run.lastError)).to.equal('SUCCEEDED');

    const main = c.now();
    const name = packageNameFor('benchling', sys.sim.state.entries.get(c.entryId)!.displayId);
    expect(markdownOf(main)).to.include(`quilt+s3://${sys.env.PACKAGE_BUCKET}#package=${name}:latest`);
    expect(markdownOf(main)).to.match(/61 files · [\d.]+ kB/); // report.pdf + 57 + three metadata files
    for (const id of ['nav:files', 'nav:versions', 'nav:metadata', 'update-package'])
      expect(buttonOf(main, id)?.enabled, id).to.equal(true);

    const root = await c.go('nav:files');
    expect(markdownOf(root)).to.include('Files in the package root');
    expect(buttonOf(root, 'nav:dir:0')?.text).to.equal('Open attachments/');

    const seen: number[] = [];
    let page = await c.go('nav:dir:0');
    for (let n = 1; n <= 4; n++) {
      const md = markdownOf(page);
      const from = (n - 1) * 15 + 1;
      expect(md).to.include(`${from}–${Math.min(n * 15, 57)} of 57`);
      seen.push(tableRows(md).length);
      expect(buttonOf(page, `nav:files:${Math.max(1, n - 1)}`)?.enabled, `previous on page ${n}`).to.equal(n > 1);
      expect(buttonOf(page, `nav:files:${n + 1}`)?.enabled, `next on page ${n}`).to.equal(n < 4);
      expect(JSON.parse(page.data!)).to.deep.include({ view: 'files', dir: 'attachments/', page: n });
      if (n < 4) page = await c.go(`nav:files:${n + 1}`);
    }
    expect(seen).to.deep.equal([15, 15, 15, 12]);
    expect(markdownOf(page)).to.include('sample\\-057\\.csv');
    const back = await c.go('nav:main');
    expect(buttonOf(back, 'update-package')?.enabled).to.equal(true);
  });

  it('lists the versions after three revisions, newest first, with what triggered each and the change in files', async () => {
    const c = new CanvasDriver(sys, 'etr_versions_canvas');
    await c.init();
    expect((await c.update()).status).to.equal('SUCCEEDED');
    for (const value of ['second', 'third']) {
      await editEntry(c.entryId, { Notes: value });
      const r = await sys.send({ type: 'v2.entry.updated.fields', entryId: c.entryId, updates: ['fields.Notes'] });
      expect((await sys.waitForExecution(String(r.json.executionId), { timeoutMs: 60_000 })).status).to.equal('SUCCEEDED');
    }
    const v = await c.go('nav:versions');
    const rows = tableRows(markdownOf(v));
    expect(rows).to.have.length(3);
    expect(rows[0]).to.include('entry edited');
    expect(rows[1]).to.include('entry edited');
    expect(rows[2]).to.include('Update package button');
    expect(rows[2]).to.include('first revision');
    expect(rows[0]).to.match(/changed/);
    const times = rows.map((r) => /\d{4}-\d\d-\d\d \d\d:\d\d UTC/.exec(r)?.[0]);
    expect(times.every(Boolean)).to.equal(true);
    expect([...times].sort().reverse()).to.deep.equal(times);
  });

  it('shows the metadata of entry.json: name, display id, authors, schema, fields', async () => {
    const c = new CanvasDriver(sys, 'etr_metadata_canvas');
    await c.init();
    await editEntry(c.entryId, { Notes: 'x'.repeat(300) });
    expect((await c.update()).status).to.equal('SUCCEEDED');
    const m = markdownOf(await c.go('nav:metadata'));
    const entry = sys.sim.state.entries.get(c.entryId)!;
    expect(m).to.include('**Display id**');
    expect(m).to.include(entry.displayId);
    expect(m).to.include('**Authors**');
    expect(m).to.include('**Schema**');
    expect(m).to.match(/#### Fields \(\d+\)/);
    expect(m).to.include('| Notes | ');
    expect(m, 'a long value is cut').to.include(`${'x'.repeat(79)}…`);
    expect(m).to.not.include('x'.repeat(81));
  });

  it('shows linked runs from the entry record, newest first, and an empty state without them', async () => {
    const c = new CanvasDriver(sys, 'etr_runs_canvas');
    await c.init();
    expect(markdownOf(c.now())).to.include('No sequencing runs are linked to this entry yet.');
    await sys.aws.doc.send(
      new UpdateCommand({
        TableName: `${sys.env.TABLE_PREFIX}entries`,
        Key: { entryKey: entryKey(sys.sim.options.tenantId, c.entryId) },
        UpdateExpression: 'SET linkedRuns = :runs',
        ExpressionAttributeValues: {
          ':runs': [
            { packageName: 'sequencing/run-older', runId: 'RUN-1', linkedAt: '2026-01-01T10:00:00Z', qcState: 'PASSED' },
            {
              packageName: 'sequencing/run-[newer](https://evil.example)',
              runId: 'RUN-2',
              linkedAt: '2026-02-01T10:00:00Z',
              qcState: 'FAILED',
            },
          ],
        },
      }),
    );
    const md = markdownOf(await c.go('nav:main'));
    const rows = tableRows(md);
    expect(rows).to.have.length(2);
    expect(rows[0]).to.include('RUN\\-2').and.include('FAILED');
    expect(rows[1]).to.include('RUN\\-1').and.include('PASSED');
    expect(md).to.not.include('](https://evil');
  });

  it('shows a failed packaging in plain words with the execution id, never the raw error or a link from a file name', async () => {
    const c = new CanvasDriver(sys, 'etr_phish_canvas');
    await c.init();
    const run = await c.update();
    expect(run.status).to.equal('FAILED');
    expect(run.lastError!.message, 'the internal error names the file').to.include('evil.example');
    const md = markdownOf(await c.until((x) => markdownOf(x).includes('could not be updated'), 'the failure'));
    expect(md).to.include('could not be updated');
    expect(md).to.include('cannot be packaged safely');
    expect(md).to.include(run.executionId);
    expect(md).to.not.include('evil');
    const html = await (await fetch(`${sys.sim.url}/_sim/canvases/${c.canvasId()}/preview`)).text();
    expect(html).to.not.match(/<a [^>]*evil/);
    const session = sys.sim.state.sessions.get(String(c.now().sessionId))!.current as {
      status: string;
      messages: Array<{ content: string; style: string }>;
    };
    expect(session.status).to.equal('FAILED');
    expect(session.messages.at(-1)!.content).to.include(run.executionId);
    expect(buttonOf(c.now(), 'update-package')).to.deep.include({ text: 'Try again', enabled: true });

    const failing = new CanvasDriver(sys, 'etr_fail_canvas');
    await failing.init();
    expect((await failing.update()).status).to.equal('FAILED');
    await failing.until((x) => markdownOf(x).includes('Benchling could not export this entry'), 'the export failure');
  });

  it('escapes outside text in the file browser: a file named like a Markdown link stays text', async () => {
    const c = new CanvasDriver(sys, 'etr_files2_escape');
    await c.init();
    expect((await c.update()).status).to.equal('SUCCEEDED');
    const name = packageNameFor('benchling', sys.sim.state.entries.get(c.entryId)!.displayId);
    // A revision whose file names are hostile, published the way quilt3 would (any writer may publish).
    const latest = (await sys.latest(name))!;
    const evil = '[Session expired - sign in again](https:evil.example%2Flogin).pdf';
    await sys.aws.s3.send(new PutObjectCommand({ Bucket: sys.env.PACKAGE_BUCKET, Key: `${name}/${evil}`, Body: 'x' }));
    const { publishDirect } = await import('@bp/shared/quilt/index');
    await publishDirect(
      { s3: sys.aws.s3, logger: sys.logger },
      {
        bucket: sys.env.PACKAGE_BUCKET!,
        packageName: name,
        message: 'hostile names',
        entries: [
          ...latest.entries,
          {
            logicalKey: evil,
            physicalKey: { bucket: sys.env.PACKAGE_BUCKET!, key: `${name}/${evil}` },
            size: 1,
            hash: { type: 'SHA256', value: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881' },
            meta: {},
          },
        ],
        now: new Date(Date.now() + 5_000),
      },
    );
    const md = markdownOf(await c.go('nav:files'));
    expect(md).to.include('\\[Session expired \\- sign in again\\]\\(https\\:evil');
    const html = await (await fetch(`${sys.sim.url}/_sim/canvases/${c.canvasId()}/preview`)).text();
    expect(html).to.include('[Session expired - sign in again](https:evil.example%2Flogin).pdf</a>');
    expect(html).to.not.match(/<a href="https:evil/);
  });

  it('creates exactly one canvas for two concurrent canvas.initialized, and a later one reuses it', async () => {
    const entryId = 'etr_concurrent_init';
    const sends = await Promise.all(
      [0, 1].map(() =>
        new CanvasDriver(sys, entryId).send({ type: 'v2.canvas.initialized', entryId, featureId: 'quilt_entry', userId: 'ent_user1' }),
      ),
    );
    expect(sends.map((s) => s.status)).to.deep.equal([202, 202]);
    const execs = await Promise.all(sends.map((s) => sys.waitForExecution(String(s.json.executionId), { timeoutMs: 60_000 })));
    expect(execs.map((e) => e.status)).to.deep.equal(['SUCCEEDED', 'SUCCEEDED']);
    expect(sys.sim.state.canvasesFor(entryId)).to.have.length(1);
    const again = await sys.send({ type: 'v2.canvas.initialized', entryId, featureId: 'quilt_entry' });
    expect((await sys.waitForExecution(String(again.json.executionId))).outputs['create-canvas']).to.deep.include({ reused: true });
    expect(sys.sim.state.canvasesFor(entryId)).to.have.length(1);
  });

  it('starts no second packaging for a click while one runs; the button is disabled meanwhile, progress shows in the session', async () => {
    const c = new CanvasDriver(sys, 'etr_slow_canvas');
    await c.init();
    const first = await sys.send({
      type: 'v2.canvas.userInteracted',
      canvasId: c.canvasId(),
      buttonId: 'update-package',
      featureId: 'quilt_entry',
    });
    const firstId = String(first.json.executionId);
    await sys.waitForExecution(firstId, { statuses: ['RUNNING'] });
    const deadline = Date.now() + 10_000;
    while (buttonOf(c.now(), 'update-package')?.enabled !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(buttonOf(c.now(), 'update-package')).to.deep.include({ text: 'Updating…', enabled: false });
    const second = await c.click('update-package');
    expect(second.status).to.equal('SUPERSEDED');
    const done = await sys.waitForExecution(firstId, { timeoutMs: 60_000 });
    expect(done.status, JSON.stringify(done.lastError)).to.equal('SUCCEEDED');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sys.sim.state.exportsStartedFor(c.entryId), 'one export: no follow-up run').to.equal(1);
    const session = sys.sim.state.sessions.get(String(c.now().sessionId))!.current as {
      status: string;
      messages: Array<{ content: string }>;
    };
    expect(session.status).to.equal('SUCCEEDED');
    expect(session.messages.map((m) => m.content)).to.include.members([
      'Packaging started.',
      'Copying the exported files to S3…',
      'Publishing the new package revision…',
    ]);
    expect(buttonOf(c.now(), 'update-package')?.enabled).to.equal(true);
  });
});
