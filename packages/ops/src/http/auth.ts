import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type AlbOidcVerifier, OidcTokenError } from './alb-oidc.ts';
import { matchToken, type OpsToken } from './bearer-tokens.ts';

/** Who made an ops call; the router logs it with every request. */
export interface OpsCaller {
  via: 'token' | 'oidc';
  name: string;
}

export interface OpsAuthOptions {
  /** Accepted bearer tokens (`parseOpsTokens(OPS_TOKENS)`). Default none. */
  tokens?: OpsToken[];
  /** Verifier of the load balancer's `x-amzn-oidc-data` header. Unset: the header is ignored. */
  oidc?: AlbOidcVerifier;
}

/** The caller of an authenticated request (set by `createOpsAuth`). */
export function callerOf(res: Response): OpsCaller | undefined {
  return res.locals.opsCaller as OpsCaller | undefined;
}

/** Why authentication failed, for the access log (the client only gets 401). */
export function authFailureOf(res: Response): string | undefined {
  return res.locals.opsAuthFailure as string | undefined;
}

/**
 * Accepts `Authorization: Bearer <token>` matching a configured token, or a valid ALB OIDC JWT in
 * `x-amzn-oidc-data`. A bearer header that does not match is refused even if an OIDC header is
 * also present. Anything else: 401 with `WWW-Authenticate: Bearer`.
 */
export function createOpsAuth(o: OpsAuthOptions): RequestHandler {
  const tokens = o.tokens ?? [];
  return async (req: Request, res: Response, next: NextFunction) => {
    const deny = (why: string) => {
      res.locals.opsAuthFailure = why;
      res.status(401).set('www-authenticate', 'Bearer realm="benchling-packager-ops"').json({ error: 'unauthorized' });
    };
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      if (!m) return deny('malformed Authorization header');
      const name = tokens.length > 0 ? matchToken(tokens, m[1]!) : undefined;
      if (!name) return deny('unknown bearer token');
      res.locals.opsCaller = { via: 'token', name } satisfies OpsCaller;
      return next();
    }
    const oidcHeader = req.headers['x-amzn-oidc-data'];
    if (typeof oidcHeader === 'string' && o.oidc) {
      try {
        const id = await o.oidc.verify(oidcHeader);
        res.locals.opsCaller = { via: 'oidc', name: id.name } satisfies OpsCaller;
        return next();
      } catch (err) {
        if (err instanceof OidcTokenError) return deny(`oidc: ${err.message}`);
        return next(err);
      }
    }
    return deny(oidcHeader === undefined ? 'no credentials' : 'OIDC header present but OIDC is not configured');
  };
}
