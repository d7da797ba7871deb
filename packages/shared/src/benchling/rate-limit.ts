export interface TenantBudgetOptions {
  /** Requests per window assumed until `x-rate-limit-limit` says otherwise. Default 60. */
  limit?: number;
  /** Window length in milliseconds until `x-rate-limit-reset` reveals the server's. Default 30000. */
  windowMs?: number;
  /** Largest random extra wait in milliseconds added when waiting for a reset, so waiters do not stampede. Default 250. */
  jitterMs?: number;
  /** Milliseconds to hold requests after a 429 that carried no `x-rate-limit-reset`. Default 1000. */
  defaultThrottleMs?: number;
  /** Current time in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Waits the given milliseconds. Default a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform random number in [0, 1), for jitter. Default `Math.random`. */
  random?: () => number;
}

/** The rate-limit facts a Benchling response carries; each is absent when its header is. */
export interface RateLimitHeaders {
  limit?: number;
  remaining?: number;
  /** Seconds until the current period ends. */
  resetSeconds?: number;
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function parseRateLimitHeaders(headers: Headers): RateLimitHeaders {
  const out: RateLimitHeaders = {};
  const limit = headerNumber(headers, 'x-rate-limit-limit');
  const remaining = headerNumber(headers, 'x-rate-limit-remaining');
  const resetSeconds = headerNumber(headers, 'x-rate-limit-reset');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (resetSeconds !== undefined) out.resetSeconds = resetSeconds;
  return out;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One tenant's request budget, shared by every concurrent job of a worker process.
 * - Once a response reported the server's window, we spend no more than its
 *   `x-rate-limit-remaining` (other processes spend the same budget) until its
 *   `x-rate-limit-reset` passes, then start a new window of `x-rate-limit-limit`, assumed to
 *   last as long as the longest reset seen until a response dates it.
 * - Before any report, a token bucket of `limit` refilled at limit/window paces us.
 * - A 429 or `remaining: 0` holds every caller until the reset, plus jitter.
 * Callers are served first come, first served.
 */
export class TenantBudget {
  private limit: number;
  private windowMs: number;
  private windowLearned = false;
  private tokens: number;
  private lastRefill: number;
  /** Epoch ms before which nothing is sent (server said the budget is spent). */
  private blockedUntil = 0;
  /** Epoch ms when the server's current window ends, when a response told us. */
  private windowEndsAt: number | undefined;
  /** Whether any response has reported `x-rate-limit-remaining` yet. */
  private serverReported = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly jitterMs: number;
  private readonly defaultThrottleMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(opts: TenantBudgetOptions = {}) {
    this.limit = opts.limit ?? 60;
    this.windowMs = opts.windowMs ?? 30_000;
    this.jitterMs = opts.jitterMs ?? 250;
    this.defaultThrottleMs = opts.defaultThrottleMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    if (!(this.limit > 0)) throw new RangeError(`TenantBudget limit must be > 0, got ${this.limit}`);
    if (!(this.windowMs > 0)) throw new RangeError(`TenantBudget windowMs must be > 0, got ${this.windowMs}`);
    this.tokens = this.limit;
    this.lastRefill = this.now();
  }

  /** Resolves when one request may be sent; call once per HTTP request, just before sending it. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Feeds the budget from a response (any status); a 429 or `remaining: 0` holds everyone until the reset. */
  recordResponse(status: number, headers: Headers): void {
    const h = parseRateLimitHeaders(headers);
    const now = this.now();
    this.refill(now);
    if (h.limit !== undefined && h.limit > 0) {
      this.limit = h.limit;
      this.tokens = Math.min(this.tokens, h.limit);
    }
    if (h.remaining !== undefined) {
      // The first report replaces the budget we assumed at start (a larger real one must not stall
      // us); after that, never believe more than the server said: other processes spend it too,
      // and a late response may carry an older, higher count.
      this.tokens = this.serverReported ? Math.min(this.tokens, h.remaining) : h.remaining;
      this.serverReported = true;
    }
    if (h.resetSeconds !== undefined) {
      this.windowEndsAt = now + h.resetSeconds * 1000;
      // The countdown is longest just after a window opens, so the longest one seen is the window.
      if (h.resetSeconds > 0) {
        this.windowMs = this.windowLearned ? Math.max(this.windowMs, h.resetSeconds * 1000) : h.resetSeconds * 1000;
        this.windowLearned = true;
      }
    }
    if (status === 429 || h.remaining === 0) {
      const holdMs = h.resetSeconds !== undefined ? h.resetSeconds * 1000 : status === 429 ? this.defaultThrottleMs : 0;
      this.blockedUntil = Math.max(this.blockedUntil, now + holdMs);
      this.tokens = 0;
    }
  }

  /** Current state, for logs and tests. */
  snapshot(): { limit: number; tokens: number; blockedUntil: number; windowEndsAt: number | undefined } {
    this.refill(this.now());
    return { limit: this.limit, tokens: this.tokens, blockedUntil: this.blockedUntil, windowEndsAt: this.windowEndsAt };
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.now();
      if (this.blockedUntil > now) {
        await this.sleep(this.blockedUntil - now + this.jitter());
        continue;
      }
      this.refill(now);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      // refill() rolled any window already past, so a known window end is still ahead.
      if (this.windowEndsAt !== undefined) await this.sleep(this.windowEndsAt - now + this.jitter());
      else await this.sleep(Math.ceil(((1 - this.tokens) * this.windowMs) / this.limit));
    }
  }

  private jitter(): number {
    return Math.round(this.random() * this.jitterMs);
  }

  private refill(now: number): void {
    if (this.windowEndsAt !== undefined) {
      // Within a reported window only `remaining` counts; a new window starts full. Its end is
      // a guess until a response dates it: a guess too early only costs a re-check.
      if (now >= this.windowEndsAt) {
        this.tokens = this.limit;
        this.windowEndsAt = now + this.windowMs;
      }
    } else {
      const elapsed = Math.max(0, now - this.lastRefill);
      this.tokens = Math.min(this.limit, this.tokens + (elapsed * this.limit) / this.windowMs);
    }
    this.lastRefill = now;
  }
}

/** One `TenantBudget` per tenant for the whole process, so all of a tenant's jobs share it. */
export class BudgetRegistry {
  private readonly budgets = new Map<string, TenantBudget>();

  /** @param options applied to every budget this registry creates. */
  constructor(private readonly options: TenantBudgetOptions = {}) {}

  forTenant(tenantId: string): TenantBudget {
    let budget = this.budgets.get(tenantId);
    if (!budget) {
      budget = new TenantBudget(this.options);
      this.budgets.set(tenantId, budget);
    }
    return budget;
  }
}
