import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkedSha256Hasher, HashingPassThrough, chunkSizeFor, hashBuffer } from '../../src/quilt/hash.ts';
import { PermanentError } from '../../src/errors.ts';

const MiB = 1024 * 1024;

/** Byte i is i mod 251: deterministic, and 251 being prime keeps it out of step with power-of-two chunks. */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

/*
 * Expected values were computed once with Python's hashlib, independently of this code:
 *
 *   import hashlib, base64
 *   def pattern(n): return bytes(i % 251 for i in range(n))
 *   def chunked(data):
 *       size = len(data); chunk = 8 * 1024 * 1024
 *       while -(-size // chunk) > 10000: chunk *= 2
 *       digests = b''.join(hashlib.sha256(data[i:i + chunk]).digest() for i in range(0, size, chunk))
 *       return base64.b64encode(hashlib.sha256(digests).digest()).decode()
 *   MiB = 1024 * 1024
 *   for n in (0, 1, 8 * MiB, 8 * MiB + 1, 20 * MiB): print(n, chunked(pattern(n)))
 */
const VECTORS: Array<[label: string, size: number, value: string]> = [
  ['0 bytes', 0, '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='],
  ['1 byte', 1, 'FAbgWIHimTZ3ZtMT4mwFVk7JG/ch0xcmvW5G5gaJU5o='],
  ['exactly 8 MiB', 8 * MiB, 'whpkwkcwr96hravZsp8gSFeGK+8jfS3ufa9dUl1DIT8='],
  ['8 MiB + 1 byte', 8 * MiB + 1, 'OmHzEEK1X/fcxCt/TNolpgxlag/1Ex0mKs05HJHI8vk='],
  ['20 MiB', 20 * MiB, '4pJ+jcrcQml9inpWNdCVlzLyR1NtbapsvW052ozmjBI='],
];

describe('sha2-256-chunked hashing', () => {
  for (const [label, size, value] of VECTORS) {
    it(`matches Python's hashlib for ${label}, in one piece`, () => {
      expect(hashBuffer(pattern(size))).to.deep.equal({ type: 'sha2-256-chunked', value });
    });
  }

  it('gives the same hash whatever sizes the pieces arrive in, including pieces straddling chunk boundaries', () => {
    const [, size, value] = VECTORS[4]!;
    const data = pattern(size);
    const h = new ChunkedSha256Hasher(size);
    // Odd piece sizes so that pieces cross the 8 MiB and 16 MiB boundaries at different offsets.
    for (let offset = 0, step = 1; offset < size; offset += step, step = 1 + ((step * 7 + 3) % 3_000_001)) {
      h.update(data.subarray(offset, Math.min(size, offset + step)));
    }
    expect(h.size).to.equal(size);
    expect(h.digest().value).to.equal(value);
  });

  it('hashes a 0-byte file as base64(sha256(""))', () => {
    const h = new ChunkedSha256Hasher(0);
    h.update(Buffer.alloc(0));
    expect(h.digest().value).to.equal('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('uses 8 MiB chunks up to 10,000 chunks and doubles the chunk size beyond that', () => {
    expect(chunkSizeFor(0)).to.equal(8 * MiB);
    expect(chunkSizeFor(8 * MiB * 10_000)).to.equal(8 * MiB);
    expect(chunkSizeFor(8 * MiB * 10_000 + 1)).to.equal(16 * MiB);
    expect(chunkSizeFor(16 * MiB * 10_000 + 1)).to.equal(32 * MiB);
    expect(() => chunkSizeFor(-1)).to.throw(RangeError);
  });

  it('refuses at digest() when fewer bytes arrived than expected', () => {
    const h = new ChunkedSha256Hasher(10);
    h.update(Buffer.alloc(9));
    expect(() => h.digest())
      .to.throw(PermanentError)
      .with.property('code', 'SizeMismatch');
  });

  it('refuses as soon as more bytes arrive than expected, before hashing them', () => {
    const h = new ChunkedSha256Hasher(10);
    h.update(Buffer.alloc(10));
    expect(() => h.update(Buffer.alloc(1)))
      .to.throw(PermanentError)
      .with.property('code', 'SizeMismatch');
    expect(h.size).to.equal(10);
  });
});

describe('HashingPassThrough', () => {
  it('passes bytes through unchanged while hashing and counting them', async () => {
    const [, size, value] = VECTORS[3]!;
    const data = pattern(size);
    const received: Buffer[] = [];
    const hashing = new HashingPassThrough(size);
    const pieces = function* () {
      for (let o = 0; o < size; o += 1_000_003) yield data.subarray(o, Math.min(size, o + 1_000_003));
    };
    await pipeline(
      Readable.from(pieces()),
      hashing,
      new Writable({
        write(c: Buffer, _e, cb) {
          received.push(c);
          cb();
        },
      }),
    );
    expect(hashing.bytes).to.equal(size);
    expect(hashing.hash.value).to.equal(value);
    expect(Buffer.concat(received).equals(data)).to.equal(true);
  });

  it('fails the pipeline when the source sends more bytes than it declared', async () => {
    const hashing = new HashingPassThrough(5);
    let written = 0;
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        written += c.length;
        cb();
      },
    });
    const err = await pipeline(Readable.from([Buffer.alloc(4), Buffer.alloc(4)]), hashing, sink).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PermanentError).with.property('code', 'SizeMismatch');
    expect(written).to.equal(4);
  });

  it('fails the pipeline when the source ends short of its declared size', async () => {
    const hashing = new HashingPassThrough(5);
    const err = await pipeline(
      Readable.from([Buffer.alloc(4)]),
      hashing,
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PermanentError).with.property('code', 'SizeMismatch');
  });
});
