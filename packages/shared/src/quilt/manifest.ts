import { createHash } from 'node:crypto';
import { type ErrorCode, PermanentError } from '../errors.ts';
import { canonicalJson, compareCodePoints, pythonJson } from './canonical-json.ts';
import { type PhysicalKey, parsePhysicalKeyUrl, physicalKeyUrl } from './physical-key.ts';

/** `sha2-256-chunked` is what we write; `SHA256` (plain hex) is the legacy type readers still accept. */
export type EntryHashType = 'sha2-256-chunked' | 'SHA256';
export const ENTRY_HASH_TYPES: readonly EntryHashType[] = ['sha2-256-chunked', 'SHA256'];

/** One file of a package revision. */
export interface ManifestEntry {
  /** Path inside the package, `/`-separated, e.g. `export/entry.pdf`. */
  logicalKey: string;
  physicalKey: PhysicalKey;
  /** Bytes. */
  size: number;
  hash: { type: EntryHashType; value: string };
  /** Per-file metadata; `{}` when none. Part of the top hash. */
  meta: Record<string, unknown>;
}

/** Line 1 of a manifest. */
export interface PackageMeta {
  /** Commit message; `null` when none (always written). */
  message: string | null;
  /** The package's metadata (`user_meta`); left out of the manifest when undefined. */
  userMeta?: object;
  /** Quilt workflow record; left out when undefined. */
  workflow?: object;
}

/** Quilt readers refuse manifest lines this long or longer (bytes, newline included). */
export const MAX_MANIFEST_LINE_BYTES = 1_000_000;

const HASH_FORMATS: Record<EntryHashType, RegExp> = {
  'sha2-256-chunked': /^[A-Za-z0-9+/]{43}=$/,
  SHA256: /^[0-9a-f]{64}$/,
};

/**
 * Orders logical keys as quilt3 walks its tree: segment by segment, each compared by code
 * point, a shorter path first. So `a/b` < `a-c` (plain string order says `a-c` < `a/b`).
 */
export function compareLogicalKeys(a: string, b: string): number {
  const sa = a.split('/');
  const sb = b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const c = compareCodePoints(sa[i]!, sb[i]!);
    if (c !== 0) return c;
  }
  return sa.length - sb.length;
}

/** A copy of the entries in tree order (the order of the top hash and of manifest lines). */
export function treeOrder<T extends Pick<ManifestEntry, 'logicalKey'>>(entries: readonly T[]): T[] {
  return [...entries].sort((x, y) => compareLogicalKeys(x.logicalKey, y.logicalKey));
}

/**
 * Rejects what a Quilt reader would refuse or misread: duplicate logical keys, a file that is
 * also a directory (`a` and `a/b`), empty/`.`/`..` segments, bad sizes and malformed hashes.
 */
export function checkEntries(entries: readonly ManifestEntry[]): void {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const e of entries) {
    const bad = (why: string, code: ErrorCode = 'QuiltBadEntry'): PermanentError =>
      new PermanentError(`package entry ${JSON.stringify(e.logicalKey)}: ${why}`, { code, details: { logicalKey: e.logicalKey } });
    const segments = e.logicalKey.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) throw bad('logical key has an empty, "." or ".." segment');
    if (files.has(e.logicalKey)) throw bad('duplicate logical key', 'QuiltDuplicateKey');
    files.add(e.logicalKey);
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad(`size ${e.size} is not a byte count`);
    const format = HASH_FORMATS[e.hash?.type];
    if (!format) throw bad(`unknown hash type ${JSON.stringify(e.hash?.type)}`);
    if (!format.test(e.hash.value)) throw bad(`hash value ${JSON.stringify(e.hash.value)} is not a ${e.hash.type} digest`);
  }
  for (const dir of dirs) {
    if (files.has(dir)) {
      throw new PermanentError(`package entry ${JSON.stringify(dir)} is both a file and a directory`, {
        code: 'QuiltKeyConflict',
        details: { logicalKey: dir },
      });
    }
  }
}

/** Line 1 as an object, keys in the order quilt3 writes them. */
function metaLine(meta: PackageMeta): Record<string, unknown> {
  return {
    version: 'v0',
    message: meta.message ?? null,
    ...(meta.userMeta === undefined ? {} : { user_meta: meta.userMeta }),
    ...(meta.workflow === undefined ? {} : { workflow: meta.workflow }),
  };
}

/** The hex SHA-256 naming a revision: canonical meta, then each entry's hash/logical_key/meta/size in tree order. */
export function topHash(meta: PackageMeta, entries: readonly ManifestEntry[]): string {
  checkEntries(entries);
  const sha = createHash('sha256');
  sha.update(canonicalJson(metaLine(meta)), 'utf8');
  for (const e of treeOrder(entries)) {
    sha.update(
      canonicalJson({ hash: { type: e.hash.type, value: e.hash.value }, logical_key: e.logicalKey, meta: e.meta, size: e.size }),
      'utf8',
    );
  }
  return sha.digest('hex');
}

