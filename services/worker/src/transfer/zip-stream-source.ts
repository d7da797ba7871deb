import { Readable } from 'node:stream';
import { PermanentError } from '@bp/shared';
import type { BodyReader } from './download-export.ts';
import type { ZipByteSource } from './zip-byte-source.ts';

/** Where a planned entry lies in the ZIP, from the central directory. */
export interface EntrySpan {
  name: string;
  headerOffset: number;
  compressedSize: number;
}

/** yauzl reads this much of each local file header; the name and extra field after it are skipped. */
const LOCAL_HEADER_BYTES = 30;

/** Bytes an entry's data stream buffers before it stops asking for more of the download. */
const STREAM_BUFFER_BYTES = 1024 * 1024;

type Request =
  | { kind: 'read'; span: number; start: number; resolve(bytes: Buffer): void; reject(err: unknown): void }
  | { kind: 'stream'; span: number; start: number; length: number; stream: EntryDataStream };

/**
 * The planned entries of a ZIP, read in one pass over its download: no spool file, no disk.
 *
 * Once the central directory is known (fetched by Range), the entries' local headers and data
 * are simply the download's bytes in order. yauzl asks for each entry's local header, then its
 * data, and the files are opened in ZIP order; this source answers those requests as the bytes
 * come down, handing the download's own chunks to the entry streams without copying them, and
 * discards the bytes between entries. The reader sets the pace: nothing is read from the network
 * until an entry stream wants it, so memory stays at about one chunk plus each stream's buffer.
 *
 * Requests may arrive before their bytes do (a later file's header while an earlier file's data
 * still streams); each is matched to its entry when it arrives, and one that matches no entry
 * still ahead fails at once with ZipCorrupt rather than wait forever. Entries must lie in
 * increasing order without overlapping (see `spansInOrder`); a ZIP that breaks this is read
 * from a spool instead. After the last entry, the rest of the body (the central directory) is
 * read and dropped, so the download still ends whole and is checked.
 *
 * If an entry stream is destroyed by its reader (its upload failed), the source stops reading
 * without failing the others, so that failure stays the transfer's story: the transfer stops
 * the other readers, and `destroy()` then settles whatever still waits.
 */
export class SequentialZipSource implements ZipByteSource {
  readonly #body: BodyReader;
  readonly #spans: readonly EntrySpan[];
  readonly #pending: Request[] = [];
  #wake: (() => void) | undefined;
  /** Unused bytes of the current chunk; they start at #pos. */
  #chunk: Buffer = Buffer.alloc(0);
  #pos = 0;
  /** Index of the span whose requests come next. */
  #step = 0;
  #error: unknown;
  /** The run is over (ended, failed or stopped): requests are no longer answered. */
  #over = false;

