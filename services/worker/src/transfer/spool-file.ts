import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ZipByteSource } from './zip-byte-source.ts';

/** Bytes the spool's write stream gathers before it writes (one writev per MiB, not per network chunk). */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Most bytes one read of the spool file takes. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** How far a spool file has been written: readers wait for the bytes they need. */
export interface SpoolProgress {
  /** Bytes on disk so far. */
  readonly bytes: number;
  /** Resolves once at least `n` bytes are on disk; rejects if the download fails or ends first. */
  waitFor(n: number): Promise<void>;
}

/**
 * Writes `pull`'s chunks to a new file `dest` through a write stream, not FileHandle writes: it
 * batches the ~64 KiB network chunks into writev calls at half the CPU (measured: 0.55 vs
 * 1.1-1.3 CPU-seconds per GB). `onWritten` hears of each chunk once it is on disk, in order. The
 * file is closed before this settles, so it can be removed.
 */
export async function spoolBody(dest: string, pull: () => Promise<Buffer | null>, onWritten: (n: number) => void): Promise<void> {
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BATCH_BYTES });
  // Always listened to: a write error (a full disk) must fail the download, not the process.
  let writeError: unknown;
  out.on('error', (err) => (writeError ??= err));
  try {
    await once(out, 'open');
    for (let chunk = await pull(); chunk; chunk = await pull()) {
      const n = chunk.length;
      // Readers may use bytes once they are written: the callbacks come in order.
      const more = out.write(chunk, (err) => {
        if (!err) onWritten(n);
      });
      if (!more) await once(out, 'drain');
      if (writeError) throw writeError;
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  } finally {
    if (!out.closed) await once(out, 'close').catch(() => undefined);
  }
}

/**
 * A ZIP's bytes read from its spool file while the download is still writing it: a read waits
 * until the download has written the bytes it needs, and fails with the download's own error if
 * it breaks first. The file is opened on the first read (the download creates it).
 */
export class SpoolFileSource implements ZipByteSource {
  #file: Promise<FileHandle> | undefined;

  constructor(
    private readonly path: string,
    private readonly progress: SpoolProgress,
  ) {}

  async read(start: number, length: number): Promise<Buffer> {
    await this.progress.waitFor(start + length);
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await (await this.#handle()).read(buf, 0, length, start);
    if (bytesRead !== length) throw new Error('Unexpected end of file');
    return buf;
  }

  stream(start: number, length: number): Readable {
    return new FollowingFileStream(() => this.#handle(), start, start + length, this.progress);
  }

  /** Closes the file (reads still waiting are settled by the download ending). */
  async release(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    const handle = await file?.catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }

  #handle(): Promise<FileHandle> {
    this.#file ??= open(this.path, 'r');
    return this.#file;
  }
}

/** Bytes [start, end) of a file still being written: read as far as it has got, then wait for more. */
class FollowingFileStream extends Readable {
  #pos: number;
  readonly #end: number;

  constructor(
    private readonly file: () => Promise<FileHandle>,
    start: number,
    end: number,
    private readonly progress: SpoolProgress,
  ) {
    super({ highWaterMark: READ_CHUNK_BYTES });
    this.#pos = start;
    this.#end = end;
  }

  override _read(): void {
    this.#readMore().catch((err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
  }

  async #readMore(): Promise<void> {
    if (this.#pos >= this.#end) {
      this.push(null);
      return;
    }
    if (this.progress.bytes <= this.#pos) await this.progress.waitFor(this.#pos + 1);
    const n = Math.min(READ_CHUNK_BYTES, this.#end - this.#pos, this.progress.bytes - this.#pos);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await (await this.file()).read(buf, 0, n, this.#pos);
    if (bytesRead === 0) throw new Error('Unexpected end of file');
    this.#pos += bytesRead;
    this.push(bytesRead === n ? buf : buf.subarray(0, bytesRead));
  }
}
