import { expect } from 'chai';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { type AwsClients, PackagerError, awsOptionsFromEnv, createAwsClients } from '@bp/shared';
import { hashBuffer } from '@bp/shared/quilt/hash';
import { isolatedEnv } from '@bp/local-stack/testing';
import { GetObjectCommand, HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { PartPool, uploadStream } from '../../src/transfer/index.ts';

const MiB = 1024 * 1024;
const PART = 8 * MiB;

/** Hands out `data` in uneven pieces, as a network or an inflater would. */
function piecesOf(data: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = [65_536, 1, 300_000, 16_384, 1_000_003][i % 5]!;
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces);
}

interface Sent {
  command: string;
  partNumber?: number;
  payloadHash?: string;
}

/** Records every command the client sends; `inject` may throw instead of sending (a failure S3 could give). */
function watch(aws: AwsClients, inject?: (s: Sent, nth: number) => unknown): { sent: Sent[]; stop(): void } {
  const sent: Sent[] = [];
  const name = `watch-${randomUUID()}`;
  aws.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      const s: Sent = {
        command: (context as { commandName: string }).commandName,
        partNumber: (args.input as { PartNumber?: number }).PartNumber,
        payloadHash: headers['x-amz-content-sha256'],
      };
      sent.push(s);
      const err = inject?.(s, sent.filter((x) => x.command === s.command && x.partNumber === s.partNumber).length);
      if (err) throw err;
      return next(args);
    },
    // After build (where the writer sets the payload hash), before signing.
    { step: 'finalizeRequest', priority: 'high', name },
  );
  return { sent, stop: () => aws.s3.middlewareStack.remove(name) };
}

