import { PermanentError } from '../errors.ts';

/** Where an entry's bytes live. `versionId` is absent on unversioned buckets (and on the local emulator). */
export interface PhysicalKey {
  bucket: string;
  key: string;
  versionId?: string;
}

// Python's urllib.parse._ALWAYS_SAFE (3.7+): letters, digits and `_.-~`; everything else is %XX of its UTF-8 bytes.
const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Python's `urllib.parse.quote(s, safe)`: percent-encodes UTF-8 bytes, uppercase hex. */
export function pythonQuote(s: string, safe = '/'): string {
  if (LONE_SURROGATE.test(s)) throw new PermanentError('string is not valid Unicode (lone surrogate)', { code: 'QuiltBadPhysicalKey' });
  let out = '';
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || safe.includes(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Python's `quote_plus(s)` as `urlencode` applies it to values: spaces become `+`, `/` is encoded. */
function pythonQuotePlus(s: string): string {
  return pythonQuote(s, ' ').replaceAll(' ', '+');
}

/**
 * The manifest form of a physical key, as quilt3's `PhysicalKey.__str__` writes it:
 * `s3://bucket/<quote(key)>` plus `?versionId=<quote_plus(id)>` when versioned.
 */
export function physicalKeyUrl(pk: PhysicalKey): string {
  if (!pk.bucket || /[/?#]/.test(pk.bucket))
    throw new PermanentError(`bad bucket name ${JSON.stringify(pk.bucket)}`, { code: 'QuiltBadPhysicalKey' });
  // quilt3 would drop a leading slash when parsing such a URL back and point at another object.
  if (!pk.key || pk.key.startsWith('/')) throw new PermanentError(`bad S3 key ${JSON.stringify(pk.key)}`, { code: 'QuiltBadPhysicalKey' });
  const query = pk.versionId ? `?versionId=${pythonQuotePlus(pk.versionId)}` : '';
  return `s3://${pk.bucket}/${pythonQuote(pk.key)}${query}`;
}

/** Reads a manifest's `physical_keys[0]` back, as quilt3's `PhysicalKey.from_url` does: only `versionId` may be in the query. */
export function parsePhysicalKeyUrl(url: string): PhysicalKey {
  const bad = (why: string): PermanentError =>
    new PermanentError(`bad physical key ${JSON.stringify(url)}: ${why}`, { code: 'QuiltBadPhysicalKey' });
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) throw bad('not an s3:// URL');
  const [, bucket, path = '', query = ''] = m;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(1));
  } catch {
    throw bad('malformed percent-encoding');
  }
  if (!key) throw bad('no key');
  const params = new URLSearchParams(query);
  let versionId: string | undefined;
  for (const [name, value] of params) {
    if (name !== 'versionId') throw bad(`unexpected query parameter ${name}`);
    versionId = value || undefined;
  }
  return versionId === undefined ? { bucket: bucket!, key } : { bucket: bucket!, key, versionId };
}
