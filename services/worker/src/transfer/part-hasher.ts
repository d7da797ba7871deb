import { createHash, hash } from 'node:crypto';
import { PermanentError } from '@bp/shared';
import { type ChunkedHash, ChunkedSha256Hasher, MAX_CHUNKS, SHA2_256_CHUNKED, chunkSizeFor } from '@bp/shared/quilt/hash';

const EMPTY_SHA256_HEX = createHash('sha256').digest('hex');

/**
 * Quilt's `sha2-256-chunked` hash of an object, fed one multipart part at a time.
 *
 * When the part size is the Quilt chunk size (8 MiB for files up to ~78 GiB, and for every file
 * whose size is not declared), each part is exactly one chunk: its SHA-256 is computed in one call
 * over the part buffer and returned, so the writer can hand it to the request signer as the part's
 * payload hash (`x-amz-content-sha256`): the bytes are hashed once, and S3 checks it stored exactly
 * the bytes we hashed. Otherwise (a declared size whose chunk size is not the part size) the
 * shared incremental hasher is used and no digest is returned: the SDK hashes the part itself.
 */
export class PartHasher {
  /** The chunks' digests so far, hashed together by finish(). */
  readonly #perPart: Buffer[] | undefined;
  readonly #incremental: ChunkedSha256Hasher | undefined;

  constructor(expectedSize: number | undefined, partBytes: number) {
    const chunkBytes = expectedSize === undefined ? partBytes : chunkSizeFor(expectedSize);
    if (chunkBytes === partBytes && (expectedSize !== undefined || chunkSizeFor(0) === partBytes)) this.#perPart = [];
    else if (expectedSize !== undefined) this.#incremental = new ChunkedSha256Hasher(expectedSize);
    else
      throw new RangeError(`an object of undeclared size needs ${chunkSizeFor(0)}-byte parts to be hashed as it streams, got ${partBytes}`);
  }

  /** Hashes the next part; returns its SHA-256 (hex) when that is the chunk's, else undefined. */
  add(part: Buffer): string | undefined {
    if (this.#incremental) {
      this.#incremental.update(part);
      return undefined;
    }
    const digests = this.#perPart!;
    // An empty object has no chunks (its hash is sha256 of nothing); its empty body still has a payload hash.
    if (part.length === 0) return EMPTY_SHA256_HEX;
    if (digests.length >= MAX_CHUNKS) {
      // Beyond 10,000 chunks Quilt doubles the chunk size, which a streaming upload of unknown size cannot know in advance.
      throw new PermanentError(`object has more than ${MAX_CHUNKS} parts of ${part.length} bytes`, { code: 'ObjectTooLarge' });
    }
    // One-shot hashing: no Hash object per part (a small file is one part, so per-file cost).
    const digest = hash('sha256', part, 'buffer');
    digests.push(digest);
    return digest.toString('hex');
  }

  /** The object's hash once every part was added (sizes are checked by the writer). */
  finish(): ChunkedHash {
    if (this.#incremental) return this.#incremental.digest();
    // At most 10,000 digests of 32 bytes.
    return { type: SHA2_256_CHUNKED, value: hash('sha256', Buffer.concat(this.#perPart!), 'base64') };
  }
}
