import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendError } from './benchling-errors.ts';
import type { SimContext } from './context.ts';
import { rateLimitHeaders } from './rate-limit.ts';
import { bearerFrom, credentialsFrom } from './tokens.ts';

/** Client id the request acts as (from its bearer token or, for `/token`, its credentials). */
export function clientOfRequest(ctx: SimContext, req: Request): string | undefined {
  return ctx.tokens.clientOf(bearerFrom(req)) ?? (req.path === '/token' ? credentialsFrom(req)?.clientId : undefined);
}

/**
 * Counts the request against its client's budget and sets the `x-rate-limit-*` headers on
 * every response; over budget → 429 with Benchling's body. Unidentified callers share one budget.
 */
export function rateLimitMiddleware(ctx: SimContext): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const clientId = clientOfRequest(ctx, req) ?? 'anonymous';
    res.locals.clientId = clientId;
    const verdict = ctx.limiter.take(clientId);
    res.set(rateLimitHeaders(verdict));
    if (verdict.allowed) return next();
    ctx.state.rateLimited++;
    sendError(res, 429, 'invalid_request_error', 'Rate limit exceeded.', {
      userMessage: `Rate limit exceeded. Try again in ${verdict.resetSeconds} seconds.`,
    });
  };
}

/** `POST /token`: client credentials (HTTP Basic or form fields) → bearer token. */
export function tokenHandler(ctx: SimContext): RequestHandler {
  return (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type === undefined) {
      sendError(res, 400, 'invalid_request', 'Missing grant_type parameter.');
      return;
    }
    if (body.grant_type !== 'client_credentials') {
      sendError(res, 400, 'unsupported_grant_type', `Unsupported grant_type ${String(body.grant_type)}.`);
      return;
    }
    const creds = credentialsFrom(req);
    if (!creds || !ctx.tokens.accepts(creds)) {
      res.set('www-authenticate', 'Basic realm="benchling"');
      sendError(res, 401, 'invalid_client', 'Invalid client credentials.');
      return;
    }
    ctx.state.tokensIssued++;
    res.set('cache-control', 'no-store');
    res.json(ctx.tokens.issue(creds.clientId));
  };
}

/** Every API route but `/token` needs a valid, unexpired bearer token. */
export function requireBearer(ctx: SimContext): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerFrom(req);
    if (ctx.tokens.clientOf(token)) return next();
    res.set('www-authenticate', 'Bearer');
    sendError(res, 401, 'invalid_request_error', token ? 'Invalid or expired access token.' : 'Missing Authorization: Bearer token.');
  };
}
