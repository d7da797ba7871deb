import type { Readable } from 'node:stream';

/**
 * Where ExportZipReader gets an export's bytes once its directory is read: either straight from
 * the download in one pass (SequentialZipSource) or from the spool file the download is writing
 * (SpoolFileSource). yauzl asks for each entry's local header (`read`), then its data (`stream`).
 */
export interface ZipByteSource {
  /** Bytes [start, start + length) in memory. */
  read(start: number, length: number): Promise<Buffer>;
  /** Bytes [start, start + length) as a stream. */
  stream(start: number, length: number): Readable;
  /** Settles every read still waiting with `err` and lets go of what the source holds (connections, file handles). */
  release(err: unknown): Promise<void>;
}
