import { expect } from 'chai';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { partnerFileUrl, runFileSha256 } from '@bp/benchling-sim/partner-files';
import { readLatest } from '@bp/shared/quilt/index';
import { entryKey } from '@bp/shared';
import { linkedRunsNewestFirst } from '@bp/shared/executions/index';
import { handleJob } from '../../src/index.ts';
import { runPackageName } from '../../src/partner/index.ts';
import { useWorker } from '../support/worker-suite.ts';
import { partnerJob, policyFor } from '../support/partner-jobs.ts';

/** The big file of the 3-file run; BP_PARTNER_BIG_MB overrides (the issue asks ≈ 200 MB). */
const BIG_BYTES = Number(process.env.BP_PARTNER_BIG_MB ?? 200) * 1024 * 1024;

describe('partner events: sequencing.complete and qc.complete on the real local servers', function () {
  this.timeout(300_000);
  const w = useWorker('partner-seq');
  const run = (name: string) => `${name}-${Date.now().toString(36)}`;

  async function process(job: { executionId: string }) {
    return handleJob(w.deps, JSON.stringify(job), 1, new AbortController().signal);
  }

  it('packages a 3-file run (one large) with matching sizes and hashes, then adds qc.json in a second revision', async () => {
    const runId = run('RUN 2026/11#A');
    const sizes: Array<[string, number]> = [
      ['reads/sample1_R1.fastq.gz', BIG_BYTES],
      ['reads/sample1_R2.fastq.gz', 3 * 1024 * 1024 + 17],
      ['SampleSheet.csv', 1234],
    ];
    const files = sizes.map(([path, size]) => ({
      path,
      url: partnerFileUrl(w.sim.url, runId, path, size),
      size,
      sha256: runFileSha256(runId, path, size),
    }));
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'sequencing.complete',
        run: { id: runId, instrument: 'NovaSeq X' },
        samples: [{ id: 's1', name: 'Sample 1' }],
        benchling: { entryId: 'etr_linked1', tenantId: 'ten_p' },
        files,
      },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const ex = await w.deps.executions.get(job.executionId);
    expect(ex!.status, JSON.stringify(ex!.lastError)).to.equal('SUCCEEDED');
    expect(ex!.processingMs).to.be.a('number');

    const pkg = runPackageName('illumina', runId);
    expect(pkg).to.match(/^illumina\/RUN_2026_11_A-[a-z0-9]+-h[0-9a-f]{10}$/);
    const bucket = w.deps.config.names.bucket;
    const first = (await readLatest(w.aws.s3, bucket, pkg))!;
    const byKey = new Map(first.entries.map((e) => [e.logicalKey, e]));
    expect([...byKey.keys()].sort()).to.deep.equal([
      'README.md',
      'data/SampleSheet.csv',
      'data/reads/sample1_R1.fastq.gz',
      'data/reads/sample1_R2.fastq.gz',
      'run.json',
    ]);
    for (const f of files) {
      const e = byKey.get(`data/${f.path}`)!;
      expect(e.size).to.equal(f.size);
      expect(e.meta.sha256).to.equal(f.sha256);
      const head = await w.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: e.physicalKey.key }));
      expect(head.ContentLength).to.equal(f.size);
    }
    const meta = first.meta.userMeta as { benchling: unknown; sequencing: { next_step: string } };
    expect(meta.benchling).to.deep.equal({ entryId: 'etr_linked1', tenantId: 'ten_p' });
    expect(meta.sequencing.next_step).to.equal('quality_control');
    expect(ex!.result).to.deep.include({ package: { name: pkg, topHash: first.topHash } });

    // qc.complete: a second revision with qc.json, the data untouched, the QC summary in the metadata.
    const qc = await partnerJob(w.deps.executions, {
      event: {
        type: 'qc.complete',
        run: { id: runId },
        benchling: { entryId: 'etr_linked1', tenantId: 'ten_p' },
        data: { passed: true, qualityScore: 36.5, coverage: 42 },
      },
      policy: policyFor(w.sim.url),
    });
    expect(await process(qc)).to.deep.equal({ action: 'done' });
    expect((await w.deps.executions.get(qc.executionId))!.status).to.equal('SUCCEEDED');
    const second = (await readLatest(w.aws.s3, bucket, pkg))!;
    expect(second.topHash).to.not.equal(first.topHash);
    expect(second.entries.map((e) => e.logicalKey).sort()).to.deep.equal([
      'README.md',
      'data/SampleSheet.csv',
      'data/reads/sample1_R1.fastq.gz',
      'data/reads/sample1_R2.fastq.gz',
      'qc.json',
      'run.json',
    ]);
    expect((second.meta.userMeta as { qc: unknown }).qc).to.deep.include({
      passed: true,
      qualityScore: 36.5,
      coverage: 42,
      recommendation: 'proceed',
      next_step: 'variant_calling',
    });
    expect((second.meta.userMeta as { sequencing: { fileCount: number } }).sequencing.fileCount).to.equal(3);

    // The entry lists the run, with its QC state.
    const linked = linkedRunsNewestFirst(await w.deps.entries.get(entryKey('ten_p', 'etr_linked1')));
    expect(linked.map((r) => [r.packageName, r.qc.state, r.topHash])).to.deep.equal([[pkg, 'passed', second.topHash]]);
  });

  it('fails an event whose file URL is outside the allow-list, naming the file, and writes nothing', async () => {
    const runId = run('RUN-OUTSIDE');
    const good = { path: 'a.fastq', url: partnerFileUrl(w.sim.url, runId, 'a.fastq', 1000), size: 1000 };
    const bad = { path: 'b.fastq', url: 'http://169.254.169.254/latest/meta-data/', size: 10 };
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'sequencing.complete', run: { id: runId }, files: [good, bad] },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status).to.equal('FAILED');
    expect(ex.lastError!.message).to.match(/file "b\.fastq" refused/);
    const pkg = runPackageName('illumina', runId);
    expect(await readLatest(w.aws.s3, w.deps.config.names.bucket, pkg)).to.equal(undefined);
    const listed = await w.aws.s3.send(new ListObjectsV2Command({ Bucket: w.deps.config.names.bucket, Prefix: `${pkg}/` }));
    expect(listed.KeyCount ?? 0).to.equal(0);
  });

  it('refuses a redirect to a host outside the allow-list, naming the file', async () => {
    const runId = run('RUN-REDIRECT');
    const url = `${partnerFileUrl(w.sim.url, runId, 'r.bin', 100)}&redirect=${encodeURIComponent('http://example.invalid/x')}`;
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'sequencing.complete', run: { id: runId }, files: [{ path: 'r.bin', url, size: 100 }] },
      policy: policyFor(w.sim.url),
    });
    await process(job);
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status).to.equal('FAILED');
    expect(ex.lastError!.message).to.match(/file "r\.bin" refused: redirected to http:\/\/example\.invalid\/x, outside/);
  });

  it('fails an event whose sha256 does not match, naming the file, and publishes nothing', async () => {
    const runId = run('RUN-SHA');
    const size = 9 * 1024 * 1024 + 5;
    const files = [
      { path: 'ok.bin', url: partnerFileUrl(w.sim.url, runId, 'ok.bin', 2000), size: 2000 },
      { path: 'bad.bin', url: partnerFileUrl(w.sim.url, runId, 'bad.bin', size), size, sha256: 'ab'.repeat(32) },
    ];
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'sequencing.complete', run: { id: runId }, files },
      policy: policyFor(w.sim.url),
    });
    await process(job);
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status).to.equal('FAILED');
    expect(ex.lastError!.message).to.match(/^file "bad\.bin": its SHA-256 is [0-9a-f]{64}, the event says abab/);
    const pkg = runPackageName('illumina', runId);
    expect(await readLatest(w.aws.s3, w.deps.config.names.bucket, pkg)).to.equal(undefined);
    // The mismatching file's upload was aborted: no object under its key.
    const listed = await w.aws.s3.send(new ListObjectsV2Command({ Bucket: w.deps.config.names.bucket, Prefix: `${pkg}/data/bad.bin` }));
    expect(listed.KeyCount ?? 0).to.equal(0);
  });
});
