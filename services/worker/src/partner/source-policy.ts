import { isIP } from 'node:net';
import { PermanentError } from '@bp/shared';
import type { PartnerPolicy } from '@bp/shared/partners/event';

/** Where a run file comes from, once its URL passed the partner's policy. */
export type FileSource = { kind: 'http'; url: string } | { kind: 's3'; bucket: string; key: string };

/**
 * Checks a file URL against the partner's policy before anything is fetched: http(s) URLs must
 * match one of the anchored `allowedUrlPatterns` and must not name a link-local or metadata
 * address; `s3://bucket/key` must fall under one of `allowedS3Prefixes`; every other scheme
 * (file:, ftp:, data:, …) is refused. The error names the file, never the URL's query (it may
 * hold a signature).
 */
export function checkSource(
  filePath: string,
  url: string,
  policy: Pick<PartnerPolicy, 'allowedUrlPatterns' | 'allowedS3Prefixes'>,
): FileSource {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw refused(filePath, 'its URL is not a valid URL');
  }
  if (u.protocol === 's3:') {
    const key = decodeURIComponent(u.pathname.replace(/^\//, ''));
    // `s3://bucket` alone allows the whole bucket; `s3://bucket/runs/` only keys under runs/.
    const allowed = policy.allowedS3Prefixes.some((p) => `s3://${u.host}/${key}`.startsWith(p.replace(/^(s3:\/\/[^/]+)$/, '$1/')));
    if (!u.host || !key || !allowed) throw refused(filePath, `s3://${u.host}/… is not under an allowed S3 prefix of the partner`);
    return { kind: 's3', bucket: u.host, key };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw refused(filePath, `scheme ${u.protocol} is not allowed (only http, https and allowed s3:// prefixes)`);
  if (u.username || u.password) throw refused(filePath, 'URLs with credentials are not allowed');
  const forbidden = forbiddenHost(u.hostname);
  if (forbidden) throw refused(filePath, forbidden);
  if (!matchesAllowed(url, policy.allowedUrlPatterns))
    throw refused(filePath, `${u.origin}${u.pathname} matches none of the partner's allowed URL patterns`);
  return { kind: 'http', url };
}

/** True when the URL matches one of the patterns, each anchored whether or not it says so. */
export function matchesAllowed(url: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    try {
      return new RegExp(`^(?:${p.replace(/^\^/, '').replace(/\$$/, '')})$`).test(url);
    } catch {
      return false;
    }
  });
}

/**
 * Why a host (name or literal address) may never be fetched from, or undefined. Link-local and
 * cloud metadata addresses (169.254.0.0/16 with 169.254.169.254, fe80::/10, fd00:ec2::254) are
 * refused whatever the patterns say: a pattern written too loosely must not open the metadata service.
 */
export function forbiddenHost(host: string): string | undefined {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'metadata.google.internal' || h === 'instance-data' || h === 'instance-data.ec2.internal')
    return `host ${h} is a metadata service`;
  return forbiddenAddress(h);
}

/** Why a literal IP address may never be fetched from, or undefined (names are checked after resolution). */
export function forbiddenAddress(address: string): string | undefined {
  const a = address.toLowerCase();
  const kind = isIP(a);
  if (kind === 4) {
    const [x, y] = a.split('.').map(Number);
    if (x === 169 && y === 254) return `address ${a} is link-local (cloud metadata)`;
    if (x === 0) return `address ${a} is not routable`;
    return undefined;
  }
  if (kind === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return forbiddenAddress(mapped[1]!);
    if (/^fe[89ab]/.test(a)) return `address ${a} is link-local`;
    if (a === 'fd00:ec2::254') return `address ${a} is the EC2 metadata service`;
    if (a === '::') return `address ${a} is not routable`;
  }
  return undefined;
}

function refused(filePath: string, why: string): PermanentError {
  return new PermanentError(`file ${JSON.stringify(filePath)} refused: ${why}`, {
    code: 'PartnerSourceRefused',
    details: { file: filePath },
  });
}

/** The same refusal, for a redirect or a resolved address found while fetching. */
export function refusedWhileFetching(filePath: string, why: string): PermanentError {
  return refused(filePath, why);
}
