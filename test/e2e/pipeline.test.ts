import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { hashBuffer } from '@bp/shared/quilt/hash';
import { topHash } from '@bp/shared/quilt/index';
import { packageNameFor } from '@bp/worker';
import { type RunningSystem, startSystem } from '../support/system.ts';
import { filesOfZip } from '../support/zip-files.ts';
import { type Block, buttonOf, markdownOf } from '../support/canvas.ts';

const METADATA = ['README.md', 'entry.json', 'input.json'];

async function objectsUnder(sys: RunningSystem, prefix: string): Promise<string[]> {
  const res = await sys.aws.s3.send(new ListObjectsV2Command({ Bucket: sys.env.PACKAGE_BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!);
}

async function packageOf(sys: RunningSystem, entryId: string): Promise<string> {
  const entry = sys.sim.state.entries.get(entryId);
  if (!entry) throw new Error(`simulator never saw ${entryId}`);
  return packageNameFor('benchling', entry.displayId);
}

describe('the packaging pipeline, webhook to Quilt revision, through real local servers', function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  before(async () => {
    sys = await startSystem({ label: 'pipeline', workers: 2, sim: { rateLimit: { limit: 10_000, windowSeconds: 30 } } });
  });
  after(async () => sys?.stop());

  it('publishes a revision whose manifest entries, sizes and hashes match the export ZIP, non-ASCII names included', async () => {
    const r = await sys.send({ type: 'v2.entry.created', entryId: 'etr_e2e_plain1' });
    expect(r.status).to.equal(202);
    const exec = await sys.waitForExecution(String(r.json.executionId));
    expect(exec.status, JSON.stringify(exec.lastError)).to.equal('SUCCEEDED');

    const name = await packageOf(sys, 'etr_e2e_plain1');
    const latest = await sys.latest(name);
    expect(latest, 'latest revision').to.not.equal(undefined);
    const task = [...sys.sim.state.exports.values()].find((t) => t.entryId === 'etr_e2e_plain1')!;
    const zipFiles = await filesOfZip(task.zipPath!);
    expect(
      [...zipFiles.keys()].some((k) => /\P{ASCII}/u.test(k)),
      'the export has a non-ASCII name',
    ).to.equal(true);

    const manifestFiles = new Map(latest!.entries.map((e) => [e.logicalKey, e]));
    expect([...manifestFiles.keys()].sort()).to.deep.equal([...zipFiles.keys(), ...METADATA].sort());
    for (const [key, f] of zipFiles) {
      expect(manifestFiles.get(key)!.size, key).to.equal(f.size);
      expect(manifestFiles.get(key)!.hash, key).to.deep.equal({ type: 'sha2-256-chunked', value: f.hash });
    }
    // Each physical object holds exactly the bytes the manifest describes.
    for (const e of latest!.entries) {
      const obj = await sys.aws.s3.send(new GetObjectCommand({ Bucket: e.physicalKey.bucket, Key: e.physicalKey.key }));
      const bytes = Buffer.from(await obj.Body!.transformToByteArray());
      expect(hashBuffer(bytes).value, e.logicalKey).to.equal(e.hash.value);
    }
    expect(topHash(latest!.meta, latest!.entries)).to.equal(latest!.topHash);

    const entryJson = JSON.parse(
      await (
        await sys.aws.s3.send(new GetObjectCommand({ Bucket: sys.env.PACKAGE_BUCKET, Key: `${name}/entry.json` }))
      ).Body!.transformToString(),
    );
    expect(entryJson).to.include({ entryId: 'etr_e2e_plain1' });
    expect(entryJson.files).to.have.length(zipFiles.size);
    expect(entryJson.trigger.type).to.equal('v2.entry.created');
    expect(exec.outputs).to.have.all.keys(
      'fetch-entry',
      'start-export',
      'await-export',
      'transfer',
      'write-metadata',
      'publish',
      'update-canvas',
    );
    // The simulator's export link is presigned (X-Amz-Signature in its query): the record keeps none of it.
    expect((exec.outputs['await-export'] as { downloadURL: string }).downloadURL).to.not.include('?');
    expect(JSON.stringify(exec)).to.not.include('X-Amz-Signature');
    expect(readdirSync(sys.env.WORKER_TMP_DIR!), 'no spool left behind').to.deep.equal([]);
  });

  it('fails an entry that does not exist with a clear reason and writes no package', async () => {
    const r = await sys.send({ type: 'v2.entry.created', entryId: 'etr_missing_e2e' });
    expect(r.status).to.equal(202);
    const exec = await sys.waitForExecution(String(r.json.executionId));
    expect(exec.status).to.equal('FAILED');
    expect(exec.lastError).to.include({ step: 'fetch-entry', class: 'BenchlingNotFound', retryable: false });
    expect(exec.lastError!.message).to.match(/etr_missing_e2e|not found/i);
    expect(await objectsUnder(sys, 'benchling/')).to.satisfy((keys: string[]) => keys.every((k) => !k.includes('missing')));
  });

  it('fails an entry whose export fails, says why, and leaves nothing under the package prefix', async () => {
    const r = await sys.send({ type: 'v2.entry.updated.fields', entryId: 'etr_fail_e2e', updates: ['fields.Name'] });
    const exec = await sys.waitForExecution(String(r.json.executionId));
    expect(exec.status).to.equal('FAILED');
    expect(exec.lastError).to.include({ step: 'await-export', class: 'ExportFailed' });
    const name = await packageOf(sys, 'etr_fail_e2e');
    expect(await objectsUnder(sys, `${name}/`)).to.deep.equal([]);
    expect(await sys.latest(name)).to.equal(undefined);
  });

  for (const [entryId, code] of [
    ['etr_traversal_e2e', 'ZipTraversal'],
    ['etr_absolute_e2e', 'ZipAbsolutePath'],
    ['etr_symlink_e2e', 'ZipSymlink'],
    ['etr_bomb_e2e', 'ZipBomb'],
  ] as const) {
    it(`refuses an export ZIP that is unsafe (${code}) and uploads none of it`, async () => {
      const r = await sys.send({ type: 'v2.entry.created', entryId });
      const exec = await sys.waitForExecution(String(r.json.executionId), { timeoutMs: 100_000 });
      expect(exec.status).to.equal('FAILED');
      expect(exec.lastError).to.include({ step: 'transfer', class: code, retryable: false });
      const name = await packageOf(sys, entryId);
      expect(await objectsUnder(sys, `${name}/`)).to.deep.equal([]);
      const all = await objectsUnder(sys, '');
      expect(
        all.filter((k) => k.includes('evil')),
        'nothing written outside the prefix',
      ).to.deep.equal([]);
      expect(existsSync(path.join(sys.env.WORKER_TMP_DIR!, exec.executionId)), 'no spool left behind').to.equal(false);
    });
  }

  it('creates the canvas on canvas.initialized, then shows Updating… with the button disabled and finally the package link', async () => {
    const entryId = 'etr_canvas_e2e';
    const init = await sys.send({ type: 'v2.canvas.initialized', entryId, featureId: 'quilt_entry', userId: 'ent_user1' });
    expect(init.status).to.equal(202);
    expect((await sys.waitForExecution(String(init.json.executionId))).status).to.equal('SUCCEEDED');
    const canvases = sys.sim.state.canvasesFor(entryId);
    expect(canvases).to.have.length(1);
    const canvasId = String(canvases[0]!.current.id);

    const click = await sys.send({
      type: 'v2.canvas.userInteracted',
      canvasId,
      buttonId: 'update-package',
      featureId: 'quilt_entry',
      userId: 'ent_user1',
    });
    expect(click.status).to.equal(202);
    const exec = await sys.waitForExecution(String(click.json.executionId));
    expect(exec.status, JSON.stringify(exec.lastError)).to.equal('SUCCEEDED');

    const history = sys.sim.state.canvasesFor(entryId)[0]!.history as Array<{ id: string; data: string | null; blocks: Block[] }>;
    const button = (v: (typeof history)[number]) => buttonOf(v, 'update-package');
    const text = (v: (typeof history)[number]) => markdownOf(v);
    const updating = history.findIndex((v) => /Updating/.test(text(v)));
    expect(updating, 'an Updating… version').to.be.greaterThan(0);
    expect(button(history[updating]!)?.enabled).to.equal(false);
    const final = history.at(-1)!;
    expect(text(final)).to.include(await packageOf(sys, entryId));
    expect(button(final)?.enabled).to.equal(true);
  });

  it('shows the error in plain words on the canvas when packaging fails', async () => {
    const entryId = 'etr_fail_canvas_e2e';
    const init = await sys.send({ type: 'v2.canvas.initialized', entryId, featureId: 'quilt_entry', userId: 'ent_user1' });
    await sys.waitForExecution(String(init.json.executionId));
    const canvasId = String(sys.sim.state.canvasesFor(entryId)[0]!.current.id);
    const click = await sys.send({ type: 'v2.canvas.userInteracted', canvasId, buttonId: 'update-package', featureId: 'quilt_entry' });
    expect((await sys.waitForExecution(String(click.json.executionId))).status).to.equal('FAILED');
    // The canvas is written after the execution is marked FAILED.
    const shown = () => sys.sim.state.canvasesFor(entryId)[0]!.current as unknown as { id: string; data: string | null; blocks: Block[] };
    for (const until = Date.now() + 10_000; !/could not be updated/.test(markdownOf(shown())) && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 50));
    expect(markdownOf(shown())).to.match(/could not be updated.*export/i);
    expect(buttonOf(shown(), 'update-package')?.enabled).to.equal(true);
  });
});

