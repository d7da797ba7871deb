import type { Entry, ZipFile } from 'yauzl-promise';
import { type ErrorCode, PackagerError, PermanentError } from '@bp/shared';
import { exportLogicalKey } from '@bp/shared/quilt/reserved-keys';
import { s3KeyFor, sanitizeEntryPath } from './entry-path.ts';
import { exceedsRatio, type ZipLimits } from './zip-limits.ts';

/** A file entry that passed every check, with where it goes. */
export interface PlannedFile {
  entry: Entry;
  logicalKey: string;
  key: string;
  /** Declared uncompressed size, bytes; the streamed bytes must match it exactly. */
  size: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const STORED = 0;
const DEFLATED = 8;

/**
 * Reads the whole central directory and refuses the ZIP if any entry is unsafe, so that an
 * unsafe ZIP uploads nothing at all. Returns the file entries in ZIP order (directories are
 * skipped). Checks: entry count, paths, symlinks, encryption, compression method, duplicate
 * or file-vs-folder logical keys, and the limits on declared sizes.
 */
export async function planZipEntries(zip: ZipFile, o: { prefix: string; limits: ZipLimits; zipBytes: number }): Promise<PlannedFile[]> {
  const { limits } = o;
  // The end-of-central-directory record states the count: refuse before reading any entry.
  if (zip.entryCount > limits.maxEntries) throw tooManyEntries(zip.entryCount, limits.maxEntries);

  const files: PlannedFile[] = [];
  const seen = new Set<string>();
  const folders = new Set<string>();
  let entries = 0;
  let totalDeclared = 0;
  for (;;) {
    const entry = await readNextEntry(zip);
    if (!entry) break;
    if (++entries > limits.maxEntries) throw tooManyEntries(entries, limits.maxEntries);
    const name = entry.filename;

    if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) throw refuse('ZipSymlink', name, 'is a symbolic link');
    const path = sanitizeEntryPath(name);
    if (path.kind === 'directory') continue;
    // A file named like one of our metadata files is kept under another name: both survive.
    const p = { logicalKey: exportLogicalKey(path.logicalKey) };
    if (entry.isEncrypted()) throw refuse('ZipEncrypted', name, 'is encrypted');
    if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
      throw refuse('ZipUnsupported', name, `uses compression method ${entry.compressionMethod}`);
    }
    if (entry.compressionMethod === STORED && entry.compressedSize !== entry.uncompressedSize) {
      throw refuse(
        'ZipCorrupt',
        name,
        `is stored but declares ${entry.compressedSize} compressed and ${entry.uncompressedSize} uncompressed bytes`,
      );
    }
    if (exceedsRatio(entry.uncompressedSize, entry.compressedSize, limits.maxCompressionRatio)) {
      throw refuse(
        'ZipBomb',
        name,
        `expands ${entry.compressedSize} bytes to ${entry.uncompressedSize} (limit ratio ${limits.maxCompressionRatio})`,
      );
    }
    totalDeclared += entry.uncompressedSize;
    if (totalDeclared > limits.maxTotalUncompressedBytes) {
      throw refuse('ZipTooLarge', name, `brings the uncompressed total past ${limits.maxTotalUncompressedBytes} bytes`);
    }
    // Two names can meet after normalisation (`a//b` and `a/b`, NFD and NFC): one would overwrite the other.
    if (seen.has(p.logicalKey)) throw refuse('ZipDuplicatePath', name, `repeats the path ${JSON.stringify(p.logicalKey)}`);
    seen.add(p.logicalKey);
    // A key that is both a file and a folder (`a` and `a/b`) cannot be one Quilt package.
    if (folders.has(p.logicalKey)) throw refuse('ZipPathConflict', name, 'is a file where other entries have a folder');
    for (const folder of ancestors(p.logicalKey)) {
      if (seen.has(folder)) throw refuse('ZipPathConflict', name, `is inside ${JSON.stringify(folder)}, which is a file`);
      folders.add(folder);
    }
    files.push({ entry, logicalKey: p.logicalKey, key: s3KeyFor(o.prefix, p.logicalKey, name), size: entry.uncompressedSize });
  }
  // Many small entries each under the ratio floor can still add up to a bomb.
  if (exceedsRatio(totalDeclared, o.zipBytes, limits.maxCompressionRatio)) {
    throw new PermanentError(`unsafe ZIP: ${o.zipBytes} bytes expand to ${totalDeclared} (limit ratio ${limits.maxCompressionRatio})`, {
      code: 'ZipBomb',
      details: { zipBytes: o.zipBytes, uncompressedBytes: totalDeclared },
    });
  }
  return files;
}

/** `a/b/c` → `a`, `a/b`. */
function ancestors(logicalKey: string): string[] {
  const parts = logicalKey.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

async function readNextEntry(zip: ZipFile): Promise<Entry | null> {
  try {
    return await zip.readEntry();
  } catch (err) {
    throw zipReadError(err);
  }
}

/**
 * What a failed read of the ZIP means: the reader's own errors (a broken download) keep their
 * class; anything yauzl or inflate says itself is about the bytes, a permanent ZipCorrupt that
 * names `entry` when the read was of one.
 */
export function zipReadError(err: unknown, entry?: string): PackagerError {
  if (err instanceof PackagerError) return err;
  const why = (err as Error)?.message ?? String(err);
  if (entry === undefined) return new PermanentError(`corrupt ZIP: ${why}`, { code: 'ZipCorrupt', cause: err });
  return new PermanentError(`corrupt ZIP: entry ${JSON.stringify(entry)}: ${why}`, { code: 'ZipCorrupt', cause: err, details: { entry } });
}

function tooManyEntries(count: number, max: number): PermanentError {
  return new PermanentError(`unsafe ZIP: more than ${max} entries (at least ${count})`, {
    code: 'ZipTooManyEntries',
    details: { entries: count, maxEntries: max },
  });
}

function refuse(code: ErrorCode, entryName: string, why: string): PermanentError {
  return new PermanentError(`unsafe ZIP: entry ${JSON.stringify(entryName)} ${why}`, { code, details: { entry: entryName } });
}
