/**
 * Quilt's `sha2-256-chunked` content hash, computed while bytes stream past.
 *
 * The bytes are split in chunks of {@link chunkSizeFor}(size); the value is
 * `base64(sha256(sha256(chunk_0) ‖ sha256(chunk_1) ‖ …))`, and a 0-byte file is `base64(sha256(""))`.
 * Because the chunk size depends on the total size, the size must be known before the first byte
 * (ZIP entries and S3 objects declare it), and a source that then sends a different number of
 * bytes is an error rather than a silently wrong hash.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PermanentError } from '../errors.ts';

export const SHA2_256_CHUNKED = 'sha2-256-chunked';

/** A Quilt manifest entry's `hash` field. */
export interface ChunkedHash {
  type: typeof SHA2_256_CHUNKED;
  /** Base64 of the 32-byte digest. */
  value: string;
}

/** Smallest chunk, bytes: 8 MiB, the same as S3's default multipart part size. */
export const MIN_CHUNK_BYTES = 8 * 1024 * 1024;
/** Most chunks a file may have before the chunk size doubles (S3's multipart part limit). */
export const MAX_CHUNKS = 10_000;

/** Chunk size in bytes for a file of `size` bytes: 8 MiB, doubled until there are at most 10,000 chunks. */
export function chunkSizeFor(size: number): number {
  assertSize(size, 'size');
  let chunk = MIN_CHUNK_BYTES;
  while (Math.ceil(size / chunk) > MAX_CHUNKS) chunk *= 2;
  return chunk;
}

/**
 * Incremental `sha2-256-chunked`. Memory is constant: the running hash of the current chunk and a
 * running hash over the chunk digests seen so far (hashing them as they complete gives the same
 * result as concatenating the list at the end, without keeping up to 10,000 digests).
 */
export class ChunkedSha256Hasher {
  readonly expectedSize: number;
  readonly chunkSize: number;
  #size = 0;
  #inChunk = 0;
  #chunk: Hash = createHash('sha256');
  readonly #digests: Hash = createHash('sha256');
  #chunks = 0;
  #finished = false;

  readonly #onChunk: ((index: number, digest: Buffer) => void) | undefined;

  /** `onChunk` receives each chunk's SHA-256 as soon as the chunk is complete (index from 0). */
  constructor(expectedSize: number, onChunk?: (index: number, digest: Buffer) => void) {
    assertSize(expectedSize, 'expectedSize');
    this.expectedSize = expectedSize;
    this.chunkSize = chunkSizeFor(expectedSize);
    this.#onChunk = onChunk;
  }

  /** Bytes hashed so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds bytes; throws as soon as they exceed the expected size, since the chunking would be wrong. */
  update(buf: Uint8Array): void {
    if (this.#finished) throw new Error('ChunkedSha256Hasher.update after digest');
    if (this.#size + buf.length > this.expectedSize) {
      throw new PermanentError(`received more than the expected ${this.expectedSize} bytes`, {
        code: 'SizeMismatch',
        details: { expectedSize: this.expectedSize, receivedAtLeast: this.#size + buf.length },
      });
    }
    let offset = 0;
    while (offset < buf.length) {
      const take = Math.min(this.chunkSize - this.#inChunk, buf.length - offset);
      this.#chunk.update(buf.subarray(offset, offset + take));
      this.#inChunk += take;
      offset += take;
      if (this.#inChunk === this.chunkSize) this.#closeChunk();
    }
    this.#size += buf.length;
  }

  /** The hash; throws when the bytes seen differ from the expected size. Call once. */
  digest(): ChunkedHash {
    if (this.#finished) throw new Error('ChunkedSha256Hasher.digest called twice');
    if (this.#size !== this.expectedSize) {
      throw new PermanentError(`received ${this.#size} bytes, expected ${this.expectedSize}`, {
        code: 'SizeMismatch',
        details: { expectedSize: this.expectedSize, received: this.#size },
      });
    }
    if (this.#inChunk > 0) this.#closeChunk();
    this.#finished = true;
    return { type: SHA2_256_CHUNKED, value: this.#digests.digest('base64') };
  }

  #closeChunk(): void {
    const digest = this.#chunk.digest();
    this.#digests.update(digest);
    this.#onChunk?.(this.#chunks++, digest);
    this.#chunk = createHash('sha256');
    this.#inChunk = 0;
  }
}

/** `sha2-256-chunked` of bytes already in memory. */
export function hashBuffer(buf: Uint8Array): ChunkedHash {
  const h = new ChunkedSha256Hasher(buf.length);
  h.update(buf);
  return h.digest();
}

/**
 * A pass-through stream that hashes and counts the bytes flowing through it. It fails the pipeline
 * (with the hasher's `SizeMismatch` error) as soon as more bytes than expected arrive, or at the end
 * when fewer did, so a source lying about its size cannot get past. Read `hash` after 'finish'.
 */
export class HashingPassThrough extends Transform {
  readonly hasher: ChunkedSha256Hasher;
  #hash: ChunkedHash | undefined;

  constructor(expectedSize: number, onChunk?: (index: number, digest: Buffer) => void) {
    super();
    this.hasher = new ChunkedSha256Hasher(expectedSize, onChunk);
  }

  /** Bytes that have flowed through so far. */
  get bytes(): number {
    return this.hasher.size;
  }

  /** The hash, available once every byte has flowed through; throws before that. */
  get hash(): ChunkedHash {
    if (!this.#hash) throw new Error('HashingPassThrough.hash read before the stream ended');
    return this.#hash;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.hasher.update(chunk);
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#hash = this.hasher.digest();
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }
}

function assertSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
}
