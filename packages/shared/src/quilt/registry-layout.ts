import { PermanentError } from '../errors.ts';
import { parsePackageName } from './package-name.ts';

/**
 * Where a Quilt registry keeps things inside its bucket:
 * `.quilt/packages/<tophash>` (manifests) and `.quilt/named_packages/<ns>/<name>/{<unix-seconds>,latest}` (pointers).
 */
const TOP_HASH = /^[0-9a-f]{64}$/;

export function isTopHash(s: string): boolean {
  return TOP_HASH.test(s);
}

export function manifestKey(topHash: string): string {
  if (!isTopHash(topHash)) throw new PermanentError(`not a top hash: ${JSON.stringify(topHash)}`, { code: 'QuiltBadTopHash' });
  return `.quilt/packages/${topHash}`;
}

/** Prefix of all revision pointers of one package (ends with `/`). */
export function namedPackagePrefix(packageName: string): string {
  const { namespace, name } = parsePackageName(packageName);
  return `.quilt/named_packages/${namespace}/${name}/`;
}

export function latestPointerKey(packageName: string): string {
  return `${namedPackagePrefix(packageName)}latest`;
}

/** The per-revision pointer, named by whole Unix seconds. */
export function timestampPointerKey(packageName: string, unixSeconds: number): string {
  if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0)
    throw new PermanentError(`bad pointer time ${unixSeconds}`, { code: 'QuiltBadPointer' });
  return `${namedPackagePrefix(packageName)}${unixSeconds}`;
}
