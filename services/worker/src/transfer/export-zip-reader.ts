import { Readable } from 'node:stream';
import yauzl from 'yauzl-promise';
import { TransientError } from '@bp/shared';
import type { Download } from './download-export.ts';
import type { HttpGet } from './http-get.ts';
import { getExactRange } from './resumable-body.ts';
import { SpoolFileSource } from './spool-file.ts';
import type { ZipByteSource } from './zip-byte-source.ts';
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
 * download as it arrives (SequentialZipSource): no spool file, no disk, memory bounded. Either
 * way the entries come from one ZipByteSource: that one, or the spool file (SpoolFileSource).
 *
 * The tail is only trusted if it is the same object: a 206 whose Content-Range names the same
 * total size, sent under `If-Match` with the download's ETag when it has one. Anything else —
 * no Range support, another status, a network error, a directory larger than
 * `maxDirectoryBytes` — and the download goes to a spool file, which the reader follows: a read
 * is served from disk as soon as the download has written the bytes it needs. So do ZIPs whose
 * entries are out of order or overlap, which one pass cannot read.
 */
export class ExportZipReader extends yauzl.Reader {
  readonly #size: number;
  readonly #download: Download;
  readonly #fetchRange: RangeFetcher | undefined;
  readonly #maxDirectoryBytes: number;
  /** The spool file as the download writes it: what the tail cannot give while the directory is read. */
  readonly #spool: SpoolFileSource;
  /** Where entry data comes from once the directory is read: the download itself, or the spool. */
  #source: ZipByteSource | undefined;
  /** Bytes [tail.start, size) held in memory, fetched by Range while the directory was read. */
  #tail: { start: number; bytes: Buffer } | undefined;
  #readingDirectory = true;
  /** Ranges proved unusable once: stop asking. */
  #rangesUnusable = false;
  #rangeRequests = 0;

  constructor(o: { path: string; size: number; download: Download; fetchRange?: RangeFetcher; maxDirectoryBytes: number }) {
    super();
    this.#spool = new SpoolFileSource(o.path, o.download);
    this.#size = o.size;
    this.#download = o.download;
    this.#fetchRange = o.fetchRange;
    this.#maxDirectoryBytes = o.maxDirectoryBytes;
  }

  /** Settles any read still waiting and closes the spool file, whatever state yauzl left the reader in. */
  async release(): Promise<void> {
    const over = new TransientError('export transfer ended before this read was answered', { code: 'TransferAborted' });
    await this.#source?.release(over);
    await this.#spool.release();
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
    this.#source = this.#spool;
    return 'spool';
  }

  /** Range requests made, and whether the tail was used (for logs and tests). */
  get rangeStats(): { requests: number; tailBytes: number } {
    return { requests: this.#rangeRequests, tailBytes: this.#tail?.bytes.length ?? 0 };
  }

  // The typings say Promise<{}>; yauzl ignores the value. Nothing to open yet: see #handle().
  override async _open(): Promise<object> {
    return {};
  }

  override async _close(): Promise<object> {
    await this.release();
    return {};
  }

  override async _read(start: number, length: number): Promise<Buffer> {
    if (this.#source) return this.#source.read(start, length);
    const end = start + length;
    const fromTail = this.#fromTail(start, end) ?? (await this.#fetchTail(start, end));
    if (fromTail) return fromTail;
    // Anything the tail cannot give comes from the spool (waiting on it starts the spool if it had not).
    return this.#spool.read(start, length);
  }

  override _createReadStream(start: number, length: number): Readable {
    if (this.#source) return this.#source.stream(start, length);
    const fromTail = this.#fromTail(start, start + length);
    if (fromTail) return Readable.from([fromTail]);
    return this.#spool.stream(start, length);
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
      const res = await getExactRange(o.get, o.url, {
        first: start,
        last: end - 1,
        total: o.size,
        ...(o.etag ? { etag: o.etag } : {}),
        signal: o.signal,
      });
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
