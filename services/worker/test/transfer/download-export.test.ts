import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TransientError } from '@bp/shared';
import { startDownload } from '../../src/transfer/download-export.ts';
import { nodeHttpGet } from '../../src/transfer/http-get.ts';
import { ExportServer } from './support/export-server.ts';

const MiB = 1024 * 1024;

/** The export download on its own, against a real HTTP server: how its body reaches a spool or a reader. */
describe('export download (spool or one sequential reader)', function () {
  this.timeout(30_000);
  const server = new ExportServer();
  let tmpDir: string;
  before(() => server.start());
  after(() => server.stop());
  beforeEach(async () => {
    tmpDir = await mkdtemp(path.join(os.tmpdir(), 'bp-download-test-'));
  });
  afterEach(() => rm(tmpDir, { recursive: true, force: true }));

  function serve(body: Buffer, extra: Parameters<ExportServer['routes']['set']>[1] = {}) {
    const p = `/exports/${Math.random().toString(36).slice(2)}.zip`;
    server.routes.set(p, { body, ...extra });
    return server.url(p);
  }

  async function readAll(next: () => Promise<Buffer | null>): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for (let c = await next(); c; c = await next()) chunks.push(c);
    return Buffer.concat(chunks);
  }

  it('waits unread until a reader is chosen, then streams the body without a spool file', async () => {
    const body = randomBytes(3 * MiB);
    const controller = new AbortController();
    const d = startDownload({
      url: serve(body),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
      signal: controller.signal,
    });
    expect((await d.head).size).to.equal(body.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(d.bytes, 'nothing read before a reader is chosen').to.equal(0);
    const reader = d.stream()!;
    expect(d.stream(), 'one reader only').to.equal(undefined);
    expect((await readAll(reader.next)).equals(body)).to.equal(true);
    expect(await d.done).to.equal(body.length);
    expect(await readdir(tmpDir)).to.deep.equal([]);
  });

  it('follows a redirect to the object, as fetch would', async () => {
    const body = randomBytes(MiB);
    const target = new URL(serve(body));
    const d = startDownload({
      url: serve(Buffer.alloc(0), { redirectTo: `${target.pathname}${target.search}` }),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
    });
    expect((await d.head).size).to.equal(body.length);
    expect((await readAll(d.stream()!.next)).equals(body)).to.equal(true);
  });

  it('does not count time the reader pauses the body as a stall; a silent server still is one', async () => {
    const body = randomBytes(2 * MiB);
    const d = startDownload({
      url: serve(body),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 100,
      get: nodeHttpGet,
    });
    await d.head;
    const reader = d.stream()!;
    const first = await reader.next();
    // The reader holds the body for three stall timeouts: the server is not at fault.
    await new Promise((r) => setTimeout(r, 300));
    const rest = await readAll(reader.next);
    expect(Buffer.concat([first!, rest]).equals(body)).to.equal(true);
    await d.done;

    // Without Range support a stalled connection cannot be picked up again.
    const silent = startDownload({
      url: serve(body, { stallAfterBytes: MiB, ignoreRange: true }),
      dest: path.join(tmpDir, 'y.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 100,
      get: nodeHttpGet,
    });
    await silent.head;
    const err = await readAll(silent.stream()!.next).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TransientError);
    expect((err as TransientError).code).to.equal('DownloadStalled');
    expect(silent.failure).to.equal(err);
  });

  it('spools when asked to wait for bytes, and then cannot be streamed', async () => {
    const body = randomBytes(MiB + 123);
    const dest = path.join(tmpDir, 'x.zip');
    const d = startDownload({ url: serve(body), dest, maxBytes: 10 * MiB, stallTimeoutMs: 5000, get: nodeHttpGet });
    await d.head;
    await d.waitFor(1000);
    expect(d.stream()).to.equal(undefined);
    expect(await d.done).to.equal(body.length);
    expect((await readFile(dest)).equals(body)).to.equal(true);
  });

  it('ends a waiting download when it is aborted before a reader was chosen', async () => {
    const controller = new AbortController();
    const d = startDownload({
      url: serve(randomBytes(MiB)),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
      signal: controller.signal,
    });
    await d.head;
    controller.abort();
    const err = await d.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TransientError);
    expect((err as TransientError).code).to.equal('TransferAborted');
  });

  it("picks a cut body up where it broke, by Range under the first answer's ETag", async () => {
    const body = randomBytes(3 * MiB);
    const before = server.rangeRequests.length;
    const d = startDownload({
      url: serve(body, { cutAfterBytes: MiB }),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
    });
    await d.head;
    expect((await readAll(d.stream()!.next)).equals(body)).to.equal(true);
    expect(d.resumes).to.equal(1);
    expect(server.rangeRequests.length - before).to.equal(1);
  });

  it('does not resume from another version of the object: the error stands', async () => {
    const body = randomBytes(3 * MiB);
    // Range requests see another object (another ETag): If-Match fails with 412.
    const d = startDownload({
      url: serve(body, { cutAfterBytes: MiB, rangeBody: randomBytes(3 * MiB) }),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
    });
    await d.head;
    const err = await readAll(d.stream()!.next).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as TransientError).code).to.equal('DownloadInterrupted');
  });

  it('reports a body cut short of its Content-Length to the reader when it cannot be resumed', async () => {
    const body = randomBytes(3 * MiB);
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    // The cut comes once the headers are in: paused after 1 MiB, cut at 2 MiB.
    const d = startDownload({
      url: serve(body, { pauseAfterBytes: MiB, resume: resumed, cutAfterBytes: 2 * MiB, ignoreRange: true }),
      dest: path.join(tmpDir, 'x.zip'),
      maxBytes: 10 * MiB,
      stallTimeoutMs: 5000,
      get: nodeHttpGet,
    });
    await d.head;
    resume();
    const err = await readAll(d.stream()!.next).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TransientError);
    expect((err as TransientError).code).to.equal('DownloadInterrupted');
    await d.done.catch(() => undefined);
    expect(d.failure).to.equal(err);
  });
});
