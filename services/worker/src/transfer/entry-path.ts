import { type ErrorCode, PermanentError } from '@bp/shared';

/** What a ZIP entry's name turns into: a directory (skipped) or a file with its logical key. */
export type EntryPath = { kind: 'directory' } | { kind: 'file'; logicalKey: string };

/** Unicode's bidirectional formatting characters: ALM, LRM, RLM, LRE…RLO, LRI…PDI. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** S3's key length limit, UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;

/**
 * Turns a ZIP entry name into a safe, NFC-normalised logical key, or refuses the ZIP.
 *
 * Backslashes count as separators, as Windows tools would read them, so `..\x` and `\\host\x`
 * are caught by the same rules as their forward-slash forms. `.` and empty segments are
 * dropped; `..` is never resolved, it is refused, because a well-formed export has no reason
 * to contain one.
 */
export function sanitizeEntryPath(name: string): EntryPath {
  // Control characters (NUL above all) truncate or confuse paths in C code, XML listings and shells.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw unsafe('ZipBadPath', name, 'contains a control character');
  // Bidirectional controls make a name display as another (`invoice\u202Efdp.exe` shows as `invoiceexe.pdf`).
  if (BIDI_CONTROLS.test(name)) throw unsafe('ZipBadPath', name, 'contains a bidirectional-override character');
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/')) throw unsafe('ZipAbsolutePath', name, 'is an absolute path');
  if (/^[A-Za-z]:/.test(slashed)) throw unsafe('ZipAbsolutePath', name, 'starts with a drive letter');
  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe('ZipTraversal', name, 'has a ".." segment');
  if (slashed.endsWith('/')) return { kind: 'directory' };
  if (segments.length === 0) throw unsafe('ZipBadPath', name, 'has no file name');
  return { kind: 'file', logicalKey: segments.join('/').normalize('NFC') };
}

/** The S3 key of a logical key; refuses keys S3 would reject. */
export function s3KeyFor(prefix: string, logicalKey: string, entryName: string): string {
  const key = prefix + logicalKey;
  if (Buffer.byteLength(key, 'utf8') > MAX_S3_KEY_BYTES) {
    throw unsafe('ZipBadPath', entryName, `makes an S3 key longer than ${MAX_S3_KEY_BYTES} bytes`);
  }
  return key;
}

function unsafe(code: ErrorCode, entryName: string, why: string): PermanentError {
  return new PermanentError(`unsafe ZIP: entry ${JSON.stringify(entryName)} ${why}`, { code, details: { entry: entryName } });
}
