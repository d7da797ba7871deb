import { PermanentError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { BenchlingClient, type BenchlingRetryOptions } from './client.ts';
import type { BudgetRegistry } from './rate-limit.ts';
import type { TenantDirectory } from './tenants.ts';

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
  /**
   * The tenants we serve, each with its exact base URL. The baseURL arrives in webhooks, so it
   * decides where credentials go: a tenant not listed, or listed with another base URL, is refused.
   */
  tenants: TenantDirectory;
  /** HTTP implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds one HTTP request may take. Default 15000 (the client's). */
  requestTimeoutMs?: number;
  retry?: BenchlingRetryOptions;
}

/** One `BenchlingClient` per tenant for the whole process, created on first use. */
export class BenchlingClientPool {
  private readonly clients = new Map<string, { baseURL: string; client: BenchlingClient }>();

  constructor(private readonly opts: BenchlingClientPoolOptions) {}

  /**
   * The tenant's client. Throws `BenchlingTenantRejectedError` (permanent) for a tenant we do not
   * serve or a baseURL that is not exactly its own, before credentials are even looked up.
   */
  get(tenant: { tenantId: string; baseURL: string }): BenchlingClient {
    if (!tenant.tenantId) throw new PermanentError('tenantId is required', { code: 'BenchlingTenantMissing' });
    const { baseURL } = this.opts.tenants.check(tenant.tenantId, tenant.baseURL);
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
