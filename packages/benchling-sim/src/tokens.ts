import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Client credentials found in a token request: HTTP Basic first, else form fields. */
export function credentialsFrom(req: Request): { clientId: string; clientSecret: string } | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { clientId: body.client_id, clientSecret: body.client_secret };
  }
  return undefined;
}

export function bearerFrom(req: Request): string | undefined {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Issues opaque bearer tokens for one client and answers whether a token is still valid. */
export class TokenIssuer {
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(
    private readonly client: { clientId: string; clientSecret: string },
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  accepts(c: { clientId: string; clientSecret: string }): boolean {
    // Both compared (no short-circuit) so timing does not tell which one was wrong.
    const idOk = sameText(c.clientId, this.client.clientId);
    const secretOk = sameText(c.clientSecret, this.client.clientSecret);
    return idOk && secretOk;
  }

  issue(clientId: string): { access_token: string; token_type: 'Bearer'; expires_in: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { clientId, expiresAt: this.now() + this.ttlSeconds * 1000 });
    return { access_token: token, token_type: 'Bearer', expires_in: this.ttlSeconds };
  }

  /** The client a valid, unexpired token belongs to. */
  clientOf(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (t.expiresAt <= this.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return t.clientId;
  }

  /** Invalidates every issued token, as if all had expired (tests of refresh-on-401). */
  expireAll(): void {
    this.tokens.clear();
  }
}