describe('waiting for a slow export without blocking a worker slot', function () {
  this.timeout(90_000);
  let sys: RunningSystem;
  before(async () => {
    sys = await startSystem({
      label: 'slowexport',
      env: { EXPORT_INLINE_WAIT_MS: '300', WORKER_CONCURRENCY: '1' },
      sim: { slowExportDelayMs: 5_000, rateLimit: { limit: 10_000, windowSeconds: 30 } },
    });
  });
  after(async () => sys?.stop());

  it('re-enqueues itself with a delay while the export runs; a quick entry finishes meanwhile on the same single slot', async () => {
    const slow = await sys.send({ type: 'v2.entry.created', entryId: 'etr_slow_e2e' });
    await new Promise((r) => setTimeout(r, 800));
    const quick = await sys.send({ type: 'v2.entry.created', entryId: 'etr_quick_e2e' });
    const quickExec = await sys.waitForExecution(String(quick.json.executionId));
    expect(quickExec.status).to.equal('SUCCEEDED');
    const slowNow = await sys.executions.get(String(slow.json.executionId));
    expect(slowNow!.status, 'the slow one is still waiting').to.be.oneOf(['RUNNING', 'QUEUED']);
    const slowExec = await sys.waitForExecution(String(slow.json.executionId), { timeoutMs: 60_000 });
    expect(slowExec.status, JSON.stringify(slowExec.lastError)).to.equal('SUCCEEDED');
    expect(slowExec.events.filter((e) => e.type === 'Requeued').length).to.be.greaterThan(0);
    expect(sys.sim.state.exportsStartedFor('etr_slow_e2e'), 'resumed, not restarted').to.equal(1);
  });
});

