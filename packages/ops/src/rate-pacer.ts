import { OpsUsageError } from './errors.ts';

/**
 * A token bucket for "at most N per second": tokens refill continuously up to a small burst
 * (one second's worth, 1–10), so a replay never holds more received messages than it can move
 * at once — a killed run leaves nothing hidden that it was about to move.
 */
export class RatePacer {
  private tokens: number;
  private last: number;
  readonly capacity: number;

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0))
      throw new OpsUsageError(`rate must be a positive number per second, got ${ratePerSecond}`);
    this.capacity = Math.max(1, Math.min(10, Math.floor(ratePerSecond)));
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /** Whole tokens available now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Waits until one token is available; false if `signal` aborted first. Does not take it. */
  async waitForToken(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      this.refill();
      if (this.tokens >= 1) return true;
      const ms = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      await sleep(ms, signal);
    }
  }

  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }
}

/** Parses `5`, `5/s`, `300/m` into messages per second. */
export function parseRate(text: string | number): number {
  if (typeof text === 'number') return new RatePacer(text).ratePerSecond;
  const m = /^(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?$/i.exec(text.trim());
  if (!m) throw new OpsUsageError(`rate must look like 5/s or 300/m, got "${text}"`);
  const per = { s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h'];
  return new RatePacer(Number(m[1]) / per).ratePerSecond;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
