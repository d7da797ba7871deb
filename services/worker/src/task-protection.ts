import type { Logger } from '@bp/shared';

/**
 * ECS task scale-in protection, driven by the number of jobs this process holds.
 *
 * Auto Scaling picks which task to stop on scale-in; without protection it may pick one that is
 * halfway through streaming a 10 GiB export. So: protection goes on (at once) when active jobs go
 * 0 → 1, is renewed while jobs keep running, and comes off when they return to 0 and stay there for
 * `releaseDelayMs` (a worker that finishes one job and picks up the next does not flap). Calls go
 * to the ECS agent (`PUT ${ECS_AGENT_URI}/task-protection/v1/state`), one at a time, always sending
 * the latest wanted state. A failed call is logged and retried later, never thrown: a worker that
 * cannot protect itself still does its work (and the protection's expiry bounds any mistake).
 */

export interface TaskProtectionOptions {
  /** The ECS agent endpoint from `ECS_AGENT_URI` (no trailing path). Required. */
  agentUri: string;
  /** Minutes one protection lasts unless renewed (ECS allows 1–2880). Default 60. */
  expiresInMinutes?: number;
  /** Milliseconds between renewals while jobs run. Default half of `expiresInMinutes`. */
  renewEveryMs?: number;
  /** Milliseconds with no active job before protection is cleared (debounce). Default 10_000. */
  releaseDelayMs?: number;
  /** Milliseconds one agent call may take. Default 3000. */
  requestTimeoutMs?: number;
  /** Milliseconds before a failed call is tried again, while the wanted state still differs. Default 15_000. */
  retryDelayMs?: number;
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** HTTP client. Default the global fetch. */
  fetch?: typeof fetch;
}

/** What the fleet tells a listener about its job count. */
export interface ActiveJobsListener {
  jobStarted(): void;
  jobFinished(): void;
  /** Stops timers and waits for a call in flight; sends nothing new. */
  close(): Promise<void>;
}

export class TaskProtection implements ActiveJobsListener {
  private readonly url: string;
  private readonly expiresInMinutes: number;
  private readonly renewEveryMs: number;
  private readonly releaseDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly fetchFn: typeof fetch;
  private active = 0;
  /** The state the agent last confirmed (undefined: never told, i.e. unprotected). */
  private confirmed: boolean | undefined;
  private wanted = false;
  /** Wanted-state changes since the last confirmation; a renewal bumps it too. */
  private dirty = false;
  private inFlight: Promise<void> | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: TaskProtectionOptions) {
    if (!o.agentUri) throw new TypeError('TaskProtection: agentUri is required');
    this.url = `${o.agentUri.replace(/\/+$/, '')}/task-protection/v1/state`;
    this.expiresInMinutes = o.expiresInMinutes ?? 60;
    if (!Number.isInteger(this.expiresInMinutes) || this.expiresInMinutes < 1 || this.expiresInMinutes > 2880) {
      throw new RangeError(`TaskProtection: expiresInMinutes must be an integer from 1 to 2880, got ${this.expiresInMinutes}`);
    }
    this.renewEveryMs = o.renewEveryMs ?? (this.expiresInMinutes * 60_000) / 2;
    this.releaseDelayMs = o.releaseDelayMs ?? 10_000;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 3000;
    this.retryDelayMs = o.retryDelayMs ?? 15_000;
    this.fetchFn = o.fetch ?? fetch;
  }

  /** Whether the agent last confirmed this task as protected. */
  get protectedNow(): boolean {
    return this.confirmed === true;
  }

  jobStarted(): void {
    this.active += 1;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    // Still wanted (a job started within the release delay): protection never came off.
    if (this.active === 1 && !this.closed && !this.wanted) this.want(true);
  }

  jobFinished(): void {
    this.active = Math.max(0, this.active - 1);
    if (this.active > 0 || this.closed) return;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      if (this.active === 0) this.want(false);
    }, this.releaseDelayMs);
    this.releaseTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.releaseTimer, this.renewTimer, this.retryTimer]) clearTimeout(t);
    await this.inFlight;
  }

  private want(on: boolean): void {
    this.wanted = on;
    this.dirty = true;
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (on) {
      this.renewTimer = setInterval(() => {
        this.dirty = true;
        this.pump();
      }, this.renewEveryMs);
      this.renewTimer.unref();
    }
    this.pump();
  }

  /** Sends the wanted state unless a call is already in flight; that call's end sends it then. */
  private pump(): void {
    if (this.inFlight || this.closed || !this.dirty) return;
    this.dirty = false;
    // Nothing to undo if the agent was never told to protect us.
    if (!this.wanted && this.confirmed !== true) return;
    const state = this.wanted;
    this.inFlight = this.put(state)
      .then((ok) => {
        if (ok) {
          this.confirmed = state;
          return;
        }
        if (this.closed) return;
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          if (this.wanted === this.confirmed) return;
          this.dirty = true;
          this.pump();
        }, this.retryDelayMs);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.inFlight = undefined;
        this.pump();
      });
  }

  /** One agent call; true when the agent confirms the state. Never throws. */
  private async put(enabled: boolean): Promise<boolean> {
    const body = enabled ? { ProtectionEnabled: true, ExpiresInMinutes: this.expiresInMinutes } : { ProtectionEnabled: false };
    try {
      const res = await this.fetchFn(this.url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const text = await res.text();
      let json: {
        protection?: { ProtectionEnabled?: boolean; ExpirationDate?: string };
        failure?: { Reason?: string };
        error?: { Code?: string; Message?: string };
      } = {};
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        /* not JSON: judged by status alone */
      }
      if (!res.ok || json.failure || json.error) {
        const why = json.error
          ? `${json.error.Code}: ${json.error.Message}`
          : json.failure
            ? `failure ${json.failure.Reason}`
            : `HTTP ${res.status}`;
        this.o.logger.warn('could not set task scale-in protection; will retry', {
          protectionEnabled: enabled,
          status: res.status,
          error: why.slice(0, 300),
        });
        return false;
      }
      this.o.logger.info(enabled ? 'task scale-in protection on' : 'task scale-in protection off', {
        activeJobs: this.active,
        ...(json.protection?.ExpirationDate ? { expiresAt: json.protection.ExpirationDate } : {}),
      });
      return true;
    } catch (err) {
      const e = err as { name?: string; message?: string };
      this.o.logger.warn('could not reach the ECS agent for task scale-in protection; will retry', {
        protectionEnabled: enabled,
        error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}`,
      });
      return false;
    }
  }
}
