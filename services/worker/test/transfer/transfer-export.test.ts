import { expect } from 'chai';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type AwsClients,
  PackagerError,
  PermanentError,
  TransientError,
  awsOptionsFromEnv,
  createAwsClients,
  createLogger,
} from '@bp/shared';
import { hashBuffer } from '@bp/shared/quilt/hash';
import { isolatedEnv } from '@bp/local-stack/testing';
import { DEFAULT_ZIP_LIMITS, type TransferOptions, type ZipLimits, transferExport } from '../../src/transfer/index.ts';
import { ExportServer, type Served } from './support/export-server.ts';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { type ZipEntrySpec, buildZip } from './support/zip-builder.ts';

const MiB = 1024 * 1024;
const logger = createLogger({ service: 'transfer-test', silent: true });

/** Text-like bytes: compressible, but nowhere near bomb ratios. */
function textBytes(n: number, seed = 1): Buffer {
  const words = ['sample', 'plate', 'assay', 'buffer', 'result', 'control', 'µL', '37°C', 'pH 7.4', '\n'];
  const parts: string[] = [];
  let len = 0;
  for (let i = seed; len < n; i = (i * 1103515245 + 12345) % 2 ** 31) {
    const w = `${words[i % words.length]}${i % 997} `;
    parts.push(w);
    len += Buffer.byteLength(w);
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

async function expectRejection(p: Promise<unknown>): Promise<PackagerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the transfer to fail').to.be.instanceOf(PackagerError);
  return err as PackagerError;
}

describe('export transfer (ZIP download → S3)', function () {
  this.timeout(60_000);
  let aws: AwsClients;
  let bucket: string;
  const server = new ExportServer();
  let tmpDir: string;

  before(async () => {
    const env = await isolatedEnv('transfer');
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
    bucket = env.PACKAGE_BUCKET!;
    await server.start();
  });
  after(async () => {
    await server.stop();
    aws?.destroy();
  });
  beforeEach(async () => {
    tmpDir = await mkdtemp(path.join(os.tmpdir(), 'bp-transfer-test-'));
  });
  afterEach(async () => {
    // Every transfer, failed or not, must leave its temp directory empty.
    const left = await readdir(tmpDir);
    await rm(tmpDir, { recursive: true, force: true });
    expect(left, 'temp files left behind').to.deep.equal([]);
  });

  /** Serves `zip` at a fresh path and transfers it under a fresh prefix. */
  function transfer(zip: Buffer | undefined, o: Partial<TransferOptions> & { route?: Served } = {}) {
    const id = randomUUID();
    const urlPath = `/exports/${id}.zip`;
    server.routes.set(urlPath, o.route ?? { body: zip! });
    const prefix = o.prefix ?? `benchling/EXP${id.slice(0, 8)}/`;
    const { route: _route, ...rest } = o;
    const run = transferExport(
      { s3: aws.s3, logger },
      { downloadUrl: server.url(urlPath), bucket, prefix, limits: DEFAULT_ZIP_LIMITS, tmpDir, ...rest },
    );
    return { prefix, run };
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const res = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((c) => c.Key!).sort();
  }

  async function objectBytes(key: string): Promise<Buffer> {
    const res = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  describe('a well-formed export', () => {
    it('uploads small files, nested directories and non-ASCII names; bytes and hashes match an independent computation', async () => {
      const files: Array<{ spec: ZipEntrySpec; logicalKey: string }> = [
        { spec: { name: 'EXP00001234.pdf', data: randomBytes(70_000) }, logicalKey: 'EXP00001234.pdf' },
        { spec: { name: 'attachments/' }, logicalKey: '' },
        {
          spec: { name: 'attachments/plates/run 1/values.csv', data: textBytes(300_000) },
          logicalKey: 'attachments/plates/run 1/values.csv',
        },
        // Stored (no compression) and written with a trailing data descriptor, as streaming writers do.
        {
          spec: { name: 'attachments/raw.bin', data: randomBytes(5000), method: 'store', dataDescriptor: true },
          logicalKey: 'attachments/raw.bin',
        },
        // NFD in the archive ("e" + combining acute), NFC in S3.
        {
          spec: { name: 'notes/Re\u0301sume\u0301 – 日本語 µL.txt', data: textBytes(1000, 7) },
          logicalKey: 'notes/R\u00e9sum\u00e9 – 日本語 µL.txt',
        },
        { spec: { name: 'empty.txt', data: Buffer.alloc(0) }, logicalKey: 'empty.txt' },
        // Windows-style separators are read as separators.
        { spec: { name: 'win\\sub\\doc.txt', data: textBytes(200, 3) }, logicalKey: 'win/sub/doc.txt' },
      ];
      const { prefix, run } = transfer(buildZip(files.map((f) => f.spec)));
      const result = await run;

      const expected = files.filter((f) => f.logicalKey !== '');
      expect(result.map((f) => f.logicalKey)).to.deep.equal(expected.map((f) => f.logicalKey));
      for (const [i, f] of expected.entries()) {
        const data = f.spec.data!;
        const got = result[i]!;
        expect(got.key).to.equal(prefix + f.logicalKey);
        expect(got.size).to.equal(data.length);
        expect(got.hash).to.deep.equal(hashBuffer(data));
        expect((await objectBytes(got.key)).equals(data), `bytes of ${got.key}`).to.equal(true);
      }
      expect(await keysUnder(prefix)).to.deep.equal(expected.map((f) => prefix + f.logicalKey).sort());
    });

    it('uploads a file larger than one part as a multipart upload, hashing it while it streams', async () => {
      const big = Buffer.concat([randomBytes(9 * MiB), textBytes(12 * MiB)]);
      const small = textBytes(10_000, 5);
      const { prefix, run } = transfer(
        buildZip([
          { name: 'data/big.bin', data: big },
          { name: 'data/after.txt', data: small },
        ]),
      );
      const result = await run;

      expect(result.map((f) => [f.logicalKey, f.size])).to.deep.equal([
        ['data/big.bin', big.length],
        ['data/after.txt', small.length],
      ]);
      expect(result[0]!.hash).to.deep.equal(hashBuffer(big));
      expect(result[1]!.hash).to.deep.equal(hashBuffer(small));
      // A multipart object's ETag ends in -<parts>: 21 MiB in 8 MiB parts is 3.
      expect(result[0]!.etag).to.match(/-3"$/);
      expect((await objectBytes(`${prefix}data/big.bin`)).equals(big)).to.equal(true);
    });

    it('starts the next files while S3 completes a large one, and never beside its parts', async () => {
      const big = randomBytes(17 * MiB);
      const second = randomBytes(9 * MiB);
      const small = textBytes(3000, 6);
      const { prefix, run } = transfer(
        buildZip([
          { name: 'big.bin', data: big, method: 'store' },
          { name: 'second.bin', data: second, method: 'store' },
          { name: 'small.txt', data: small },
        ]),
      );
      // What reached S3, in order; the first completion is held for a while, as a slow S3 would.
      const events: string[] = [];
      const name = `order-${randomUUID()}`;
      let held = false;
      aws.s3.middlewareStack.add(
        (next, context) => async (args) => {
          const command = (context as { commandName?: string }).commandName ?? '?';
          const key = ((args.input as { Key?: string }).Key ?? '').slice(prefix.length);
          if (!key) return next(args);
          const what = `${command.replace(/Command$/, '')} ${key}`;
          events.push(what);
          if (command === 'CompleteMultipartUploadCommand' && !held) {
            held = true;
            await new Promise((r) => setTimeout(r, 1500));
          }
          const out = await next(args);
          events.push(`${what} done`);
          return out;
        },
        { step: 'initialize', name },
      );
      try {
        const result = await run;
        expect(result.map((f) => f.logicalKey)).to.deep.equal(['big.bin', 'second.bin', 'small.txt']);
        expect(result[1]!.hash).to.deep.equal(hashBuffer(second));
      } finally {
        aws.s3.middlewareStack.remove(name);
      }
      const at = (e: string) => events.indexOf(e);
      // The second large file went up while the first was being completed...
      expect(at('UploadPart second.bin'), events.join(', ')).to.be.above(at('CompleteMultipartUpload big.bin'));
      expect(at('UploadPart second.bin'), events.join(', ')).to.be.below(at('CompleteMultipartUpload big.bin done'));
      // ...but none of its requests before the first one's last part was in.
      const lastPartOfBig = events.lastIndexOf('UploadPart big.bin done');
      expect(at('CreateMultipartUpload second.bin'), events.join(', ')).to.be.above(lastPartOfBig);
      // A small file after a large one waits for the large one's parts as well, not its completion.
      expect(at('PutObject small.txt'), events.join(', ')).to.be.above(events.lastIndexOf('UploadPart second.bin done'));
      expect((await objectBytes(`${prefix}big.bin`)).equals(big)).to.equal(true);
    });
  });

  describe('signing with the digests already computed', () => {
    it("gives the signer each part's chunk digest, so every uploaded byte is hashed once", async () => {
      const big = Buffer.concat([randomBytes(8 * MiB), textBytes(9 * MiB, 3)]);
      const small = textBytes(30_000, 4);
      // What each upload request carries once the build step is over, before the signer could add anything.
      const seen: Array<{ command: string; key?: string; part?: number; header?: string }> = [];
      const name = `seen-${randomUUID()}`;
      aws.s3.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Key?: string; PartNumber?: number };
          const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
          seen.push({
            command: (context as { commandName?: string }).commandName ?? '?',
            key: input.Key,
            part: input.PartNumber,
            header: headers['x-amz-content-sha256'],
          });
          return next(args);
        },
        { step: 'build', priority: 'low', name },
      );
      try {
        const { prefix, run } = transfer(
          buildZip([
            { name: 'big.bin', data: big, method: 'store' },
            { name: 'small.txt', data: small },
          ]),
        );
        const files = await run;
        expect(files[0]!.hash).to.deep.equal(hashBuffer(big));
        const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
        const parts = seen
          .filter((r) => r.command === 'UploadPartCommand' && r.key === `${prefix}big.bin`)
          .sort((a, b) => a.part! - b.part!);
        expect(parts.map((r) => [r.part, r.header])).to.deep.equal([
          [1, sha(big.subarray(0, 8 * MiB))],
          [2, sha(big.subarray(8 * MiB, 16 * MiB))],
          [3, sha(big.subarray(16 * MiB))],
        ]);
        const put = seen.find((r) => r.command === 'PutObjectCommand' && r.key === `${prefix}small.txt`);
        expect(put?.header).to.equal(sha(small));
        expect((await objectBytes(`${prefix}big.bin`)).equals(big)).to.equal(true);
      } finally {
        aws.s3.middlewareStack.remove(name);
      }
    });
  });

  describe('S3 refusing a part whose bytes do not match its digest', () => {
    it('is a TransientError (the bytes were damaged on the way), and the transfer rolls back', async () => {
      const big = randomBytes(10 * MiB);
      const name = `mismatch-${randomUUID()}`;
      // Real S3 answers 400 XAmzContentSHA256Mismatch when a body does not hash to the signed value.
      aws.s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (
            (context as { commandName?: string }).commandName === 'UploadPartCommand' &&
            (args.input as { PartNumber?: number }).PartNumber === 2
          ) {
            throw Object.assign(new Error('The provided x-amz-content-sha256 header does not match what was computed.'), {
              name: 'XAmzContentSHA256Mismatch',
              $metadata: { httpStatusCode: 400 },
            });
          }
          return next(args);
        },
        { step: 'build', priority: 'low', name },
      );
      try {
        const { prefix, run } = transfer(
          buildZip([
            { name: 'small.txt', data: textBytes(1000) },
            { name: 'big.bin', data: big, method: 'store' },
          ]),
        );
        const err = await expectRejection(run);
        expect(err).to.be.instanceOf(TransientError);
        expect(err.code).to.equal('S3DigestMismatch');
        expect(await keysUnder(prefix)).to.deep.equal([]);
      } finally {
        aws.s3.middlewareStack.remove(name);
      }
    });
  });

  describe('following the download (the directory by Range, the files as their bytes arrive)', () => {
    /** Polls until `key` exists in S3, or gives up after `ms`. */
    async function appears(key: string, ms: number): Promise<boolean> {
      for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
        if ((await keysUnder(key)).includes(key)) return true;
      }
      return false;
    }

    // These ZIPs are small: follow them anyway (by default only ZIPs of 8 MiB or more are).
    const follow = { followFromBytes: 0 };

    it('reads a ZIP below followFromBytes once downloaded, without a Range request', async () => {
      const data = textBytes(100_000, 6);
      const before = server.rangeRequests.length;
      const { prefix, run } = transfer(buildZip([{ name: 'small.txt', data }]));
      expect((await run).map((f) => f.key)).to.deep.equal([`${prefix}small.txt`]);
      expect(server.rangeRequests.length).to.equal(before);
    });

    it('uploads the first files while the rest of the ZIP is still downloading', async () => {
      const first = textBytes(50_000, 2);
      const rest = randomBytes(3 * MiB);
      const zip = buildZip([
        { name: 'first.txt', data: first },
        { name: 'rest.bin', data: rest, method: 'store' },
      ]);
      let resume!: () => void;
      const resumed = new Promise<void>((r) => (resume = r));
      // The server stops after ~1 MiB, well before the central directory, until the test lets it go on.
      const { prefix, run } = transfer(undefined, { ...follow, route: { body: zip, pauseAfterBytes: MiB, resume: resumed } });
      const outcome = run.then(
        (files) => ({ files }),
        (err: unknown) => ({ err }),
      );
      try {
        expect(await appears(`${prefix}first.txt`, 10_000), 'first.txt in S3 while the download is paused').to.equal(true);
        // Straight from the download: no spool file.
        expect(await readdir(tmpDir), 'files in the temp directory').to.deep.equal([]);
      } finally {
        resume();
      }
      const done = await outcome;
      expect(done).to.have.property('files');
      const files = (done as { files: Awaited<typeof run> }).files;
      expect(files.map((f) => [f.logicalKey, f.size])).to.deep.equal([
        ['first.txt', first.length],
        ['rest.bin', rest.length],
      ]);
      expect(files[1]!.hash).to.deep.equal(hashBuffer(rest));
      expect((await objectBytes(`${prefix}rest.bin`)).equals(rest)).to.equal(true);
      // The directory came by Range: one request for the tail (two if the directory is longer than it).
      const ranged = server.rangeRequests.filter((r) => r.startsWith(`/exports/${prefix.slice('benchling/EXP'.length, -1)}`));
      expect(ranged.length).to.be.within(1, 2);
    });

    it('refuses an unsafe ZIP from its directory without waiting for the download to finish', async () => {
      const zip = buildZip([
        { name: 'big.bin', data: randomBytes(2 * MiB), method: 'store' },
        { name: '../escape.txt', data: textBytes(100) },
      ]);
      let resume!: () => void;
      const resumed = new Promise<void>((r) => (resume = r));
      try {
        const started = Date.now();
        const err = await expectRejection(
          transfer(undefined, { ...follow, route: { body: zip, pauseAfterBytes: 256 * 1024, resume: resumed } }).run,
        );
        expect(err.code).to.equal('ZipTraversal');
        expect(Date.now() - started, 'refused while the download was still paused').to.be.below(10_000);
      } finally {
        resume();
      }
    });

    it('still works against a server without Range support: it reads the directory once the download has it', async () => {
      const data = textBytes(200_000, 4);
      const before = server.rangeRequests.length;
      const { prefix, run } = transfer(undefined, { ...follow, route: { body: buildZip([{ name: 'a.txt', data }]), ignoreRange: true } });
      const files = await run;
      expect(files.map((f) => f.key)).to.deep.equal([`${prefix}a.txt`]);
      expect((await objectBytes(`${prefix}a.txt`)).equals(data)).to.equal(true);
      expect(server.rangeRequests.length).to.equal(before);
    });

    it('does not mix two versions of the object: a tail from another ZIP is ignored, with or without an ETag', async () => {
      const data = textBytes(300_000, 8);
      const zip = buildZip([{ name: 'real.txt', data }]);
      const other = buildZip([
        { name: 'other.txt', data: textBytes(400_000, 9) },
        { name: 'more.txt', data: textBytes(1000) },
      ]);
      // With an ETag the ranged request carries If-Match and the server refuses it (412).
      const withEtag = transfer(undefined, { ...follow, route: { body: zip, rangeBody: other } });
      expect((await withEtag.run).map((f) => f.logicalKey)).to.deep.equal(['real.txt']);
      // Without one, the Content-Range total (another size) gives it away.
      const noEtag = transfer(undefined, { ...follow, route: { body: zip, rangeBody: other, headers: { etag: '' } } });
      expect((await noEtag.run).map((f) => f.logicalKey)).to.deep.equal(['real.txt']);
      expect((await objectBytes(`${noEtag.prefix}real.txt`)).equals(data)).to.equal(true);
    });

    it('streams a ZIP with folder entries, an empty file and data descriptors, skipping what is not a file', async () => {
      const a = textBytes(120_000, 11);
      const b = randomBytes(200_000);
      const zip = buildZip([
        { name: 'docs/' },
        { name: 'docs/a.txt', data: a, dataDescriptor: true },
        { name: 'empty.txt' },
        { name: 'raw/' },
        { name: 'raw/b.bin', data: b, method: 'store', dataDescriptor: true },
      ]);
      const { prefix, run } = transfer(zip, follow);
      const files = await run;
      expect(files.map((f) => [f.logicalKey, f.size])).to.deep.equal([
        ['docs/a.txt', a.length],
        ['empty.txt', 0],
        ['raw/b.bin', b.length],
      ]);
      expect((await objectBytes(`${prefix}docs/a.txt`)).equals(a)).to.equal(true);
      expect((await objectBytes(`${prefix}raw/b.bin`)).equals(b)).to.equal(true);
      expect((await objectBytes(`${prefix}empty.txt`)).length).to.equal(0);
    });

    it('stops the files waiting for their bytes when one fails, and rolls back the rest', async () => {
      // The liar inflates past its declared size while the files after it wait on the download for
      // their headers; its data is larger than its stream's buffer, so the source is still feeding it.
      const liar: ZipEntrySpec = { name: 'liar.txt', data: randomBytes(3 * MiB), declaredSize: MiB };
      const zip = buildZip([
        { name: 'a.txt', data: textBytes(5000, 13) },
        liar,
        ...['c', 'd', 'e'].map((n, i) => ({ name: `${n}.txt`, data: textBytes(80_000, 14 + i) })),
      ]);
      const { prefix, run } = transfer(zip, follow);
      const err = await expectRejection(run);
      expect(err.code).to.equal('ZipBomb');
      expect(err.details.entry).to.equal('liar.txt');
      expect(await keysUnder(prefix)).to.deep.equal([]);
    });

    it('reads a ZIP whose directory lists the entries in another order than their data (from a spool)', async () => {
      const a = randomBytes(300_000);
      const b = textBytes(200_000, 5);
      const c = randomBytes(100_000);
      const zip = buildZip(
        [
          { name: 'a.bin', data: a, method: 'store' },
          { name: 'b.txt', data: b },
          { name: 'c.bin', data: c, method: 'store' },
        ],
        { directoryOrder: [2, 0, 1] },
      );
      const { prefix, run } = transfer(zip, follow);
      const files = await run;
      expect(files.map((f) => [f.logicalKey, f.size])).to.deep.equal([
        ['c.bin', c.length],
        ['a.bin', a.length],
        ['b.txt', b.length],
      ]);
      for (const [name, data] of [
        ['a.bin', a],
        ['b.txt', b],
        ['c.bin', c],
      ] as const) {
        expect((await objectBytes(`${prefix}${name}`)).equals(data), name).to.equal(true);
      }
    });

    it("fails with the download's error when it breaks after files went up, and deletes them", async () => {
      const zip = buildZip([
        { name: 'a.txt', data: textBytes(20_000, 1) },
        { name: 'b.txt', data: textBytes(20_000, 2) },
        { name: 'big.bin', data: randomBytes(3 * MiB), method: 'store' },
      ]);
      const sent: string[] = [];
      const stop = recordCommands(aws, sent);
      let resume!: () => void;
      const resumed = new Promise<void>((r) => (resume = r));
      try {
        // Paused after 1 MiB until both small files are in S3, then cut at 2 MiB.
        // Resuming the cut connection is refused too (the ZIP's tail, fetched first, is not).
        const { prefix, run } = transfer(undefined, {
          ...follow,
          route: { body: zip, pauseAfterBytes: MiB, resume: resumed, cutAfterBytes: 2 * MiB, refuseRangeBefore: zip.length - 200_000 },
        });
        const failed = expectRejection(run);
        const uploadedBeforeCut = (await appears(`${prefix}a.txt`, 10_000)) && (await appears(`${prefix}b.txt`, 10_000));
        resume();
        const err = await failed;
        expect(uploadedBeforeCut, 'a.txt and b.txt uploaded before the cut').to.equal(true);
        expect(err).to.be.instanceOf(TransientError);
        expect(err.code).to.equal('DownloadInterrupted');
        expect(await keysUnder(prefix)).to.deep.equal([]);
      } finally {
        resume();
        stop();
      }
      // The small files had gone up before the cut (the directory came by Range), and were deleted again.
      expect(sent.filter((c) => c === 'PutObjectCommand').length).to.equal(2);
      expect(sent.filter((c) => c === 'DeleteObjectCommand').length).to.equal(2);
    });
  });

  describe('an unsafe ZIP is refused before anything is written', () => {
    const good: ZipEntrySpec = { name: 'good.txt', data: textBytes(5000) };
    const cases: Array<{ title: string; entries: ZipEntrySpec[]; code: string; entry?: string; limits?: Partial<ZipLimits> }> = [
      {
        title: 'a ".." segment',
        entries: [good, { name: 'docs/../../etc/cron.d/evil', data: Buffer.from('x') }],
        code: 'ZipTraversal',
        entry: 'docs/../../etc/cron.d/evil',
      },
      {
        title: 'a ".." hidden behind backslashes',
        entries: [good, { name: '..\\..\\evil.txt', data: Buffer.from('x') }],
        code: 'ZipTraversal',
        entry: '..\\..\\evil.txt',
      },
      { title: 'a ".." directory entry', entries: [good, { name: '../' }], code: 'ZipTraversal', entry: '../' },
      {
        title: 'an absolute path',
        entries: [good, { name: '/etc/passwd', data: Buffer.from('x') }],
        code: 'ZipAbsolutePath',
        entry: '/etc/passwd',
      },
      {
        title: 'a drive letter',
        entries: [good, { name: 'C:/Windows/evil.dll', data: Buffer.from('x') }],
        code: 'ZipAbsolutePath',
        entry: 'C:/Windows/evil.dll',
      },
      {
        title: 'a UNC path',
        entries: [good, { name: '\\\\server\\share\\evil', data: Buffer.from('x') }],
        code: 'ZipAbsolutePath',
        entry: '\\\\server\\share\\evil',
      },
      {
        title: 'a NUL byte in a name',
        entries: [good, { name: 'evil.txt\u0000.pdf', data: Buffer.from('x') }],
        code: 'ZipBadPath',
        entry: 'evil.txt\u0000.pdf',
      },
      {
        title: 'a symbolic link',
        entries: [good, { name: 'link', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 }],
        code: 'ZipSymlink',
        entry: 'link',
      },
      {
        title: 'a highly compressed entry (bomb)',
        entries: [good, { name: 'zeros.bin', data: Buffer.alloc(20 * MiB) }],
        code: 'ZipBomb',
        entry: 'zeros.bin',
      },
      {
        title: 'more entries than allowed',
        entries: [good, ...Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from(`${i}`) }))],
        code: 'ZipTooManyEntries',
        limits: { maxEntries: 5 },
      },
      {
        title: 'more uncompressed bytes than allowed',
        entries: [good, { name: 'a.bin', data: randomBytes(60_000) }],
        code: 'ZipTooLarge',
        entry: 'a.bin',
        limits: { maxTotalUncompressedBytes: 50_000 },
      },
      {
        title: 'two names that are the same file once normalised',
        entries: [good, { name: 'Caf\u00e9.txt', data: Buffer.from('1') }, { name: 'Cafe\u0301.txt', data: Buffer.from('2') }],
        code: 'ZipDuplicatePath',
        entry: 'Cafe\u0301.txt',
      },
      {
        title: 'a name that is both a file and a folder',
        entries: [good, { name: 'data', data: Buffer.from('1') }, { name: 'data/x.csv', data: Buffer.from('2') }],
        code: 'ZipPathConflict',
        entry: 'data/x.csv',
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.title} (${c.code}) and writes nothing to S3`, async () => {
        const sent: string[] = [];
        const stop = recordCommands(aws, sent);
        const { prefix, run } = transfer(buildZip(c.entries), { limits: { ...DEFAULT_ZIP_LIMITS, ...c.limits } });
        try {
          const err = await expectRejection(run);
          expect(err).to.be.instanceOf(PermanentError);
          expect(err.code).to.equal(c.code);
          if (c.entry !== undefined) expect(err.details.entry).to.equal(c.entry);
        } finally {
          stop();
        }
        // The whole central directory is checked first: not even the good file before the bad entry went out.
        expect(sent).to.deep.equal([]);
        expect(await keysUnder(prefix)).to.deep.equal([]);
      });
    }

    it('refuses an entry inflating past its declared size, aborting its multipart upload and deleting files already written', async () => {
      // The header claims 9 MiB; the data is 20 MiB. Declared sizes pass every check, so only the streamed count can catch it.
      const liar: ZipEntrySpec = { name: 'liar.bin', data: randomBytes(20 * MiB), declaredSize: 9 * MiB };
      const sent: string[] = [];
      const { prefix, run } = transfer(buildZip([{ name: 'first.txt', data: textBytes(5000) }, liar]));
      const stop = recordCommands(aws, sent);
      try {
        const err = await expectRejection(run);
        expect(err).to.be.instanceOf(PermanentError);
        expect(err.code).to.equal('ZipBomb');
        expect(err.details.entry).to.equal('liar.bin');
      } finally {
        stop();
      }
      expect(sent).to.include('UploadPartCommand');
      expect(sent).to.include('AbortMultipartUploadCommand');
      expect(sent).to.not.include('CompleteMultipartUploadCommand');
      expect(sent).to.include('DeleteObjectCommand');
      expect(await keysUnder(prefix)).to.deep.equal([]);
    });

    it('refuses an entry that ends short of its declared size', async () => {
      const { prefix, run } = transfer(buildZip([{ name: 'short.txt', data: textBytes(1000), declaredSize: 1500 }]));
      const err = await expectRejection(run);
      expect(err.code).to.equal('ZipCorrupt');
      expect(await keysUnder(prefix)).to.deep.equal([]);
    });

    it("refuses a stored entry whose bytes fail the directory's CRC-32, as one PUT or in parts, before its object exists", async () => {
      // Stored entries are checked by the writer, not by yauzl: the check must still stop the object.
      for (const size of [3000, 9 * MiB]) {
        const data = randomBytes(size);
        const zip = buildZip([
          { name: 'first.txt', data: textBytes(5000) },
          { name: 'flipped.bin', data, method: 'store' },
        ]);
        // The last byte of the stored data: every other byte (and every part before the last) is good.
        zip[zip.indexOf(data.subarray(0, 64)) + size - 1]! ^= 0x01;
        const sent: string[] = [];
        const keys: string[] = [];
        const { prefix, run } = transfer(zip);
        const stop = recordCommands(aws, sent, undefined, keys);
        try {
          const err = await expectRejection(run);
          expect(err, `${size} bytes`).to.be.instanceOf(PermanentError);
          expect(err.code).to.equal('ZipCorrupt');
          expect(err.details.entry).to.equal('flipped.bin');
          expect(err.message).to.match(/CRC/);
        } finally {
          stop();
        }
        if (size > 8 * MiB) {
          // The first part went (or was about to go) before the last byte was read: the upload is aborted.
          expect(sent, JSON.stringify(keys)).to.include('CreateMultipartUploadCommand');
          expect(sent).to.include('AbortMultipartUploadCommand');
          expect(sent).to.not.include('CompleteMultipartUploadCommand');
        } else expect(keys, 'flipped.bin was never PUT').to.not.include(`PutObjectCommand ${prefix}flipped.bin`);
        expect(await keysUnder(prefix), `${size} bytes`).to.deep.equal([]);
      }
    });

    it('rolls back only the objects it wrote, including files uploaded in parallel: other keys under the prefix stay', async () => {
      const before = Array.from({ length: 6 }, (_, i) => ({ name: `before/${i}.txt`, data: textBytes(20_000, i + 1) }));
      const after = Array.from({ length: 3 }, (_, i) => ({ name: `after/${i}.txt`, data: textBytes(100, i + 1) }));
      const zip = buildZip([...before, { name: 'bad.txt', data: textBytes(1000), declaredSize: 2000 }, ...after]);
      const sent: string[] = [];
      const prefix = `benchling/EXP${randomUUID().slice(0, 8)}/`;
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}unrelated.txt`, Body: 'keep me' }));
      const stop = recordCommands(aws, sent);
      const { run } = transfer(zip, { prefix, fileConcurrency: 3 });
      try {
        const err = await expectRejection(run);
        expect(err.code).to.equal('ZipCorrupt');
        expect(err.details.entry).to.equal('bad.txt');
      } finally {
        stop();
      }
      // At least the first batch was written before the bad entry failed, and all of it was deleted again.
      expect(sent.filter((c) => c === 'PutObjectCommand').length).to.be.at.least(3);
      expect(sent.filter((c) => c === 'DeleteObjectCommand').length).to.equal(sent.filter((c) => c === 'PutObjectCommand').length);
      expect(await keysUnder(prefix)).to.deep.equal([`${prefix}unrelated.txt`]);
    });

    it('refuses a download that is larger than maxZipBytes, whether or not it declares its length', async () => {
      const zip = buildZip([{ name: 'a.bin', data: randomBytes(100_000) }]);
      const limits = { ...DEFAULT_ZIP_LIMITS, maxZipBytes: 50_000 };
      const declared = await expectRejection(transfer(zip, { limits }).run);
      expect(declared.code).to.equal('ZipTooLarge');
      // Without Content-Length the cap is enforced on the bytes as they arrive.
      const chunked = await expectRejection(
        transfer(undefined, { limits, route: { body: zip, headers: { 'transfer-encoding': 'chunked' } } }).run,
      );
      expect(chunked.code).to.equal('ZipTooLarge');
    });

    it('refuses a file that is not a ZIP', async () => {
      const err = await expectRejection(transfer(Buffer.from('<html>Access Denied</html>')).run);
      expect(err).to.be.instanceOf(PermanentError);
      expect(err.code).to.equal('ZipCorrupt');
    });
  });

  describe('download failures', () => {
    it('turns a 404 into a PermanentError without leaking the URL signature', async () => {
      const err = await expectRejection(transfer(undefined, { route: { status: 404, body: Buffer.from('gone') } }).run);
      expect(err).to.be.instanceOf(PermanentError);
      expect(err.code).to.equal('DownloadNotFound');
      expect(err.message).to.not.include('secret-signature');
      expect(JSON.stringify(err.details)).to.not.include('secret-signature');
    });

    it('turns a 503 into a TransientError that carries Retry-After', async () => {
      const err = await expectRejection(transfer(undefined, { route: { status: 503, headers: { 'retry-after': '7' } } }).run);
      expect(err).to.be.instanceOf(TransientError);
      expect(err.code).to.equal('DownloadUnavailable');
      expect((err as TransientError).retryAfterMs).to.equal(7000);
    });

    it('turns a refused connection, and a connection cut mid-body that cannot be resumed, into TransientErrors', async () => {
      const refused = await expectRejection(transfer(Buffer.alloc(0), { downloadUrl: 'http://127.0.0.1:1/export.zip' }).run);
      expect(refused).to.be.instanceOf(TransientError);
      const zip = buildZip([{ name: 'a.bin', data: randomBytes(500_000) }]);
      // Without Range support there is no picking up where it broke.
      const cut = await expectRejection(transfer(undefined, { route: { body: zip, cutAfterBytes: 200_000, ignoreRange: true } }).run);
      expect(cut).to.be.instanceOf(TransientError);
      expect(cut.code).to.equal('DownloadInterrupted');
    });

    it('picks up a connection that broke or stalled mid-body where it stopped, streamed or spooled', async () => {
      const data = randomBytes(3 * MiB);
      const zip = buildZip([
        { name: 'a.txt', data: textBytes(50_000, 3) },
        { name: 'b.bin', data, method: 'store' },
      ]);
      for (const [how, route, extra] of [
        ['cut, streamed', { cutAfterBytes: MiB }, { followFromBytes: 0 }],
        ['stalled, streamed', { stallAfterBytes: MiB }, { followFromBytes: 0, stallTimeoutMs: 300 }],
        ['cut, spooled', { cutAfterBytes: MiB }, {}],
      ] as const) {
        const before = server.rangeRequests.length;
        const { prefix, run } = transfer(undefined, { route: { body: zip, ...route }, ...extra });
        const files = await run;
        expect(
          files.map((f) => f.logicalKey),
          how,
        ).to.deep.equal(['a.txt', 'b.bin']);
        expect((await objectBytes(`${prefix}b.bin`)).equals(data), how).to.equal(true);
        // One Range request picked the body up after the break (besides any for the directory).
        const resumed = server.rangeRequests.slice(before).filter((r) => {
          const start = Number(/bytes=(\d+)-/.exec(r)![1]);
          return start > 0 && start <= MiB;
        });
        expect(resumed, how).to.have.length(1);
      }
    });

    it('gives up on a download that stops sending bytes', async () => {
      const zip = buildZip([{ name: 'a.bin', data: randomBytes(500_000) }]);
      const err = await expectRejection(
        transfer(undefined, { route: { body: zip, stallAfterBytes: 100_000, ignoreRange: true }, stallTimeoutMs: 300 }).run,
      );
      expect(err).to.be.instanceOf(TransientError);
      expect(err.code).to.equal('DownloadStalled');
    });
  });

  describe('abort', () => {
    it('aborts the in-flight multipart upload, deletes finished files and stops when the signal fires', async () => {
      const controller = new AbortController();
      const sent: string[] = [];
      const zip = buildZip([
        { name: 'first.txt', data: textBytes(5000) },
        { name: 'big.bin', data: randomBytes(20 * MiB) },
        { name: 'never.txt', data: textBytes(5000) },
      ]);
      const { prefix, run } = transfer(zip, { signal: controller.signal });
      // Fire the signal the moment the first part of the big file goes out.
      const stop = recordCommands(aws, sent, (name) => {
        if (name === 'UploadPartCommand') controller.abort(new Error('shutting down'));
      });
      try {
        const err = await expectRejection(run);
        expect(err).to.be.instanceOf(TransientError);
        expect(err.code).to.equal('TransferAborted');
      } finally {
        stop();
      }
      expect(sent).to.include('AbortMultipartUploadCommand');
      expect(sent).to.not.include('CompleteMultipartUploadCommand');
      expect(await keysUnder(prefix)).to.deep.equal([]);
    });
  });
});

/**
 * Notes the name of every command the client sends (a real client, observed, not mocked), and in
 * `withKeys` the name and key; returns an undo.
 */
function recordCommands(aws: AwsClients, sent: string[], onSend?: (name: string) => void, withKeys?: string[]): () => void {
  const name = `record-${randomUUID()}`;
  aws.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = (context as { commandName?: string }).commandName ?? '?';
      sent.push(commandName);
      withKeys?.push(`${commandName} ${(args.input as { Key?: string }).Key}`);
      onSend?.(commandName);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return () => aws.s3.middlewareStack.remove(name);
}