/** An S3-shaped error, as the SDK would throw for that status. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`injected ${name}`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('multipart writer (uploadStream on a shared part pool)', function () {
  this.timeout(120_000);
  let aws: AwsClients;
  let bucket: string;

  before(async () => {
    const env = await isolatedEnv('writer');
    // One attempt per request: retries seen here are the writer's own.
    aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 10_000, maxAttempts: 1 }));
    bucket = env.PACKAGE_BUCKET!;
  });
  after(() => aws?.destroy());

  async function stored(key: string): Promise<Buffer> {
    const res = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  for (const size of [0, 1, PART - 1, PART, PART + 1, 3 * PART + 12_345]) {
    for (const declared of [true, false]) {
      it(`stores ${size} bytes exactly, with the Quilt hash of those bytes (size ${declared ? 'declared' : 'unknown'})`, async () => {
        const data = randomBytes(size);
        const key = `exact/${size}-${declared}-${randomUUID()}`;
        const pool = new PartPool({ partBytes: PART, buffers: 5 });
        const w = watch(aws);
        try {
          const out = await uploadStream(aws.s3, piecesOf(data), { pool, bucket, key, ...(declared ? { size } : {}) });
          expect(out.size).to.equal(size);
          expect(out.hash).to.deep.equal(hashBuffer(data));
        } finally {
          w.stop();
        }
        expect((await stored(key)).equals(data), 'stored bytes').to.equal(true);
        const commands = w.sent.map((s) => s.command);
        if (size <= PART) expect(commands).to.deep.equal(['PutObjectCommand']);
        else {
          expect(commands.filter((c) => c === 'UploadPartCommand')).to.have.length(Math.ceil(size / PART));
          expect(commands).to.include('CompleteMultipartUploadCommand');
        }
        // Each part's payload hash is its chunk's SHA-256, handed over rather than computed again by the SDK.
        const bodies = w.sent.filter((s) => s.command === 'UploadPartCommand' || s.command === 'PutObjectCommand');
        expect(bodies.map((s) => s.payloadHash)).to.deep.equal(
          bodies.map((_, i) =>
            createHash('sha256')
              .update(data.subarray(i * PART, (i + 1) * PART))
              .digest('hex'),
          ),
        );
        expect(pool.inUse, 'buffers given back').to.equal(0);
      });
    }
  }

  it('takes a web stream of unknown length (a fetch body, as partner run files come): exact bytes and hash', async () => {
    const data = randomBytes(2 * PART + 3);
    const key = `web/${randomUUID()}`;
    const body = Readable.fromWeb(new Blob([data]).stream() as import('node:stream/web').ReadableStream);
    const out = await uploadStream(aws.s3, body, { bucket, key });
    expect(out).to.include({ size: data.length });
    expect(out.hash).to.deep.equal(hashBuffer(data));
    expect((await stored(key)).equals(data)).to.equal(true);
  });

  it('keeps memory to its pool: two 5-part uploads at once through 3 buffers, both exact', async () => {
    const pool = new PartPool({ partBytes: PART, buffers: 3 });
    const a = randomBytes(4 * PART + 7);
    const b = randomBytes(5 * PART);
    const [ka, kb] = [`pool/a-${randomUUID()}`, `pool/b-${randomUUID()}`];
    const [oa, ob] = await Promise.all([
      uploadStream(aws.s3, piecesOf(a), { pool, bucket, key: ka, size: a.length, concurrency: 4 }),
      uploadStream(aws.s3, piecesOf(b), { pool, bucket, key: kb, size: b.length, concurrency: 4 }),
    ]);
    expect(pool.allocated).to.equal(3);
    expect(pool.inUse).to.equal(0);
    expect(oa.hash).to.deep.equal(hashBuffer(a));
    expect(ob.hash).to.deep.equal(hashBuffer(b));
    expect((await stored(ka)).equals(a)).to.equal(true);
    expect((await stored(kb)).equals(b)).to.equal(true);
  });

  it('sends a part again when S3 fails it with a 503, and the object is exact', async () => {
    const data = randomBytes(3 * PART + 1);
    const key = `retry/${randomUUID()}`;
    const w = watch(aws, (s, nth) =>
      s.command === 'UploadPartCommand' && s.partNumber === 2 && nth === 1 ? s3Error('ServiceUnavailable', 503) : undefined,
    );
    try {
      const out = await uploadStream(aws.s3, piecesOf(data), {
        pool: new PartPool({ partBytes: PART, buffers: 5 }),
        bucket,
        key,
        size: data.length,
      });
      expect(out.hash).to.deep.equal(hashBuffer(data));
    } finally {
      w.stop();
    }
    expect(w.sent.filter((s) => s.command === 'UploadPartCommand' && s.partNumber === 2)).to.have.length(2);
    expect((await stored(key)).equals(data)).to.equal(true);
  });

  /** Whether the multipart upload still exists (fauxqs has no ListMultipartUploads: a part sent to an aborted upload is refused). */
  async function uploadExists(key: string, uploadId: string): Promise<boolean> {
    try {
      await aws.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 99, Body: Buffer.from('x') }));
      return true;
    } catch (err) {
      expect((err as Error).name).to.equal('NoSuchUpload');
      return false;
    }
  }

  it("aborts the multipart upload when a part is refused, and throws S3's error", async () => {
    const data = randomBytes(4 * PART);
    const key = `refused/${randomUUID()}`;
    const pool = new PartPool({ partBytes: PART, buffers: 5 });
    let uploadId: string | undefined;
    const w = watch(aws, (s) => (s.command === 'UploadPartCommand' && s.partNumber === 3 ? s3Error('AccessDenied', 403) : undefined));
    let err: unknown;
    try {
      err = await uploadStream(aws.s3, piecesOf(data), {
        pool,
        bucket,
        key,
        size: data.length,
        onMultipartStarted: (id) => (uploadId = id),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      w.stop();
    }
    expect((err as Error).name).to.equal('AccessDenied');
    expect(
      w.sent.filter((s) => s.command === 'UploadPartCommand' && s.partNumber === 3),
      'a 403 is not retried',
    ).to.have.length(1);
    expect(w.sent.map((s) => s.command))
      .to.include('AbortMultipartUploadCommand')
      .and.not.include('CompleteMultipartUploadCommand');
    expect(uploadId).to.be.a('string');
    expect(await uploadExists(key, uploadId!)).to.equal(false);
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => 'exists',
      (e: Error) => e.name,
    );
    expect(head).to.equal('NotFound');
    expect(pool.inUse).to.equal(0);
  });

  it('stops on its signal while the source is still sending: TransferAborted, upload aborted, buffers back', async () => {
    const key = `stopped/${randomUUID()}`;
    const pool = new PartPool({ partBytes: PART, buffers: 5 });
    const source = new PassThrough();
    source.write(randomBytes(2 * PART + 100));
    // The source then waits, as a download would: only the signal can end this upload.
    const stop = new AbortController();
    let uploadId: string | undefined;
    const run = uploadStream(aws.s3, source, {
      pool,
      bucket,
      key,
      size: 10 * PART,
      signal: stop.signal,
      onMultipartStarted: (id) => (uploadId = id),
    });
    for (let i = 0; i < 100 && !uploadId; i++) await new Promise((r) => setTimeout(r, 50));
    stop.abort(new Error('shutting down'));
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PackagerError);
    expect((err as PackagerError).code).to.equal('TransferAborted');
    expect(source.destroyed).to.equal(true);
    expect(await uploadExists(key, uploadId!)).to.equal(false);
    expect(pool.inUse).to.equal(0);
  });

  it('lets a PutObject already sent finish when the signal aborts, and returns its object so it can be rolled back', async () => {
    const data = randomBytes(1000);
    const key = `ambiguous/${randomUUID()}`;
    const stop = new AbortController();
    // The PUT is on its way when the stop comes: cut off, it could still be stored, unseen by the caller.
    const name = `hold-${randomUUID()}`;
    aws.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if ((context as { commandName: string }).commandName === 'PutObjectCommand' && (args.input as { Key?: string }).Key === key) {
          stop.abort(new Error('shutting down'));
          await new Promise((r) => setTimeout(r, 50));
        }
        return next(args);
      },
      { step: 'finalizeRequest', name },
    );
    try {
      const out = await uploadStream(aws.s3, piecesOf(data), {
        pool: new PartPool({ partBytes: PART, buffers: 1 }),
        bucket,
        key,
        size: data.length,
        signal: stop.signal,
      });
      expect(out.size).to.equal(1000);
      expect(out.hash).to.deep.equal(hashBuffer(data));
    } finally {
      aws.s3.middlewareStack.remove(name);
    }
    expect((await stored(key)).equals(data)).to.equal(true);
  });

  it('refuses more bytes than declared before anything is stored, and fewer before S3 completes', async () => {
    const pool = new PartPool({ partBytes: PART, buffers: 5 });
    for (const [actual, declared, detail] of [
      [PART + 10, PART + 5, 'receivedAtLeast'],
      [2 * PART, 3 * PART, 'received'],
    ] as const) {
      const key = `size/${randomUUID()}`;
      const err = (await uploadStream(aws.s3, piecesOf(randomBytes(actual)), { pool, bucket, key, size: declared }).then(
        () => undefined,
        (e: unknown) => e,
      )) as PackagerError;
      expect(err.code).to.equal('SizeMismatch');
      expect(err.details).to.have.property(detail);
      const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        () => 'exists',
        (e: Error) => e.name,
      );
      expect(head).to.equal('NotFound');
    }
    expect(pool.inUse).to.equal(0);
  });
});
