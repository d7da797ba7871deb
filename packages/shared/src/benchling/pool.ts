import { PermanentError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { BenchlingClient, type BenchlingRetryOptions } from './client.ts';
import type { BudgetRegistry } from './rate-limit.ts';

/** Only Benchling-hosted tenants: the baseURL arrives in webhooks, so it decides where credentials go. */
export const DEFAULT_BENCHLING_BASE_URL_PATTERN = /^https:\/\/[a-z0-9-]+\.benchling\.com$/;

export interface BenchlingCredentials {
  clientId: string;
  clientSecret: string;
}

/** Finds a tenant's app credentials; called once per tenant, then the client is cached. Must not be slow: pre-load secrets. */
export type BenchlingCredentialsResolver = (tenantId: string, baseURL: string) => BenchlingCredentials;

export interface BenchlingClientPoolOptions {
  /** Credentials for a tenant (e.g. from a secret loaded at start-up). */
  credentialsFor: BenchlingCredentialsResolver;
  /** The process-wide registry, so every client of a tenant spends the same budget. */
  budgets: BudgetRegistry;
  /** Parent logger; each client logs with `tenantId`. */
  logger: Logger;
  /** baseURLs (without trailing slash) we may send credentials to; any match allows. Default `[DEFAULT_BENCHLING_BASE_URL_PATTERN]`; local runs add e.g. `/^http:\/\/127\.0\.0\.1:\d+$/`. */
  allowedBaseUrls?: RegExp[];
  /** HTTP implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds one HTTP request may take. Default 15000 (the client's). */
  requestTimeoutMs?: number;
  retry?: BenchlingRetryOptions;
}

/** The webhook named a Benchling host we are not allowed to talk to. */
export class BenchlingBaseUrlRejectedError extends PermanentError {
  constructor(baseURL: string, tenantId: string) {
    super(`Refusing Benchling baseURL ${JSON.stringify(baseURL)} for tenant ${tenantId}: it does not match the allow-list`, {
      code: 'BenchlingBaseUrlRejected',
      details: { baseURL, tenantId },
    });
  }
}

/** One `BenchlingClient` per tenant for the whole process, created on first use. */
export class BenchlingClientPool {
  private readonly clients = new Map<string, { baseURL: string; client: BenchlingClient }>();
  private readonly allowed: RegExp[];

  constructor(private readonly opts: BenchlingClientPoolOptions) {
    // Drop g/y flags: they make RegExp.test stateful, so the same URL would pass only every other time.
    this.allowed = (opts.allowedBaseUrls ?? [DEFAULT_BENCHLING_BASE_URL_PATTERN]).map((re) => new RegExp(re.source, re.flags.replace(/[gy]/g, '')));
  }

  /**
   * The tenant's client. Throws `BenchlingBaseUrlRejectedError` (permanent) for a baseURL outside
   * the allow-list, before credentials are even looked up.
   */
  get(tenant: { tenantId: string; baseURL: string }): BenchlingClient {
    const baseURL = tenant.baseURL.replace(/\/$/, '');
    if (!tenant.tenantId) throw new PermanentError('tenantId is required', { code: 'BenchlingTenantMissing' });
    if (!this.allowed.some((re) => re.test(baseURL))) throw new BenchlingBaseUrlRejectedError(tenant.baseURL, tenant.tenantId);
    const known = this.clients.get(tenant.tenantId);
    // A tenant's baseURL is stable; if it ever changes, build a client for the new one.
    if (known && known.baseURL === baseURL) return known.client;
    const client = this.create(tenant.tenantId, baseURL);
    this.clients.set(tenant.tenantId, { baseURL, client });
    return client;
  }

  /** Drops a tenant's client, e.g. after its credentials were rotated. */
  forget(tenantId: string): void {
    this.clients.delete(tenantId);
  }

  private create(tenantId: string, baseURL: string): BenchlingClient {
    const creds = this.opts.credentialsFor(tenantId, baseURL);
    return new BenchlingClient({
      baseURL,
      clientId: creds.clientId,
      clientSecret: creds.clientSecret,
      budget: this.opts.budgets.forTenant(tenantId),
      logger: this.opts.logger.child({ tenantId }),
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      ...(this.opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.opts.requestTimeoutMs } : {}),
      ...(this.opts.retry ? { retry: this.opts.retry } : {}),
    });
  }
}