  constructor(body: BodyReader, spans: readonly EntrySpan[]) {
    this.#body = body;
    this.#spans = spans;
    this.#run().then(
      (completed) => {
        if (completed) this.#finish(new PermanentError('corrupt ZIP: a read was asked for after the last entry', { code: 'ZipCorrupt' }));
      },
      (err: unknown) => this.#finish(err),
    );
  }

  /** Bytes [start, start + length): a local file header. */
  read(start: number, length: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const span = length === LOCAL_HEADER_BYTES ? this.#findSpan((s) => s.headerOffset === start) : -1;
      this.#add(span, { kind: 'read', span, start, resolve, reject }, `${length} bytes at ${start}`);
    });
  }

  /** Bytes [start, start + length) as a stream: an entry's data. */
  stream(start: number, length: number): Readable {
    const stream = new EntryDataStream();
    const span = this.#findSpan(
      (s, next) => length === s.compressedSize && start >= s.headerOffset + LOCAL_HEADER_BYTES && start + length <= next,
    );
    this.#add(span, { kind: 'stream', span, start, length, stream }, `${length} bytes of data at ${start}`);
    return stream;
  }

  /** Stops reading and fails whatever still waits (the transfer is over). */
  destroy(err: unknown): void {
    this.#finish(err);
  }

  async release(err: unknown): Promise<void> {
    this.destroy(err);
  }

  /** The first span at or after the current step that `fits`, given where the next entry starts; -1 if none. */
  #findSpan(fits: (span: EntrySpan, nextOffset: number) => boolean): number {
    for (let i = this.#step; i < this.#spans.length; i++) {
      if (fits(this.#spans[i]!, this.#spans[i + 1]?.headerOffset ?? Number.MAX_SAFE_INTEGER)) return i;
    }
    return -1;
  }

  #add(span: number, request: Request, what: string): void {
    if (this.#over) {
      failRequest(request, this.#error);
      return;
    }
    if (span < 0) {
      failRequest(
        request,
        new PermanentError(`corrupt ZIP: ${what} is not where the central directory puts an entry still to come`, { code: 'ZipCorrupt' }),
      );
      return;
    }
    this.#pending.push(request);
    this.#wake?.();
  }

  #finish(err: unknown): void {
    if (this.#over) return;
    this.#over = true;
    this.#error = err;
    for (const r of this.#pending.splice(0)) failRequest(r, err);
    this.#wake?.();
  }

  /**
   * Answers the requests entry by entry; true once the whole body is read. False if it stopped
   * early: destroyed, or an entry stream closed by its reader, whose failure is the transfer's
   * story (the others wait, unanswered, until the transfer stops them).
   */
  async #run(): Promise<boolean> {
    /** The request being answered: it has left #pending, so a failure must reach it here. */
    let active: Request | undefined;
    try {
      for (; this.#step < this.#spans.length; this.#step++) {
        const span = this.#spans[this.#step]!;
        active = await this.#request('read');
        const header = active;
        if (!header) return false;
        await this.#skipTo(span.headerOffset, span);
        header.resolve(await this.#take(LOCAL_HEADER_BYTES, span));
        if (span.compressedSize === 0) continue;
        active = await this.#request('stream');
        const data = active;
        if (!data) return false;
        await this.#skipTo(data.start, span);
        if (!(await this.#feed(data.stream, data.length, span))) return false;
      }
      active = undefined;
    } catch (err) {
      // The download broke (or the ZIP lied) while answering it: its reader hears it first.
      if (active) failRequest(active, err);
      throw err;
    }
    // The central directory: read and dropped, so the download ends whole (and is checked).
    this.#chunk = Buffer.alloc(0);
    while (await this.#body.next()) {
      // Dropped.
    }
    return true;
  }

  /** The pending request of the current step of this kind, once there is one; undefined once the run is over. */
  async #request<K extends Request['kind']>(kind: K): Promise<Extract<Request, { kind: K }> | undefined> {
    for (;;) {
      if (this.#over) return undefined;
      const i = this.#pending.findIndex((r) => r.span === this.#step && r.kind === kind);
      if (i >= 0) return this.#pending.splice(i, 1)[0] as Extract<Request, { kind: K }>;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** The unused bytes at #pos, pulling the next chunk of the download when they are used up. */
  async #current(span: EntrySpan): Promise<Buffer> {
    while (this.#chunk.length === 0) {
      const next = await this.#body.next();
      if (!next)
        throw new PermanentError(`corrupt ZIP: it ends inside entry ${JSON.stringify(span.name)}`, {
          code: 'ZipCorrupt',
          details: { entry: span.name },
        });
      this.#chunk = next;
    }
    return this.#chunk;
  }

  #use(n: number): Buffer {
    const used = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    this.#pos += n;
    return used;
  }

  async #skipTo(offset: number, span: EntrySpan): Promise<void> {
    if (offset < this.#pos) {
      throw new PermanentError(`corrupt ZIP: entry ${JSON.stringify(span.name)} overlaps the entry before it`, {
        code: 'ZipCorrupt',
        details: { entry: span.name },
      });
    }
    while (this.#pos < offset) this.#use(Math.min(offset - this.#pos, (await this.#current(span)).length));
  }

  async #take(n: number, span: EntrySpan): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= parts.at(-1)!.length) parts.push(this.#use(Math.min(left, (await this.#current(span)).length)));
    // A copy: the header must not keep the download's chunk alive.
    return Buffer.concat(parts, n);
  }

  /** Pushes `length` bytes into `stream` as fast as it reads them; false if its reader closed it first. */
  async #feed(stream: EntryDataStream, length: number, span: EntrySpan): Promise<boolean> {
    for (let left = length; left > 0; ) {
      if (!(await stream.demand())) return false;
      // Destroyed meanwhile: this reader hears why (see #run).
      if (this.#over) throw this.#error;
      const piece = this.#use(Math.min(left, (await this.#current(span)).length));
      left -= piece.length;
      stream.push(piece);
    }
    stream.push(null);
    return true;
  }
}

function failRequest(r: Request, err: unknown): void {
  if (r.kind === 'read') r.reject(err);
  else failStream(r.stream, err);
}

function failStream(stream: Readable, err: unknown): void {
  stream.destroy(err instanceof Error ? err : new Error(String(err)));
}

/** An entry's data, pushed by the source while its reader has room. */
class EntryDataStream extends Readable {
  #wanted = false;
  #onDemand: ((wanted: boolean) => void) | undefined;

  constructor() {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
  }

  /** Resolves true once the reader wants more, false if the stream was destroyed. */
  demand(): Promise<boolean> {
    if (this.destroyed) return Promise.resolve(false);
    if (this.#wanted) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => (this.#onDemand = resolve));
  }

  override push(chunk: Buffer | null): boolean {
    this.#wanted = super.push(chunk);
    return this.#wanted;
  }

  override _read(): void {
    this.#wanted = true;
    this.#onDemand?.(true);
    this.#onDemand = undefined;
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#onDemand?.(false);
    this.#onDemand = undefined;
    callback(err);
  }
}

/**
 * True if the entries can be read in one pass: header offsets strictly increasing and each
 * entry's header and data ending before the next header begins.
 */
export function spansInOrder(spans: readonly EntrySpan[]): boolean {
  return spans.every((s, i) => {
    const next = spans[i + 1];
    return !next || s.headerOffset + LOCAL_HEADER_BYTES + s.compressedSize <= next.headerOffset;
  });
}
