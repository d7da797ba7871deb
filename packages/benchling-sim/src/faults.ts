import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ConfigError } from '@bp/shared/errors';
import { errorBody } from './benchling-errors.ts';
import { FastPrng, seedFrom } from './prng.ts';
import { rateLimitHeaders } from './rate-limit.ts';

/**
 * A fault rule: requests it matches get a wrong answer instead of the real one. Give a
 * `status`, a `delayMs`, `closeSocket`, or a combination (delay first, then status or close).
 */
export interface FaultSpec {
  /** Regular expression source tested against the request path, e.g. `^/api/v2/exports`. Default: every path. */
  path?: string;
  /** HTTP method to match, case-insensitive. Default: any method. */
  method?: string;
  /** Status to answer with (429, 500, 503…), with a Benchling error body. Default: none (answer normally after any delay). */
  status?: number;
  /** Hold the request this long before acting; long enough, it is a client timeout. Milliseconds, default 0. */
  delayMs?: number;
  /** Destroy the connection without answering. Default false. */
  closeSocket?: boolean;
  /** Chance a matching request is affected, 0 to 1. Default 1 (deterministic). */
  probability?: number;
  /** Rule expires this long after it is added. Milliseconds, default: never. */
  forMs?: number;
  /** Rule expires after affecting this many requests. Default: unlimited. */
  count?: number;
  /** `x-rate-limit-reset` sent with an injected 429. Seconds, default 1. */
  resetSeconds?: number;
  /** Seed of the coin flipped when `probability` < 1. Default: derived from the rule id. */
  seed?: number;
}

export interface ActiveFault extends FaultSpec {
  id: string;
  /** Epoch ms when the rule was added. */
  addedAt: number;
  /** Requests the rule has affected so far. */
  hits: number;
}

/** Paths faults never touch, so a test can always lift them. */
const CONTROL_PATH = /^\/_sim\/faults/;

/** Holds fault rules and decides, per request, which one (if any) applies. */
export class FaultController {
  private rules: (ActiveFault & { re: RegExp | undefined; coin: FastPrng })[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds a rule; the newest matching rule wins. Throws `ConfigError` naming a bad field. */
  add(spec: FaultSpec): ActiveFault {
    validate(spec);
    const id = randomUUID();
    const rule = {
      ...spec,
      id,
      addedAt: this.now(),
      hits: 0,
      re: spec.path === undefined ? undefined : new RegExp(spec.path),
      coin: new FastPrng(spec.seed ?? seedFrom(id)),
    };
    this.rules.push(rule);
    return publicView(rule);
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules still in force. */
  list(): ActiveFault[] {
    this.expire();
    return this.rules.map(publicView);
  }

  /** The rule that affects this request, counting the hit; undefined if none does. */
  take(method: string, path: string): ActiveFault | undefined {
    if (CONTROL_PATH.test(path)) return undefined;
    this.expire();
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i]!;
      if (r.method !== undefined && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.re && !r.re.test(path)) continue;
      if ((r.probability ?? 1) < 1 && r.coin.next() >= (r.probability ?? 1)) continue;
      r.hits++;
      return publicView(r);
    }
    return undefined;
  }

  private expire(): void {
    const now = this.now();
    this.rules = this.rules.filter(
      (r) => (r.forMs === undefined || now - r.addedAt < r.forMs) && (r.count === undefined || r.hits < r.count),
    );
  }
}

function publicView(r: ActiveFault & { re?: RegExp; coin?: FastPrng }): ActiveFault {
  const { re: _re, coin: _coin, ...rest } = r;
  return { ...rest };
}

function validate(s: FaultSpec): void {
  const bad = (field: string, why: string) => new ConfigError(`fault ${field} ${why}`);
  if (s.status === undefined && s.delayMs === undefined && !s.closeSocket) throw bad('spec', 'needs status, delayMs or closeSocket');
  if (s.status !== undefined && (!Number.isInteger(s.status) || s.status < 400 || s.status > 599))
    throw bad('status', 'must be an HTTP error status (400-599)');
  if (s.delayMs !== undefined && !(Number.isInteger(s.delayMs) && s.delayMs >= 0)) throw bad('delayMs', 'must be a non-negative integer');
  if (s.probability !== undefined && !(s.probability >= 0 && s.probability <= 1)) throw bad('probability', 'must be between 0 and 1');
  if (s.forMs !== undefined && !(s.forMs > 0)) throw bad('forMs', 'must be positive');
  if (s.count !== undefined && !(Number.isInteger(s.count) && s.count > 0)) throw bad('count', 'must be a positive integer');
  if (s.path !== undefined) {
    try {
      new RegExp(s.path);
    } catch {
      throw bad('path', `is not a valid regular expression: ${s.path}`);
    }
  }
}

/**
 * Express middleware applying the fault rules. `pending` tracks held requests so the
 * simulator can release them on close.
 */
export function faultMiddleware(
  faults: FaultController,
  ctx: { rateLimit: number; onInjected: () => void; pending: Set<NodeJS.Timeout> },
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const fault = faults.take(req.method, req.path);
    if (!fault) return next();
    ctx.onInjected();
    const act = () => {
      if (res.headersSent || req.socket.destroyed) return;
      if (fault.closeSocket) {
        req.socket.destroy();
        return;
      }
      if (fault.status === undefined) return next();
      if (fault.status === 429) {
        res.set(rateLimitHeaders({ limit: ctx.rateLimit, remaining: 0, resetSeconds: fault.resetSeconds ?? 1 }));
        res.status(429).json(errorBody('invalid_request_error', 'Rate limit exceeded.'));
        return;
      }
      const type = fault.status >= 500 ? 'server_error' : 'invalid_request_error';
      res.status(fault.status).json(errorBody(type, `Injected fault: HTTP ${fault.status}`));
    };
    if (!fault.delayMs) return act();
    const timer = setTimeout(() => {
      ctx.pending.delete(timer);
      act();
    }, fault.delayMs);
    ctx.pending.add(timer);
  };
}
