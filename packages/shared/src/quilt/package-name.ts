import { createHash } from 'node:crypto';
import { PermanentError } from '../errors.ts';

// Quilt's `^[\w-]+/[\w-]+$`. Python's `\w` would also admit non-ASCII letters; JS's ASCII-only `\w`
// is the stricter reading, so every name accepted here works in quilt3 and in the web catalog alike.
const PACKAGE_NAME = /^[\w-]+\/[\w-]+$/;
/** One half of a package name (`namespace` or `name`). */
const NAME_PART = /^[\w-]+$/;

/** A package name split into the two parts the registry layout uses (`<namespace>/<name>`). */
export interface PackageName {
  namespace: string;
  name: string;
}

/** Checks `namespace/name` against Quilt's rule `^[\w-]+/[\w-]+$`; PermanentError `QuiltBadPackageName` otherwise. */
export function parsePackageName(packageName: string): PackageName {
  if (!PACKAGE_NAME.test(packageName)) {
    throw new PermanentError(
      `invalid Quilt package name ${JSON.stringify(packageName)}: expected namespace/name of letters, digits, _ or -`,
      {
        code: 'QuiltBadPackageName',
        details: { packageName },
      },
    );
  }
  const [namespace, name] = packageName.split('/') as [string, string];
  return { namespace, name };
}

/** True when `s` can be a namespace or a name as it is (`^[\w-]+$`). */
export function isPackageNamePart(s: string): boolean {
  return NAME_PART.test(s);
}

/** Hex digits of SHA-256 appended to a name that had to be changed: 40 bits. */
const HASH_CHARS = 10;
/** A name longer than this is cut (and hashed): keeps `<prefix>/<name>/<file>` well inside S3's 1,024-byte keys. */
const MAX_NAME_CHARS = 100;
/** What a changed name ends with; a raw id that already ends like this is changed too, so the two never meet. */
const HASHED_TAIL = new RegExp(`_[0-9a-f]{${HASH_CHARS}}$`);

/**
 * Maps any identifier (a Benchling display id, a partner's run id) to the `name` half of a Quilt
 * package name, injectively: an id of letters, digits, `_` and `-` (at most 100 characters) is
 * kept as it is; any other id has each other character replaced by `_`, is cut to 100 characters,
 * and gets `_` plus the first 10 hex digits of the SHA-256 of the original (UTF-8) appended. An
 * id that already ends in `_` + 10 hex digits is treated as changed too, so a kept id never equals
 * a changed one; two changed ids meet only if their hashes do (40 bits). `EXP-1.a` and `EXP-1/a`
 * therefore name two packages, `EXP-1_a_<hash1>` and `EXP-1_a_<hash2>`.
 */
export function packageNamePart(id: string): string {
  if (NAME_PART.test(id) && id.length <= MAX_NAME_CHARS && !HASHED_TAIL.test(id)) return id;
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_CHARS);
  // Array.from walks code points, so a character beyond the BMP becomes one `_`, not two.
  const cleaned = Array.from(id, (c) => (/^[\w-]$/.test(c) ? c : '_'))
    .join('')
    .slice(0, MAX_NAME_CHARS);
  return `${cleaned}_${hash}`;
}

/**
 * `<namespace>/<name>` for an identifier under a namespace (a tenant's package prefix): the name
 * is `packageNamePart(id)`. The namespace must already be valid (`QuiltBadPackageName` otherwise);
 * it is configuration, checked at start-up.
 */
export function packageNameFor(namespace: string, id: string): string {
  const name = `${namespace}/${packageNamePart(id)}`;
  parsePackageName(name);
  return name;
}
