import { PermanentError } from '../errors.ts';

// Quilt's `^[\w-]+/[\w-]+$`. Python's `\w` would also admit non-ASCII letters; JS's ASCII-only `\w`
// is the stricter reading, so every name accepted here works in quilt3 and in the web catalog alike.
const PACKAGE_NAME = /^[\w-]+\/[\w-]+$/;

/** A package name split into the two parts the registry layout uses (`<namespace>/<name>`). */
export interface PackageName {
  namespace: string;
  name: string;
}

/** Checks `namespace/name` against Quilt's rule `^[\w-]+/[\w-]+$`; PermanentError `QuiltBadPackageName` otherwise. */
export function parsePackageName(packageName: string): PackageName {
  if (!PACKAGE_NAME.test(packageName)) {
    throw new PermanentError(`invalid Quilt package name ${JSON.stringify(packageName)}: expected namespace/name of letters, digits, _ or -`, {
      code: 'QuiltBadPackageName',
      details: { packageName },
    });
  }
  const [namespace, name] = packageName.split('/') as [string, string];
  return { namespace, name };
}