/** The manifest object: JSON Lines, meta first, entries in tree order, newline-terminated. */
export function serializeManifest(meta: PackageMeta, entries: readonly ManifestEntry[]): string {
  checkEntries(entries);
  // Same number formatting as the top hash, so a Python reader re-derives the same hash from these lines.
  const write = (line: Record<string, unknown>): string => pythonJson(line, { sortKeys: false, ensureAscii: false });
  const ordered = treeOrder(entries);
  const lines = [write(metaLine(meta))];
  for (const e of ordered) {
    lines.push(
      write({
        logical_key: e.logicalKey,
        physical_keys: [physicalKeyUrl(e.physicalKey)],
        size: e.size,
        hash: { type: e.hash.type, value: e.hash.value },
        meta: e.meta,
      }),
    );
  }
  lines.forEach((line, i) => {
    const bytes = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes >= MAX_MANIFEST_LINE_BYTES) {
      const what = i === 0 ? 'package metadata' : `entry ${JSON.stringify(ordered[i - 1]!.logicalKey)}`;
      throw new PermanentError(
        `manifest line for ${what} is ${bytes} bytes; Quilt readers refuse lines of ${MAX_MANIFEST_LINE_BYTES} bytes or more`,
        {
          code: 'QuiltManifestLineTooLong',
          details: { line: i + 1, bytes },
        },
      );
    }
  });
  return `${lines.join('\n')}\n`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a manifest written by us or by quilt3. Directory-metadata lines (`"dir/"` without
 * physical keys) are skipped. Limitation: JSON.parse turns Python's `1.0` into `1`, so a
 * re-derived top hash can differ for meta holding integral floats; the pointer's hash is the truth.
 */
export function parseManifest(text: string): { meta: PackageMeta; entries: ManifestEntry[] } {
  const lines = text
    .split('\n')
    .map((l, i) => ({ n: i + 1, text: l.replace(/\r$/, '') }))
    .filter((l) => l.text.trim() !== '');
  const bad = (n: number, why: string, cause?: unknown): PermanentError =>
    new PermanentError(`manifest line ${n}: ${why}`, { code: 'QuiltBadManifest', details: { line: n }, cause });
  const parsed = lines.map(({ n, text: t }) => {
    try {
      return { n, value: JSON.parse(t) as unknown };
    } catch (err) {
      throw bad(n, 'not JSON', err);
    }
  });
  const head = parsed[0];
  if (!head) throw bad(1, 'manifest is empty');
  const m = head.value;
  if (!isPlainObject(m) || m.version !== 'v0') throw bad(head.n, 'package metadata must be an object with "version":"v0"');
  if (m.message !== undefined && m.message !== null && typeof m.message !== 'string')
    throw bad(head.n, '"message" must be a string or null');
  if (m.user_meta !== undefined && !isPlainObject(m.user_meta)) throw bad(head.n, '"user_meta" must be an object');
  if (m.workflow !== undefined && !isPlainObject(m.workflow)) throw bad(head.n, '"workflow" must be an object');
  const meta: PackageMeta = {
    message: (m.message as string | null | undefined) ?? null,
    ...(m.user_meta === undefined ? {} : { userMeta: m.user_meta as object }),
    ...(m.workflow === undefined ? {} : { workflow: m.workflow as object }),
  };

  const entries: ManifestEntry[] = [];
  const seen = new Set<string>();
  for (const { n, value: v } of parsed.slice(1)) {
    if (!isPlainObject(v) || typeof v.logical_key !== 'string' || v.logical_key === '') throw bad(n, 'entry needs a "logical_key"');
    if (v.logical_key.endsWith('/') && v.physical_keys === undefined) continue;
    if (!Array.isArray(v.physical_keys) || typeof v.physical_keys[0] !== 'string') throw bad(n, 'entry needs "physical_keys"');
    let physicalKey: PhysicalKey;
    try {
      physicalKey = parsePhysicalKeyUrl(v.physical_keys[0]);
    } catch (err) {
      throw bad(n, (err as Error).message, err);
    }
    if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw bad(n, 'entry needs a "size" in bytes');
    const hash = v.hash as { type?: unknown; value?: unknown } | undefined;
    if (!isPlainObject(hash) || !ENTRY_HASH_TYPES.includes(hash.type as EntryHashType) || typeof hash.value !== 'string') {
      throw bad(n, 'entry needs a "hash" of type sha2-256-chunked or SHA256');
    }
    if (!isPlainObject(v.meta)) throw bad(n, 'entry needs a "meta" object');
    if (seen.has(v.logical_key)) throw bad(n, `duplicate logical key ${JSON.stringify(v.logical_key)}`);
    seen.add(v.logical_key);
    entries.push({
      logicalKey: v.logical_key,
      physicalKey,
      size: v.size,
      hash: { type: hash.type as EntryHashType, value: hash.value },
      meta: v.meta,
    });
  }
  return { meta, entries };
}
