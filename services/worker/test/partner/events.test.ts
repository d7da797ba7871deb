import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handlePartnerFile, partnerFileUrl, runFileSha256 } from '@bp/benchling-sim/partner-files';
import { readLatest } from '@bp/shared/quilt/index';
import { handleJob } from '../../src/index.ts';
import { runPackageName, runResourceKey } from '../../src/partner/index.ts';
import { useWorker } from '../support/worker-suite.ts';
import { partnerJob, policyFor } from '../support/partner-jobs.ts';

describe('partner events: analysis, uploads, errors, retries and the run lease', function () {
  this.timeout(120_000);
  const w = useWorker('partner-events', { maxReceiveCount: 5 });
  const run = (name: string) => `${name}-${Date.now().toString(36)}`;
  const process = (job: { executionId: string }, receiveCount = 1) =>
    handleJob(w.deps, JSON.stringify(job), receiveCount, new AbortController().signal);
  const file = (runId: string, path: string, size: number, withSha = true) => ({
    path,
    url: partnerFileUrl(w.sim.url, runId, path, size),
    size,
    ...(withSha ? { sha256: runFileSha256(runId, path, size) } : {}),
  });

  async function sequenced(runId: string, files: ReturnType<typeof file>[]) {
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'sequencing.complete', run: { id: runId }, files },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    expect((await w.deps.executions.get(job.executionId))!.status).to.equal('SUCCEEDED');
  }

  it('analysis.complete adds the analysis files under analysis/ and a variant summary with its quality class', async () => {
    const runId = run('RUN-ANA');
    await sequenced(runId, [file(runId, 'r1.fq', 5000)]);
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'analysis.complete',
        run: { id: runId },
        files: [file(runId, 'calls.vcf.gz', 70_000)],
        data: { variants: { total: 120, snps: 100 }, qualityScore: 33 },
      },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const latest = (await readLatest(w.aws.s3, w.deps.config.names.bucket, runPackageName('illumina', runId)))!;
    expect(latest.entries.map((e) => e.logicalKey).sort()).to.deep.equal([
      'README.md',
      'analysis/calls.vcf.gz',
      'analysis/variant-summary.json',
      'data/r1.fq',
      'run.json',
    ]);
    expect((latest.meta.userMeta as { analysis: unknown }).analysis).to.deep.include({
      qualityClass: 'medium',
      qualityScore: 33,
      variants: { total: 120, snps: 100 },
      fileCount: 1,
    });
  });

  it('streams s3:// sources under an allowed prefix, and refuses a traversing path before writing anything', async () => {
    const runId = run('RUN-S3');
    const bucket = w.deps.config.names.bucket;
    const bytes = Buffer.from('ACGT'.repeat(5000));
    await w.aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `partner-src/${runId}/lane1.bam`, Body: bytes }));
    const policy = { ...policyFor(w.sim.url), allowedS3Prefixes: [`s3://${bucket}/partner-src/`] };
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'sequencing.complete',
        run: { id: runId },
        files: [{ path: 'lane1.bam', url: `s3://${bucket}/partner-src/${runId}/lane1.bam`, sha256 }],
      },
      policy,
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const latest = (await readLatest(w.aws.s3, bucket, runPackageName('illumina', runId)))!;
    expect(latest.entries.find((e) => e.logicalKey === 'data/lane1.bam')).to.deep.include({ size: bytes.length, meta: { sha256 } });

    const evil = await partnerJob(w.deps.executions, {
      event: {
        type: 'sequencing.complete',
        run: { id: run('RUN-TRAV') },
        files: [file(runId, 'ok.bin', 10), { ...file(runId, 'x', 10), path: 'reads/../../etc/passwd' }],
      },
      policy,
    });
    expect(await process(evil)).to.deep.equal({ action: 'done' });
    const ex = (await w.deps.executions.get(evil.executionId))!;
    expect([ex.status, ex.lastError!.message]).to.deep.equal([
      'FAILED',
      'file "reads/../../etc/passwd" refused: its path has a ".." segment',
    ]);
  });

  it('QUILT_PUBLISH=queue: the files go under the prefix and the engine gets one message with the merged metadata', async () => {
    const runId = run('RUN-QUEUE');
    const deps = { ...w.deps, config: { ...w.deps.config, publishMode: 'queue' as const } };
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'sequencing.complete', run: { id: runId, flowcell: 'FC1' }, files: [file(runId, 'q.fq', 2048)] },
      policy: policyFor(w.sim.url),
    });
    expect(await handleJob(deps, JSON.stringify(job), 1, new AbortController().signal)).to.deep.equal({ action: 'done' });
    const pkg = runPackageName('illumina', runId);
    const res = await w.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: w.deps.config.names.packagerQueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const msgs = (res.Messages ?? [])
      .map((m) => JSON.parse(m.Body!) as { package_name: string; source_prefix: string; metadata: { sequencing: { next_step: string } } })
      .filter((m) => m.package_name === pkg);
    expect(msgs).to.have.length(1);
    expect(msgs[0]!.source_prefix).to.equal(`s3://${w.deps.config.names.bucket}/${pkg}/`);
    expect(msgs[0]!.metadata).to.deep.include({ run: { id: runId, flowcell: 'FC1' } });
    expect(msgs[0]!.metadata.sequencing.next_step).to.equal('quality_control');
    const listed = await w.aws.s3.send(new ListObjectsV2Command({ Bucket: w.deps.config.names.bucket, Prefix: `${pkg}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key!.slice(pkg.length + 1)).sort()).to.deep.equal(['README.md', 'data/q.fq', 'run.json']);
  });

  it('resumes a run file by Range when the connection breaks mid-body', async () => {
    // The partner's server cuts the first full GET of each file after ~3 MB; Range requests are served whole.
    const cut = new Set<string>();
    let ranges = 0;
    const server = http.createServer((req, res) => {
      if (req.headers.range) ranges++;
      if (!req.headers.range && !cut.has(req.url!)) {
        cut.add(req.url!);
        let sent = 0;
        const write = res.write.bind(res) as (chunk: Buffer) => boolean;
        (res as unknown as { write: (c: Buffer) => boolean }).write = (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > 3 * 1024 * 1024) {
            req.socket.destroy();
            return false;
          }
          return write(chunk);
        };
      }
      handlePartnerFile(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const runId = run('RUN-RESUME');
      const size = 12 * 1024 * 1024 + 9;
      const job = await partnerJob(w.deps.executions, {
        event: {
          type: 'sequencing.complete',
          run: { id: runId },
          files: [{ path: 'big.fq', url: partnerFileUrl(base, runId, 'big.fq', size), size, sha256: runFileSha256(runId, 'big.fq', size) }],
        },
        policy: policyFor(base),
      });
      expect(await process(job)).to.deep.equal({ action: 'done' });
      const ex = (await w.deps.executions.get(job.executionId))!;
      expect([ex.status, ex.attempts]).to.deep.equal(['SUCCEEDED', 1]);
      expect([cut.size, ranges]).to.deep.equal([1, 1]);
      const latest = (await readLatest(w.aws.s3, w.deps.config.names.bucket, runPackageName('illumina', runId)))!;
      expect(latest.entries.find((e) => e.logicalKey === 'data/big.fq')!.size).to.equal(size);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('upload.complete says which listed files exist with their stated sizes and hashes', async () => {
    const runId = run('RUN-UP');
    const a = file(runId, 'a.bin', 4096);
    const b = file(runId, 'b.bin', 10_000, false);
    const c = file(runId, 'c.bin', 3000, false);
    await sequenced(runId, [a, b, c]);
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'upload.complete',
        run: { id: runId },
        // a: hash recorded in the manifest; b: streamed and hashed; a-again: missing; c: streamed, wrong hash.
        files: [
          a,
          { ...b, sha256: runFileSha256(runId, 'b.bin', 10_000) },
          { ...a, path: 'a-again.bin' },
          { ...c, sha256: 'cd'.repeat(32) },
        ],
      },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status).to.equal('SUCCEEDED');
    const files = (
      ex.result as { files: Array<{ path: string; exists: boolean; matches: boolean; sha256Matches?: boolean }>; allMatch: boolean }
    ).files;
    expect(files.map((f) => [f.path, f.exists, f.matches, f.sha256Matches])).to.deep.equal([
      ['a.bin', true, true, true],
      ['b.bin', true, true, true],
      ['a-again.bin', false, false, undefined],
      ['c.bin', true, false, false],
    ]);
    expect((ex.result as { allMatch: boolean }).allMatch).to.equal(false);
  });

  it('error.notification is recorded with its severity and message, and counted', async () => {
    const before = await w.deps.metrics.text();
    const count = (text: string) => Number(/bp_partner_error_notifications_total\{severity="critical"\} (\d+)/.exec(text)?.[1] ?? 0);
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'error.notification',
        run: { id: run('RUN-ERR') },
        data: { severity: 'critical', message: 'lane 3 failed', code: 'LANE' },
      },
      policy: policyFor(w.sim.url),
    });
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const ex = (await w.deps.executions.get(job.executionId))!;
    expect(ex.status).to.equal('SUCCEEDED');
    expect(ex.result).to.deep.include({ severity: 'critical', message: 'lane 3 failed', code: 'LANE' });
    expect(count(await w.deps.metrics.text())).to.equal(count(before) + 1);
  });

  it("retries a transient failure with the next retry time recorded, and fails the event after the partner's max retries", async () => {
    const runId = run('RUN-RETRY');
    const job = await partnerJob(w.deps.executions, {
      event: {
        type: 'sequencing.complete',
        run: { id: runId },
        files: [{ path: 'x.bin', url: 'http://127.0.0.1:1/partner-runs/x.bin', size: 10 }],
      },
      policy: { ...policyFor(w.sim.url), allowedUrlPatterns: ['^http://127\\.0\\.0\\.1:1/.*$'], maxRetries: 2 },
    });
    const first = await process(job, 1);
    expect(first.action).to.equal('retry');
    const retrying = (await w.deps.executions.get(job.executionId))!;
    expect(retrying.status).to.equal('RUNNING');
    expect(retrying.lastError!.message).to.match(/^file "x\.bin": /);
    expect(Date.parse(retrying.nextAttemptAt!)).to.be.greaterThan(Date.now());
    expect((await process(job, 2)).action).to.equal('retry');
    // Two retries after the first attempt: the third receive is the partner's last (3 < the queue's 5):
    // FAILED, and the message dead-lettered by the worker.
    const third = await process(job, 3);
    expect(third.action).to.equal('deadLetter');
    const failed = (await w.deps.executions.get(job.executionId))!;
    expect([failed.status, failed.attempts, failed.nextAttemptAt]).to.deep.equal(['FAILED', 3, undefined]);
    expect(failed.lastError!.message).to.match(/gave up after 3 attempts.*file "x\.bin"/);
    expect(failed.processingMs).to.be.a('number');
  });

  it('serialises the events of one run: a job whose run is busy is re-enqueued, then runs', async () => {
    const runId = run('RUN-BUSY');
    const key = runResourceKey('illumina', runId);
    await w.deps.entries.acquireEntryLease(key, 'pev_other', 60_000);
    const job = await partnerJob(w.deps.executions, {
      event: { type: 'qc.complete', run: { id: runId }, data: { passed: false, qualityScore: 20, coverage: 8 } },
      policy: policyFor(w.sim.url),
    });
    const outcome = await process(job);
    expect(outcome.action).to.equal('requeue');
    expect(JSON.parse((outcome as { body: string }).body)).to.deep.equal(job);
    expect((await w.deps.executions.get(job.executionId))!.leaseOwner).to.equal(undefined);
    await w.deps.entries.handOffEntryLease(key, 'pev_other', 'none', 60_000);
    expect(await process(job)).to.deep.equal({ action: 'done' });
    const latest = (await readLatest(w.aws.s3, w.deps.config.names.bucket, runPackageName('illumina', runId)))!;
    expect((latest.meta.userMeta as { qc: unknown }).qc).to.deep.include({
      passed: false,
      recommendation: 'review_required',
      next_step: 'resequencing_required',
    });
    expect((await w.deps.entries.get(key))!.leaseExecutionId).to.equal(undefined);
  });
});
