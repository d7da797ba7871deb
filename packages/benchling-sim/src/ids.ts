import { randomBytes } from 'node:crypto';

/** A Benchling-looking id: `prefix_` and 10 letters/digits, e.g. `cnvs_Q4mPJ34a9x`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10)}`;
}
