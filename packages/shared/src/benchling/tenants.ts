import { ConfigError, PermanentError } from '../errors.ts';
import { isPackageNamePart } from '../quilt/package-name.ts';

/** One Benchling tenant a deployment serves: where its API is, and the namespace of its packages. */
export interface TenantConfig {
  tenantId: string;
  /** Exact origin, e.g. `https://acme.benchling.com` (no path, no trailing slash). */
  baseURL: string;
  /** Quilt namespace of its packages: `<packagePrefix>/<displayId>`. */
  packagePrefix: string;
}

const TENANT_ID = /^[\w-]{1,128}$/;
/** Characters of a regular expression: base URLs are given exactly, never as patterns. */
const PATTERN_CHARS = /[\^$*+?()[\]{}|\\]/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The exact origin a base URL names, or undefined when it is not one: https only (plain http only
 * for a loopback address, the local simulator), no credentials, path, query or fragment. A
 * trailing slash is allowed. `https://acme.benchling.com.evil.example` is an origin, just not
 * `https://acme.benchling.com`: callers compare origins for equality.
 */
export function baseUrlOrigin(raw: string): string | undefined {
  if (PATTERN_CHARS.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  // `new URL` also accepts `https:acme.benchling.com` and `https:\\acme…`: insist on the written form.
  if (!/^https?:\/\/[^/]+\/?$/i.test(raw)) return undefined;
  return url.origin;
}

/**
 * Parses `BENCHLING_TENANTS`: comma-separated `tenantId=baseURL` or `tenantId=baseURL=packagePrefix`.
 * The first tenant's prefix defaults to `defaultPrefix` (PACKAGE_PREFIX); every further tenant must
 * name its own. Refuses (ConfigError naming `variable`) an empty list, a pattern or anything but an
 * exact origin as base URL, a prefix that is not a Quilt namespace, and two tenants sharing an id,
 * a base URL or a prefix: one tenant's packages must never be another's.
 */
export function parseTenants(spec: string, defaultPrefix: string, variable = 'BENCHLING_TENANTS'): TenantConfig[] {
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(`${variable} names no tenant: expected tenantId=baseURL[=packagePrefix],…`);
  const tenants: TenantConfig[] = [];
  items.forEach((item, i) => {
    const parts = item.split('=').map((s) => s.trim());
    if (parts.length < 2 || parts.length > 3)
      throw new ConfigError(`${variable}: ${JSON.stringify(item)} is not tenantId=baseURL or tenantId=baseURL=packagePrefix`);
    const [tenantId, rawUrl, rawPrefix] = parts as [string, string, string | undefined];
    if (!TENANT_ID.test(tenantId))
      throw new ConfigError(`${variable}: tenant id ${JSON.stringify(tenantId)} must be letters, digits, _ or -`);
    const baseURL = baseUrlOrigin(rawUrl);
    if (!baseURL) {
      throw new ConfigError(
        `${variable}: base URL ${JSON.stringify(rawUrl)} of tenant ${tenantId} must be an exact ` +
          `https origin such as https://acme.benchling.com (no pattern, path or query)`,
      );
    }
    const packagePrefix = rawPrefix ?? (i === 0 ? defaultPrefix : undefined);
    if (packagePrefix === undefined || packagePrefix === '') {
      throw new ConfigError(
        `${variable}: tenant ${tenantId} must name its own package prefix ` +
          `(tenantId=baseURL=packagePrefix); only the first tenant uses PACKAGE_PREFIX`,
      );
    }
    if (!isPackageNamePart(packagePrefix))
      throw new ConfigError(
        `${variable}: package prefix ${JSON.stringify(packagePrefix)} of tenant ` +
          `${tenantId} must be letters, digits, _ or - (a Quilt namespace)`,
      );
    for (const other of tenants) {
      if (other.tenantId === tenantId) throw new ConfigError(`${variable}: tenant ${tenantId} is listed twice`);
      if (other.baseURL === baseURL)
        throw new ConfigError(`${variable}: tenants ${other.tenantId} and ${tenantId} share the base URL ${baseURL}`);
      if (other.packagePrefix === packagePrefix) {
        throw new ConfigError(
          `${variable}: tenants ${other.tenantId} and ${tenantId} would share the ` +
            `package prefix ${JSON.stringify(packagePrefix)}; give each its own`,
        );
      }
    }
    tenants.push({ tenantId, baseURL, packagePrefix });
  });
  return tenants;
}

/** A webhook named a tenant this deployment does not serve, or a base URL that is not its tenant's. */
export class BenchlingTenantRejectedError extends PermanentError {
  constructor(tenantId: string, baseURL: string, why: string) {
    super(`Refusing tenant ${JSON.stringify(tenantId)} at ${JSON.stringify(baseURL)}: ${why}; no credentials were sent`, {
      code: 'BenchlingTenantRejected',
      details: { tenantId, baseURL },
    });
  }
}

/** The tenants a deployment serves, looked up by id; the one check before any credential leaves. */
export class TenantDirectory {
  private readonly byId: Map<string, TenantConfig>;

  constructor(readonly tenants: readonly TenantConfig[]) {
    this.byId = new Map(tenants.map((t) => [t.tenantId, t]));
  }

  /** The configured tenant a job names; BenchlingTenantRejectedError unless id and base URL both match exactly. */
  check(tenantId: string, baseURL: string): TenantConfig {
    const tenant = this.byId.get(tenantId);
    if (!tenant)
      throw new BenchlingTenantRejectedError(tenantId, baseURL, 'this deployment does not serve that tenant (BENCHLING_TENANTS)');
    if (baseUrlOrigin(baseURL) !== tenant.baseURL) {
      throw new BenchlingTenantRejectedError(tenantId, baseURL, `the tenant's base URL is ${tenant.baseURL}`);
    }
    return tenant;
  }
}
