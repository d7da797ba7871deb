import { TransientError } from '@bp/shared';

const MiB = 1024 * 1024;

/** Part size of the process-wide pool: 8 MiB, Quilt's chunk size, so each part is one hash chunk. */
export const DEFAULT_PART_BYTES = 8 * MiB;
/**
 * Buffers of the process-wide pool: one file's 4 parts in flight plus the one filling, and room
 * for a second transfer to keep going meanwhile. 12 × 8 MiB = 96 MiB at most, whatever the number
 * of transfers, files or their sizes.
 */
export const DEFAULT_PART_BUFFERS = 12;

/**
 * A fixed set of equal part buffers, lent out and given back. Memory is bounded by the pool, not
 * by the number of files or their size: an upload that wants a buffer while all are lent waits
 * (first come, first served), which also slows its reading of the source, so nothing piles up.
 *
 * Buffers are allocated the first time they are needed and then kept for reuse: an idle worker
 * holds only as many as it ever used at once, and a busy one makes no garbage per part (a fresh
 * 8 MiB Buffer per part lets V8 build up tens of MB before it collects, measured with lib-storage).
 */
export class PartPool {
  readonly partBytes: number;
  readonly capacity: number;
  readonly #free: Buffer[] = [];
  #allocated = 0;
  readonly #waiting: Array<{ resolve(b: Buffer): void; reject(err: unknown): void; signal: AbortSignal | undefined; onAbort: () => void }> =
    [];

  constructor(o: { partBytes: number; buffers: number }) {
    if (!Number.isSafeInteger(o.partBytes) || o.partBytes < 1)
      throw new RangeError(`partBytes must be a positive integer, got ${o.partBytes}`);
    if (!Number.isSafeInteger(o.buffers) || o.buffers < 1) throw new RangeError(`buffers must be a positive integer, got ${o.buffers}`);
    this.partBytes = o.partBytes;
    this.capacity = o.buffers;
  }

  /** Buffers lent out now. */
  get inUse(): number {
    return this.#allocated - this.#free.length;
  }

  /** Buffers ever allocated (at most `capacity`). */
  get allocated(): number {
    return this.#allocated;
  }

  /** A buffer of `partBytes` (old contents: overwrite before use). Rejects with TransferAborted if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(aborted(signal.reason));
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#allocated < this.capacity) {
      this.#allocated++;
      // Outside Node's shared slab: these live for the process.
      return Promise.resolve(Buffer.allocUnsafeSlow(this.partBytes));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#waiting.indexOf(waiter);
          if (at !== -1) this.#waiting.splice(at, 1);
          reject(aborted(signal?.reason));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives a buffer back (to the longest waiter, if any). Each acquired buffer exactly once. */
  release(buf: Buffer): void {
    const next = this.#waiting.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(buf);
    } else this.#free.push(buf);
  }
}

let shared: PartPool | undefined;

/** The process-wide pool every transfer shares unless it is handed one (created on first use). */
export function sharedPartPool(): PartPool {
  shared ??= new PartPool({ partBytes: DEFAULT_PART_BYTES, buffers: DEFAULT_PART_BUFFERS });
  return shared;
}

function aborted(reason: unknown): TransientError {
  return new TransientError('upload aborted while waiting for a part buffer', { code: 'TransferAborted', cause: reason });
}
