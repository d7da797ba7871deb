import { decodeProtectedHeader, importSPKI, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import { ConfigError } from '@bp/shared';

/**
 * Verifies the `x-amzn-oidc-data` header an Application Load Balancer adds after OIDC login:
 * an ES256 JWT whose public key (PEM) the ALB publishes at
 * `https://public-keys.auth.elb.{region}.amazonaws.com/{kid}`. Keys are cached by kid (a key
 * never changes under the same kid); a failed fetch is cached too, for `failureCacheMs`, and at
 * most `newKidsPerMinute` kids never seen before are fetched a minute, so tokens with made-up
 * kids cannot make the ingress fetch on their behalf.
 */
export interface AlbOidcOptions {
  /** Key URL with `{kid}` (and optionally `{region}`) placeholders. Default the ALB's public-keys URL. */
  keyUrl?: string;
  /** AWS region that fills `{region}`. Default `us-east-1`. */
  region?: string;
  /** ARN of the load balancer expected in the token header's `signer`; unset accepts any signer. */
  expectedSigner?: string;
  /** Expected `iss` claim (the IdP); unset accepts any issuer. */
  issuer?: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf`. Default 30. */
  clockToleranceSeconds?: number;
  /** Milliseconds a key fetch may take. Default 2000. */
  fetchTimeoutMs?: number;
  /** HTTP implementation. Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Milliseconds a failed key fetch is remembered (and not retried). Default 300_000. */
  failureCacheMs?: number;
  /** Key ids not seen before that may be fetched per minute. Default 10. */
  newKidsPerMinute?: number;
  /** Epoch-millisecond clock. Default Date.now. */
  now?: () => number;
}

export const DEFAULT_ALB_KEY_URL = 'https://public-keys.auth.elb.{region}.amazonaws.com/{kid}';

/** Why a token was refused (logged; the client only sees 401). */
export class OidcTokenError extends Error {}

export interface OidcIdentity {
  /** `email` claim when present, else `sub`. */
  name: string;
  claims: JWTPayload;
}

type Key = Awaited<ReturnType<typeof importSPKI>>;

export class AlbOidcVerifier {
  private readonly keys = new Map<string, { key: Promise<Key>; failedAt?: number }>();
  private readonly keyUrl: string;
  /** Epoch ms of the fetches of new kids in the last minute. */
  private newKidFetches: number[] = [];

  constructor(private readonly o: AlbOidcOptions = {}) {
    this.keyUrl = (o.keyUrl ?? DEFAULT_ALB_KEY_URL).replace('{region}', encodeURIComponent(o.region ?? 'us-east-1'));
    if (!this.keyUrl.includes('{kid}')) throw new ConfigError(`OPS_OIDC_KEY_URL must contain {kid}, got ${this.keyUrl}`);
  }

  async verify(token: string): Promise<OidcIdentity> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new OidcTokenError('not a JWT');
    }
    if (header.alg !== 'ES256') throw new OidcTokenError(`alg ${String(header.alg)} is not ES256`);
    const kid = header.kid;
    // The kid goes into a URL: only the characters ALB key ids use.
    if (typeof kid !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(kid)) throw new OidcTokenError('missing or malformed kid');
    if (this.o.expectedSigner && (header as { signer?: unknown }).signer !== this.o.expectedSigner)
      throw new OidcTokenError('signer is not the expected load balancer');
    const key = await this.key(kid);
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['ES256'],
        clockTolerance: this.o.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
        ...(this.o.issuer ? { issuer: this.o.issuer } : {}),
      });
      const name = typeof payload.email === 'string' ? payload.email : (payload.sub ?? 'unknown');
      return { name, claims: payload };
    } catch (err) {
      throw new OidcTokenError(`token rejected: ${(err as { code?: string }).code ?? (err as Error).message}`);
    }
  }

  private key(kid: string): Promise<Key> {
    const now = (this.o.now ?? Date.now)();
    const cached = this.keys.get(kid);
    if (cached && (cached.failedAt === undefined || now - cached.failedAt < (this.o.failureCacheMs ?? 300_000))) return cached.key;
    this.newKidFetches = this.newKidFetches.filter((t) => now - t < 60_000);
    if (this.newKidFetches.length >= (this.o.newKidsPerMinute ?? 10)) {
      return Promise.reject(
        new OidcTokenError(`more than ${this.o.newKidsPerMinute ?? 10} new key ids this minute; key ${kid} not fetched`),
      );
    }
    this.newKidFetches.push(now);
    const entry: { key: Promise<Key>; failedAt?: number } = { key: this.fetchKey(kid) };
    entry.key.catch(() => {
      entry.failedAt = (this.o.now ?? Date.now)();
    });
    this.keys.set(kid, entry);
    return entry.key;
  }

  private async fetchKey(kid: string): Promise<Key> {
    const url = this.keyUrl.replace('{kid}', encodeURIComponent(kid));
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(url, { signal: AbortSignal.timeout(this.o.fetchTimeoutMs ?? 2000) });
    } catch (err) {
      throw new OidcTokenError(`could not fetch key ${kid}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new OidcTokenError(`key ${kid}: HTTP ${res.status} from the key endpoint`);
    try {
      return await importSPKI((await res.text()).trim(), 'ES256');
    } catch {
      throw new OidcTokenError(`key ${kid} is not an ES256 public key in PEM`);
    }
  }
}
