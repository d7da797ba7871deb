import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** A 32-bit seed derived from any string (first 4 bytes of its SHA-256), never 0. */
export function seedFrom(text: string): number {
  const n = createHash('sha256').update(text).digest().readUInt32LE(0);
  return n === 0 ? 0x9e3779b9 : n;
}

/**
 * xorshift32: not cryptographic, but ~2 GB/s in V8 and its output does not compress, which is
 * all export fixtures need. The same seed always yields the same bytes.
 */
export class FastPrng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  nextUint32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Fills `buf` with pseudo-random bytes, four at a time where alignment allows. */
  fill(buf: Buffer): Buffer {
    const words = Math.floor(buf.length / 4);
    const aligned = buf.byteOffset % 4 === 0;
    if (aligned && words > 0) {
      const u32 = new Uint32Array(buf.buffer, buf.byteOffset, words);
      let s = this.s;
      for (let i = 0; i < words; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        u32[i] = s;
      }
      this.s = s >>> 0;
    } else {
      for (let i = 0; i < words; i++) buf.writeUInt32LE(this.nextUint32(), i * 4);
    }
    for (let i = words * 4; i < buf.length; i++) buf[i] = this.nextUint32() & 0xff;
    return buf;
  }
}

/** Chunk size of generated streams: large enough that per-chunk overhead is noise. Bytes. */
const CHUNK_BYTES = 1 << 20;

/**
 * A stream of `size` pseudo-random bytes from `seed`, produced chunk by chunk so that memory
 * stays at one chunk whatever the size.
 */
export function randomByteStream(size: number, seed: number): Readable {
  const prng = new FastPrng(seed);
  return chunkedStream(size, (n) => prng.fill(Buffer.allocUnsafe(n)));
}

/** A stream of `size` zero bytes, reusing one zeroed chunk. */
export function zeroByteStream(size: number): Readable {
  const zeros = Buffer.alloc(Math.min(CHUNK_BYTES, Math.max(size, 1)));
  return chunkedStream(size, (n) => zeros.subarray(0, n));
}

/** `size` bytes, `chunk(n)` making each piece of at most CHUNK_BYTES when the reader asks for it. */
function chunkedStream(size: number, chunk: (n: number) => Buffer): Readable {
  let left = size;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK_BYTES, left);
      left -= n;
      this.push(chunk(n));
    },
  });
}
