import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl-promise';
import { TransientError } from '@bp/shared';
import { type Download, getExactRange } from './download-export.ts';
import type { HttpGet } from './http-get.ts';
import { type EntrySpan, SequentialZipSource, spansInOrder } from './zip-stream-source.ts';

/**
 * A yauzl Reader over an export ZIP that is still downloading, so files can go up to S3 while
 * the rest of the ZIP comes down.
 *
 * A ZIP's central directory is at its end, and an unsafe ZIP must upload nothing, so every entry
 * has to be known before the first upload. Waiting for the whole download would serialise the
 * download and the upload. Instead, while the directory is read, the ZIP's tail is fetched with
 * HTTP Range requests (S3's presigned GET honours Range) and the download's body waits unread.
 * Once the directory is read (`directoryRead()`), the entries are read in one pass over the
 * download as it arrives (SequentialZipSource): no spool file, no disk, memory bounded.
 *
 * The tail is only trusted if it is the same object: a 206 whose Content-Range names the same
 * total size, sent under `If-Match` with the download's ETag when it has one. Anything else —
 * no Range support, another status, a network error, a directory larger than
 * `maxDirectoryBytes` — and the download goes to a spool file, which the reader follows: a read
 * is served from disk as soon as the download has written the bytes it needs. So do ZIPs whose
 * entries are out of order or overlap, which one pass cannot read.
 */
export class ExportZipReader extends yauzl.Reader {
  readonly #path: string;
  readonly #size: number;
  readonly #download: Download;
  readonly #fetchRange: RangeFetcher | undefined;
  readonly #maxDirectoryBytes: number;
  /** The spool file, opened once there is one (the download creates it when it starts spooling). */
  #file: Promise<FileHandle> | undefined;
  /** Entry data read straight from the download, when it was still unread once the directory was. */
  #source: SequentialZipSource | undefined;
  /** Bytes [tail.start, size) held in memory, fetched by Range while the directory was read. */
  #tail: { start: number; bytes: Buffer } | undefined;
  #readingDirectory = true;
  /** Ranges proved unusable once: stop asking. */
  #rangesUnusable = false;
  #rangeRequests = 0;

  constructor(o: { path: string; size: number; download: Download; fetchRange?: RangeFetcher; maxDirectoryBytes: number }) {
    super();
    this.#path = o.path;
    this.#size = o.size;
    this.#download = o.download;
    this.#fetchRange = o.fetchRange;
    this.#maxDirectoryBytes = o.maxDirectoryBytes;
  }

  /** Settles any read still waiting and closes the spool file, whatever state yauzl left the reader in. */
  async release(): Promise<void> {
    this.#source?.destroy(new TransientError('export transfer ended before this read was answered', { code: 'TransferAborted' }));
    const file = this.#file;
    this.#file = undefined;
    const handle = await file?.catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }

  /**
   * The directory has been read: entry data from now on. If the download is still unread (the
   * whole directory came by Range) and the entries lie in order, they are read in one pass over
   * the download, without a spool; otherwise from the spool as the download writes it.
   */
  directoryRead(spans: readonly EntrySpan[]): 'stream' | 'spool' {
    this.#readingDirectory = false;
    const body = spansInOrder(spans) ? this.#download.stream() : undefined;
    if (body) {
      this.#source = new SequentialZipSource(body, spans);
      return 'stream';
    }
    this.#download.spool();
    return 'spool';
  }

