import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, TransientError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Benchling's webhook signing keys, cached. Uncached JWKS fetches took 10–40 s inside a VPC in a
 * previous integration and blew the 3-second ack budget, so requests only ever read the cache:
 * - `warm()` fetches at start-up and starts a background refresh every `refreshIntervalMs`
 *   (retrying sooner after a failure); a failed fetch keeps the previous keys.
 * - A signature that verifies against no cached key (Benchling rotated) may trigger one
 *   on-demand refresh, and a request waits for it at most `requestWaitMs`. The gap before the
 *   next one starts at `firstOnDemandGapMs` and doubles each time a refresh finds the keys
 *   unchanged, up to `minOnDemandGapMs`: one bad signature no longer blocks the pick-up of a
 *   rotated key for 30 s, while a stream of forgeries still cannot turn the ingress into a JWKS
 *   flooder (it settles at one fetch per `minOnDemandGapMs`). New keys, or a quiet
 *   `minOnDemandGapMs`, bring the gap back to its start.
 */

/** A public key to verify with; `kid` only for logs. */
export interface VerificationKey {
  kid: string;
  key: KeyObject;
}

export interface JwksCacheOptions {
  /** JWKS URL, e.g. `https://apps.benchling.com/api/v1/apps/{appDefinitionId}/jwks`. Required. */
  url: string;
  /** Milliseconds one JWKS fetch may take before it is aborted. Default 2000. */
  fetchTimeoutMs?: number;
  /** Milliseconds between background refreshes. Default 3_600_000 (1 h; Benchling asks for at least every 6 h). */
  refreshIntervalMs?: number;
  /** Milliseconds before the background loop retries after a failed fetch. Default 30_000. */
  retryIntervalMs?: number;
  /** Longest gap between refreshes triggered by unknown signatures, milliseconds. Default 30_000. */
  minOnDemandGapMs?: number;
  /** Gap after an on-demand refresh while nothing suggests a flood, milliseconds. Default 1000 (capped at minOnDemandGapMs). */
  firstOnDemandGapMs?: number;
  /** Milliseconds a request waits for an on-demand refresh before answering from the cache. Default 500. */
  requestWaitMs?: number;
  /** Largest JWKS response accepted, bytes. Default 65_536. */
  maxResponseBytes?: number;
  /** Epoch-millisecond clock. Default `Date.now`. */
  now?: () => number;
  /** HTTP client. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Where refreshes and failures are logged. Default: not logged. */
  logger?: Logger;
}

/** What `/health/ready` and operators see. */
export interface JwksStatus {
  url: string;
  keyCount: number;
  kids: string[];
  /** Epoch ms of the last successful fetch. */
  lastSuccessAt?: number;
  /** Message of the last failed fetch, cleared by a success. */
  lastError?: string;
}

type RefreshTrigger = 'warm' | 'background' | 'unknown_signature';

/** A JWK from Benchling's JWKS as a verification key, or undefined when it is not an EC P-256 public key. */
export function keyFromJwk(jwk: unknown): VerificationKey | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const j = jwk as Record<string, unknown>;
  if (j.kty !== 'EC' || j.crv !== 'P-256' || typeof j.x !== 'string' || typeof j.y !== 'string') return undefined;
  try {
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: j.x, y: j.y }, format: 'jwk' });
    return { kid: typeof j.kid === 'string' ? j.kid : '(no kid)', key };
  } catch {
    return undefined;
  }
}

export class JwksCache {
  private readonly url: string;
  private readonly fetchTimeoutMs: number;
  private readonly refreshIntervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly minOnDemandGapMs: number;
  private readonly firstOnDemandGapMs: number;
  private readonly requestWaitMs: number;
  private readonly maxResponseBytes: number;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly logger: Logger | undefined;

  private current: readonly VerificationKey[] = [];
  private inFlight: Promise<boolean> | undefined;
  private lastOnDemandAt = Number.NEGATIVE_INFINITY;
  /** On-demand refreshes in a row that found the key set unchanged; the gap doubles with each after the first. */
  private fruitlessRefreshes = 0;
  /** Bumped whenever a fetch brings a different key set. */
  private keySetVersion = 0;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(opts: JwksCacheOptions) {
    try {
      new URL(opts.url);
    } catch {
      throw new ConfigError(`JwksCache url must be an absolute URL, got "${opts.url}"`);
    }
    const positive = (name: keyof JwksCacheOptions, v: number | undefined, dflt: number, min = 1): number => {
      const n = v ?? dflt;
      if (!Number.isFinite(n) || n < min) throw new ConfigError(`JwksCache ${name} must be a number >= ${min}, got ${v}`);
      return n;
    };
    this.url = opts.url;
    this.fetchTimeoutMs = positive('fetchTimeoutMs', opts.fetchTimeoutMs, 2000);
    this.refreshIntervalMs = positive('refreshIntervalMs', opts.refreshIntervalMs, 3_600_000);
    this.retryIntervalMs = positive('retryIntervalMs', opts.retryIntervalMs, 30_000);
    this.minOnDemandGapMs = positive('minOnDemandGapMs', opts.minOnDemandGapMs, 30_000, 0);
    this.firstOnDemandGapMs = Math.min(positive('firstOnDemandGapMs', opts.firstOnDemandGapMs, 1000, 0), this.minOnDemandGapMs);
    this.requestWaitMs = positive('requestWaitMs', opts.requestWaitMs, 500);
    this.maxResponseBytes = positive('maxResponseBytes', opts.maxResponseBytes, 65_536);
    this.now = opts.now ?? Date.now;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.logger = opts.logger;
  }

