import { type Request, type RequestHandler, type Response, Router } from 'express';
import { ipKeyGenerator, type Options, rateLimit } from 'express-rate-limit';
import { callerOf, createOpsAuth, type OpsAuthOptions } from './auth.ts';

/**
 * One guard for everything operators reach (/ops, /metrics, readiness details), so a limit spent
 * on one is spent on all:
 * 1. per client IP, requests that end 401 (or are refused for the limit): tokens cannot be guessed
 *    quickly, on /metrics any more than on /ops;
 * 2. authentication (bearer token or load-balancer OIDC);
 * 3. per caller (token name or OIDC user): reads and mutating calls, each with its own budget.
 * Every 429 carries `Retry-After` and the `RateLimit` headers (express-rate-limit, draft 8).
 * The client IP is `req.ip`: set Express `trust proxy` to the proxy hops in front (TRUST_PROXY),
 * or a client could name any address in X-Forwarded-For.
 */
export interface OpsGuardOptions extends OpsAuthOptions {
  /** Refused (401) requests per client IP per minute before further ones get 429. Default 120. */
  failuresPerMinutePerIp?: number;
  /** GET/HEAD calls per caller per minute. Default 300. */
  readsPerMinute?: number;
  /** Other (mutating) calls per caller per minute. Default 10. */
  mutationsPerMinute?: number;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createOpsGuard(o: OpsGuardOptions): RequestHandler {
  const common: Partial<Options> = {
    windowMs: 60_000,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A client that reaches us directly may send X-Forwarded-For; with TRUST_PROXY=0 we ignore it on purpose.
    validate: { xForwardedForHeader: false },
    handler: (req: Request, res: Response) => {
      res.locals.opsAuthFailure ??= 'rate limited';
      const resetAt = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime?.getTime();
      const retryAfterSeconds = resetAt ? Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) : 60;
      res.status(429).json({ error: 'rate_limited', retryAfterSeconds });
    },
  };
  const failuresPerIp = rateLimit({
    ...common,
    limit: o.failuresPerMinutePerIp ?? 120,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown'),
    // Only refused requests spend this budget; an operator's own calls are limited per caller below.
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401 && res.statusCode !== 429,
  });
  const perCaller = (limit: number, applies: (req: Request) => boolean) =>
    rateLimit({
      ...common,
      limit,
      skip: (req) => !applies(req),
      keyGenerator: (_req, res) => {
        const c = callerOf(res);
        return `${c?.via ?? 'none'}:${c?.name ?? 'unknown'}`;
      },
    });
  const guard = Router();
  guard.use(
    failuresPerIp,
    createOpsAuth(o),
    perCaller(o.readsPerMinute ?? 300, (req) => READ_METHODS.has(req.method)),
    perCaller(o.mutationsPerMinute ?? 10, (req) => !READ_METHODS.has(req.method)),
  );
  return guard;
}