  /** Range requests made, and whether the tail was used (for logs and tests). */
  get rangeStats(): { requests: number; tailBytes: number } {
    return { requests: this.#rangeRequests, tailBytes: this.#tail?.bytes.length ?? 0 };
  }

  // The typings say Promise<{}>; yauzl ignores the value. Nothing to open yet: see #handle().
  override async _open(): Promise<{}> {
    return {};
  }

  override async _close(): Promise<{}> {
    await this.release();
    return {};
  }

  override async _read(start: number, length: number): Promise<Buffer> {
    if (this.#source) return this.#source.read(start, length);
    const end = start + length;
    const fromTail = this.#fromTail(start, end) ?? (await this.#fetchTail(start, end));
    if (fromTail) return fromTail;
    // Anything the tail cannot give comes from the spool (which starts the spool if it had not).
    await this.#download.waitFor(end);
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await (await this.#handle()).read(buf, 0, length, start);
    if (bytesRead !== length) throw new Error('Unexpected end of file');
    return buf;
  }

  override _createReadStream(start: number, length: number): Readable {
    if (this.#source) return this.#source.stream(start, length);
    const fromTail = this.#fromTail(start, start + length);
    if (fromTail) return Readable.from([fromTail]);
    return new FollowingFileStream(() => this.#handle(), start, start + length, this.#download);
  }

  /** The spool file for reading; only asked for once the download has written to it. */
  #handle(): Promise<FileHandle> {
    this.#file ??= open(this.#path, 'r');
    return this.#file;
  }

  #fromTail(start: number, end: number): Buffer | undefined {
    const t = this.#tail;
    if (!t || start < t.start || end > this.#size) return undefined;
    return t.bytes.subarray(start - t.start, end - t.start);
  }

  /** While the directory is read, bytes beyond the download come by Range: [start, size) joins the tail. */
  async #fetchTail(start: number, end: number): Promise<Buffer | undefined> {
    if (!this.#readingDirectory || this.#rangesUnusable || !this.#fetchRange) return undefined;
    if (end <= this.#download.bytes) return undefined;
    const tailEnd = this.#tail?.start ?? this.#size;
    if (this.#size - start > this.#maxDirectoryBytes || start >= tailEnd) return undefined;
    this.#rangeRequests++;
    const got = await this.#fetchRange(start, tailEnd);
    if (!got) {
      this.#rangesUnusable = true;
      return undefined;
    }
    this.#tail = { start, bytes: this.#tail ? Buffer.concat([got, this.#tail.bytes]) : got };
    return this.#fromTail(start, end);
  }
}

/** Fetches bytes [start, end) of the same object, or undefined if that cannot be done safely. */
export type RangeFetcher = (start: number, end: number) => Promise<Buffer | undefined>;

/**
 * A RangeFetcher for `url`: a GET with `Range` (and `If-Match` when the object's ETag is known)
 * that only counts if the answer is a 206 for exactly those bytes of an object of `size` bytes.
 * Never throws: any failure is "no".
 */
export function httpRangeFetcher(o: { url: string; size: number; etag?: string; get: HttpGet; signal: AbortSignal }): RangeFetcher {
  return async (start, end) => {
    try {
      const res = await getExactRange(o.get, o.url, { first: start, last: end - 1, total: o.size, ...(o.etag ? { etag: o.etag } : {}), signal: o.signal });
      if (!res) return undefined;
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body) {
        n += chunk.length;
        if (n > end - start) {
          res.discard();
          return undefined;
        }
        chunks.push(chunk);
      }
      return n === end - start ? Buffer.concat(chunks, n) : undefined;
    } catch {
      return undefined;
    }
  };
}

/** Most bytes one read of the spool file takes. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Bytes [start, end) of a file that is still being written by `download`: read as far as the
 * download has got, then wait for more. Fails with the download's own error if it breaks first.
 */
class FollowingFileStream extends Readable {
  #pos: number;
  readonly #end: number;

  constructor(
    private readonly file: () => Promise<FileHandle>,
    start: number,
    end: number,
    private readonly download: Download,
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
    if (this.download.bytes <= this.#pos) await this.download.waitFor(this.#pos + 1);
    const n = Math.min(READ_CHUNK_BYTES, this.#end - this.#pos, this.download.bytes - this.#pos);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await (await this.file()).read(buf, 0, n, this.#pos);
    if (bytesRead === 0) throw new Error('Unexpected end of file');
    this.#pos += bytesRead;
    this.push(bytesRead === n ? buf : buf.subarray(0, bytesRead));
  }
}