  /** The keys to verify with right now; never waits. */
  keys(): readonly VerificationKey[] {
    return this.current;
  }

  status(): JwksStatus {
    return {
      url: this.url,
      keyCount: this.current.length,
      kids: this.current.map((k) => k.kid),
      ...(this.lastSuccessAt !== undefined ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Fetches the keys now and starts the background refresh loop. Throws TransientError when the
   * fetch fails; the loop keeps retrying every `retryIntervalMs` either way.
   */
  async warm(): Promise<void> {
    this.stopped = false;
    const ok = await this.refresh('warm');
    this.schedule(ok ? this.refreshIntervalMs : this.retryIntervalMs);
    if (!ok) throw new TransientError(`JWKS fetch from ${this.url} failed: ${this.lastError}`, { code: 'JwksUnavailable' });
  }

  /** Stops the background loop (an in-flight fetch still completes). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Called when a signature verified against no cached key. Refreshes when the current gap since
   * the last on-demand refresh has passed (joining a refresh already under way) and waits at most
   * `requestWaitMs`. Resolves true when fresh keys arrived in time, so verifying again is worth it.
   */
  async refreshForUnknownSignature(): Promise<boolean> {
    let refreshed = this.inFlight;
    if (!refreshed) {
      const since = this.now() - this.lastOnDemandAt;
      const gap = this.onDemandGapMs();
      if (since < gap) return false;
      if (since >= this.minOnDemandGapMs + gap) this.fruitlessRefreshes = 0; // quiet for a while
      this.lastOnDemandAt = this.now();
      const before = this.keySetVersion;
      refreshed = this.refresh('unknown_signature');
      void refreshed.then(() => {
        // Nothing new: whoever keeps sending unknown signatures waits twice as long next time.
        this.fruitlessRefreshes = this.keySetVersion !== before ? 0 : this.fruitlessRefreshes + 1;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.requestWaitMs);
    });
    try {
      return await Promise.race([refreshed, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Milliseconds that must pass after the last on-demand refresh before the next one. */
  private onDemandGapMs(): number {
    const doublings = Math.min(Math.max(0, this.fruitlessRefreshes - 1), 30);
    return Math.min(this.firstOnDemandGapMs * 2 ** doublings, this.minOnDemandGapMs);
  }

  /** One fetch at a time: concurrent callers share it. Resolves false (keeping the old keys) on failure. */
  refresh(trigger: RefreshTrigger): Promise<boolean> {
    this.inFlight ??= this.fetchKeys(trigger).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.refresh('background').then((ok) => this.schedule(ok ? this.refreshIntervalMs : this.retryIntervalMs));
    }, delayMs);
    this.timer.unref(); // never keep a stopping process alive for a refresh
  }

  private async fetchKeys(trigger: RefreshTrigger): Promise<boolean> {
    const started = this.now();
    try {
      const res = await this.fetchImpl(this.url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.fetchTimeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (Buffer.byteLength(text) > this.maxResponseBytes) throw new Error(`response is larger than ${this.maxResponseBytes} bytes`);
      const body = JSON.parse(text) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('response has no "keys" array');
      const keys = body.keys.map(keyFromJwk).filter((k): k is VerificationKey => k !== undefined);
      if (keys.length === 0) throw new Error('response has no usable EC P-256 key');
      const before = this.current.map((k) => k.kid).join(',');
      this.current = keys;
      this.lastSuccessAt = this.now();
      this.lastError = undefined;
      const kids = keys.map((k) => k.kid);
      const changed = before !== kids.join(',');
      if (changed) this.keySetVersion++;
      this.logger?.log(changed ? 'info' : 'debug', 'jwks refreshed', { trigger, kids, changed, ms: this.now() - started });
      return true;
    } catch (err) {
      this.lastError =
        err instanceof Error ? (err.name === 'TimeoutError' ? `timed out after ${this.fetchTimeoutMs} ms` : err.message) : String(err);
      this.logger?.warn('jwks refresh failed', {
        trigger,
        url: this.url,
        error: this.lastError,
        keptKeys: this.current.length,
        ms: this.now() - started,
      });
      return false;
    }
  }
}