describe('queue publishing mode', function () {
  this.timeout(60_000);
  let sys: RunningSystem;
  before(async () => {
    sys = await startSystem({
      label: 'queuemode',
      env: { QUILT_PUBLISH: 'queue' },
      sim: { rateLimit: { limit: 10_000, windowSeconds: 30 } },
    });
  });
  after(async () => sys?.stop());

  it('writes the files under the prefix and sends exactly the packaging engine message', async () => {
    const r = await sys.send({ type: 'v2.entry.created', entryId: 'etr_queue_e2e' });
    const exec = await sys.waitForExecution(String(r.json.executionId));
    expect(exec.status, JSON.stringify(exec.lastError)).to.equal('SUCCEEDED');
    const name = await packageOf(sys, 'etr_queue_e2e');
    const bucket = sys.env.PACKAGE_BUCKET!;
    const got = await sys.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sys.env.PACKAGER_QUEUE_URL, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }),
    );
    expect(got.Messages).to.have.length(1);
    expect(JSON.parse(got.Messages![0]!.Body!)).to.deep.equal({
      source_prefix: `s3://${bucket}/${name}/`,
      registry: bucket,
      package_name: name,
      metadata_uri: 'entry.json',
      commit_message: `Benchling v2.entry.created at ${exec.trigger.receivedAt}`,
    });
    const keys = await objectsUnder(sys, `${name}/`);
    expect(keys).to.include.members(METADATA.map((m) => `${name}/${m}`));
    expect(await sys.latest(name), 'no native manifest in queue mode').to.equal(undefined);
  });
});
