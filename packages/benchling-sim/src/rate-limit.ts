/** The budget after counting one request, as the `x-rate-limit-*` headers report it. */
export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (at least 1 while a window is open). */
  resetSeconds: number;
}

/**
 * Benchling's documented budget: a fixed number of requests per window per client. A window
 * opens with the client's first request; requests over the budget are refused until it ends.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(clientId: string): RateLimitVerdict {
    const now = this.now();
    const windowMs = this.windowSeconds * 1000;
    let w = this.windows.get(clientId);
    if (!w || now - w.startedAt >= windowMs) {
      w = { startedAt: now, count: 0 };
      this.windows.set(clientId, w);
    }
    w.count++;
    return {
      allowed: w.count <= this.limit,
      limit: this.limit,
      remaining: Math.max(0, this.limit - w.count),
      resetSeconds: Math.max(1, Math.ceil((w.startedAt + windowMs - now) / 1000)),
    };
  }

  /** Forgets all windows (tests that need a fresh budget). */
  reset(): void {
    this.windows.clear();
  }
}

export function rateLimitHeaders(v: Pick<RateLimitVerdict, 'limit' | 'remaining' | 'resetSeconds'>): Record<string, string> {
  return {
    'x-rate-limit-limit': String(v.limit),
    'x-rate-limit-remaining': String(v.remaining),
    'x-rate-limit-reset': String(v.resetSeconds),
  };
}
