import { PermanentError } from '@bp/shared';

const GiB = 1024 ** 3;

/** Limits on an export ZIP, checked on declared sizes before anything is uploaded and again on the bytes actually streamed. */
export interface ZipLimits {
  /** Largest ZIP download accepted, bytes. Default 20 GiB. */
  maxZipBytes: number;
  /** Largest sum of the entries' uncompressed sizes, bytes. Default 50 GiB. */
  maxTotalUncompressedBytes: number;
  /** Most entries (files and directories) in one ZIP. Default 50,000. */
  maxEntries: number;
  /** Highest uncompressed ÷ compressed size, per entry and for the whole ZIP (only above RATIO_FLOOR_BYTES). Default 200. */
  maxCompressionRatio: number;
}

export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxZipBytes: 20 * GiB,
  maxTotalUncompressedBytes: 50 * GiB,
  maxEntries: 50_000,
  maxCompressionRatio: 200,
});

/**
 * Below this many uncompressed bytes the ratio is not checked: small, very repetitive files
 * (blank pages, padded text) legitimately compress several hundred times, and their total is
 * capped by maxTotalUncompressedBytes anyway. 1 MiB.
 */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/** Throws a PermanentError naming the first limit that is not a positive number. */
export function validateZipLimits(limits: ZipLimits): void {
  for (const name of ['maxZipBytes', 'maxTotalUncompressedBytes', 'maxEntries'] as const) {
    const v = limits[name];
    if (!Number.isSafeInteger(v) || v <= 0) throw invalidLimit(name, v);
  }
  if (!(Number.isFinite(limits.maxCompressionRatio) && limits.maxCompressionRatio >= 1)) {
    throw invalidLimit('maxCompressionRatio', limits.maxCompressionRatio);
  }
}

/** Whether `uncompressed` bytes from `compressed` bytes is a suspicious ratio. */
export function exceedsRatio(uncompressed: number, compressed: number, maxRatio: number): boolean {
  if (uncompressed < RATIO_FLOOR_BYTES) return false;
  return compressed === 0 || uncompressed / compressed > maxRatio;
}

function invalidLimit(name: string, value: unknown): PermanentError {
  return new PermanentError(`limits.${name} must be a positive number, got ${String(value)}`, { code: 'TransferOptions' });
}
