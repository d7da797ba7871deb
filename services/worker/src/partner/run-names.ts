import { createHash } from 'node:crypto';
import { entryKey } from '@bp/shared';

/** Characters Quilt allows in each part of a package name. */
const ALLOWED = /^[A-Za-z0-9_-]+$/;
/** Hex characters of the original's SHA-256 added when anything was replaced. */
const HASH_CHARS = 10;
/** Longest name part we make (Quilt has no documented limit; S3 keys do). */
const MAX_NAME_CHARS = 200;

/**
 * The package name part of a run id, injective. An id made only of `[A-Za-z0-9_-]` (and not
 * ending like a mapped one) is used as is; any other id has every other character replaced by
 * `_`, is cut to fit, and gets `-h` + 10 hex of the original's SHA-256 appended
 * (`run 1/2` → `run_1_2-h<hex>`). Kept ids never end in `-h<10 hex>` and mapped ones always do,
 * so the two never meet; two mapped ids share a name only if their SHA-256 prefixes collide.
 * (The entry pipeline's mapping lives in @bp/shared/quilt/package-name; this one is the run's.)
 */
export function runNamePart(runId: string): string {
  if (ALLOWED.test(runId) && runId.length <= MAX_NAME_CHARS && !/-h[0-9a-f]{10}$/.test(runId)) return runId;
  const replaced = runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME_CHARS - HASH_CHARS - 2);
  const hash = createHash('sha256').update(runId, 'utf8').digest('hex').slice(0, HASH_CHARS);
  return `${replaced}-h${hash}`;
}

/** `<namespace>/<run>`: the run's Quilt package. */
export function runPackageName(namespace: string, runId: string): string {
  return `${namespace}/${runNamePart(runId)}`;
}

/** The lease resource of a run in the entries table: one partner event of a run at a time. */
export function runResourceKey(partnerId: string, runId: string): string {
  return entryKey(`partner:${partnerId}`, `run:${runId}`);
}
