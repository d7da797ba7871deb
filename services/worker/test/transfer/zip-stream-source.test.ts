import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { PermanentError, TransientError } from '@bp/shared';
import type { BodyReader } from '../../src/transfer/download-export.ts';
import { type EntrySpan, SequentialZipSource, spansInOrder } from '../../src/transfer/zip-stream-source.ts';
import { buildZip } from './support/zip-builder.ts';

/** A body in odd-sized chunks, so reads straddle chunk boundaries; `failAt` breaks it there. */
function bodyOf(bytes: Buffer, o: { chunk?: number; failAt?: number; error?: unknown } = {}): BodyReader & { read: number } {
  let pos = 0;
  const body = {
    read: 0,
    async next(): Promise<Buffer | null> {
      await new Promise((r) => setImmediate(r));
      if (o.failAt !== undefined && pos >= o.failAt) throw o.error;
      if (pos >= bytes.length) return null;
      const n = Math.min(o.chunk ?? 7777, bytes.length - pos, (o.failAt ?? Infinity) - pos);
      const c = bytes.subarray(pos, pos + n);
      pos += n;
      body.read = pos;
      return c;
    },
  };
  return body;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );
}

/** Three stored files and an empty one: where each header and its data lie. */
function threeFiles() {
  const files = [
    { name: 'a.bin', data: randomBytes(50_000) },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'dir/b.bin', data: randomBytes(120_000) },
    { name: 'c.bin', data: randomBytes(3000) },
  ];
  const zip = buildZip(files.map((f) => ({ ...f, method: 'store' as const })));
  let offset = 0;
  const spans: Array<EntrySpan & { dataStart: number; data: Buffer }> = files.map((f) => {
    const headerOffset = offset;
    offset += 30 + Buffer.byteLength(f.name) + f.data.length;
    return {
      name: f.name,
      headerOffset,
      compressedSize: f.data.length,
      dataStart: headerOffset + 30 + Buffer.byteLength(f.name),
      data: f.data,
    };
  });
  return { zip, spans };
}

describe('SequentialZipSource (entries read in one pass over the download)', () => {
  it('answers headers and data in ZIP order, even when the next header is asked for before the data', async () => {
    const { zip, spans } = threeFiles();
    const body = bodyOf(zip);
    const source = new SequentialZipSource(body, spans);
    const [a, empty, b, c] = spans;
    // As uploadFiles does it: the next files' headers are asked for while a file's data still streams.
    const headers = [source.read(a!.headerOffset, 30), source.read(empty!.headerOffset, 30), source.read(b!.headerOffset, 30)];
    expect((await headers[0]!).readUInt32LE(0)).to.equal(0x04034b50);
    const aData = collect(source.stream(a!.dataStart, a!.compressedSize));
    expect((await headers[1]!).readUInt32LE(0)).to.equal(0x04034b50);
    expect((await headers[2]!).readUInt32LE(0)).to.equal(0x04034b50);
    const bData = collect(source.stream(b!.dataStart, b!.compressedSize));
    const cHeader = await source.read(c!.headerOffset, 30);
    expect(cHeader.readUInt16LE(26)).to.equal(Buffer.byteLength('c.bin'));
    const cData = await collect(source.stream(c!.dataStart, c!.compressedSize));
    expect((await aData).equals(a!.data)).to.equal(true);
    expect((await bData).equals(b!.data)).to.equal(true);
    expect(cData.equals(c!.data)).to.equal(true);
    // The central directory after the last entry is read too, so the download ends whole.
    await new Promise((r) => setTimeout(r, 50));
    expect(body.read).to.equal(zip.length);
  });

  it('fails at once a read that is not where the directory puts an entry still to come', async () => {
    const { zip, spans } = threeFiles();
    const source = new SequentialZipSource(bodyOf(zip), spans);
    const err = await failure(source.read(spans[0]!.headerOffset + 1, 30));
    expect(err).to.be.instanceOf(PermanentError);
    expect((err as PermanentError).code).to.equal('ZipCorrupt');
    // Data of the wrong length for its entry is refused the same way.
    const stream = source.stream(spans[0]!.dataStart, spans[0]!.compressedSize + 1);
    const streamErr = await failure(collect(stream));
    expect((streamErr as PermanentError).code).to.equal('ZipCorrupt');
    source.destroy(new Error('done'));
  });

  it('refuses entries that overlap: data running into the next header, a header inside the one before', async () => {
    const { zip, spans } = threeFiles();
    const [a, empty] = spans;
    // A directory that puts the next header inside a's data.
    const intoData = [a!, { ...spans[2]!, headerOffset: a!.dataStart + 10 }];
    expect(spansInOrder(intoData), 'a plan the transfer spools instead').to.equal(false);
    const first = new SequentialZipSource(bodyOf(zip), intoData);
    await first.read(a!.headerOffset, 30);
    expect(((await failure(collect(first.stream(a!.dataStart, a!.compressedSize)))) as PermanentError).code).to.equal('ZipCorrupt');
    first.destroy(new Error('done'));
    // A directory that puts the next header inside the empty file's 30-byte header.
    const intoHeader = [empty!, { ...spans[2]!, headerOffset: empty!.headerOffset + 10 }];
    const second = new SequentialZipSource(bodyOf(zip), intoHeader);
    await second.read(empty!.headerOffset, 30);
    const err = await failure(second.read(empty!.headerOffset + 10, 30));
    expect((err as PermanentError).code).to.equal('ZipCorrupt');
    expect((err as PermanentError).message).to.match(/overlaps/);
  });

  it('passes a broken download to the entry it broke in and to every read still waiting', async () => {
    const { zip, spans } = threeFiles();
    const broken = new TransientError('export download broke off', { code: 'DownloadInterrupted' });
    const [a, , b] = spans;
    const source = new SequentialZipSource(bodyOf(zip, { failAt: a!.dataStart + 20_000, error: broken }), spans);
    await source.read(a!.headerOffset, 30);
    const later = source.read(spans[1]!.headerOffset, 30);
    const aErr = await failure(collect(source.stream(a!.dataStart, a!.compressedSize)));
    expect(aErr).to.equal(broken);
    expect(await failure(later)).to.equal(broken);
    // And whatever is asked for afterwards.
    expect(await failure(source.read(b!.headerOffset, 30))).to.equal(broken);
  });

  it('stops without failing the others when an entry stream is closed by its reader; destroy() settles them', async () => {
    const { zip, spans } = threeFiles();
    const body = bodyOf(zip, { chunk: 1000 });
    const source = new SequentialZipSource(body, spans);
    await source.read(spans[0]!.headerOffset, 30);
    const stream = source.stream(spans[0]!.dataStart, spans[0]!.compressedSize);
    const waiting = source.read(spans[1]!.headerOffset, 30);
    let settled = false;
    waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => stream.once('readable', r));
    stream.on('error', () => undefined);
    stream.destroy(new Error('the upload failed'));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled, 'the next file is not failed by this one').to.equal(false);
    expect(body.read, 'the download stops').to.be.below(spans[1]!.headerOffset);
    const ended = new TransientError('transfer over', { code: 'TransferAborted' });
    source.destroy(ended);
    expect(await failure(waiting)).to.equal(ended);
  });
});
