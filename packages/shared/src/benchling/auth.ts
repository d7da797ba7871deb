import { benchlingErrorFromFailure, benchlingErrorFromResponse, BenchlingUnauthorizedError, invalidResponseError } from './errors.ts';

export interface TokenProviderOptions {
  /** Tenant origin, e.g. `https://acme.benchling.com` (the `/api/v2` part is added here). */
  baseURL: string;
  /** OAuth client id of the Benchling app. */
  clientId: string;
  /** OAuth client secret of the Benchling app. Never logged. */
  clientSecret: string;
  /** HTTP implementation. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds a token request may take, body included. Default 15000. */
  requestTimeoutMs?: number;
  /** Current time in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Sees every token response's status and headers, e.g. to feed the tenant's rate budget. Default none. */
  onResponse?: (status: number, headers: Headers) => void;
}

/** How long before expiry a token is replaced, as Benchling's SDK does: 10 % of its lifetime, kept within 1–60 s. */
export function refreshMarginMs(expiresInSeconds: number): number {
  return Math.min(60, Math.max(1, expiresInSeconds * 0.1)) * 1000;
}

const TOKEN_PATH = '/token';

/**
 * Client-credentials tokens for one tenant. The token is cached until shortly before it expires,
 * and concurrent callers share one in-flight request so a burst of jobs costs one token call.
 */
export class TokenProvider {
  private readonly url: string;
  private readonly authorization: string;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly onResponse: ((status: number, headers: Headers) => void) | undefined;
  private cached: { token: string; refreshAt: number } | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(opts: TokenProviderOptions) {
    this.url = `${opts.baseURL.replace(/\/+$/, '')}/api/v2${TOKEN_PATH}`;
    this.authorization = `Basic ${Buffer.from(`${opts.clientId}:${opts.clientSecret}`, 'utf8').toString('base64')}`;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.now = opts.now ?? Date.now;
    this.onResponse = opts.onResponse;
  }

  /** A bearer token valid for at least the refresh margin; fetches one only when needed. */
  async getToken(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Drops the cached token after the API rejected it with 401. Passing the rejected token makes this
   * a no-op when another caller already replaced it, so N concurrent 401s cause one refresh.
   */
  invalidate(rejectedToken?: string): void {
    if (rejectedToken === undefined || this.cached?.token === rejectedToken) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const req = { method: 'POST', path: TOKEN_PATH };
    const startedAt = this.now();
    let status: number;
    let text: string;
    let headers: Headers;
    try {
      const res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = res.status;
      headers = res.headers;
      this.onResponse?.(status, headers);
      text = await res.text();
    } catch (err) {
      throw benchlingErrorFromFailure(req, err);
    }
    if (status < 200 || status > 299) {
      const err = benchlingErrorFromResponse(req, { status, headers }, text);
      // A 401 from /token means the client credentials are wrong: say so rather than "unauthorized".
      if (err instanceof BenchlingUnauthorizedError) {
        throw new BenchlingUnauthorizedError(err, {
          code: 'BenchlingUnauthorized',
          what: 'the token endpoint rejected the app client id/secret',
        });
      }
      throw err;
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw invalidResponseError(req, status, 'token response is not JSON');
    }
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw invalidResponseError(req, status, 'token response has no access_token');
    }
    // Benchling documents expires_in; without it, assume the documented 900 s.
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 900;
    this.cached = { token: body.access_token, refreshAt: startedAt + expiresIn * 1000 - refreshMarginMs(expiresIn) };
    return body.access_token;
  }
}
