import { LeaseLostError } from '@bp/shared/executions/index';

/**
 * Extends leases every `intervalMs` while a job runs. A failed beat that means the lease is gone
 * (someone else holds it) calls `onLost`; other failures are retried on the next beat.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** The beat under way, if any. */
  private beating: Promise<void> | undefined;

  constructor(private readonly o: { intervalMs: number; beat: () => Promise<void>; onLost: (err: unknown) => void }) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** No more beats. A beat already under way still ends; see `settle`. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops, and resolves once a beat already under way has ended: a lease the caller sets next is
   * then not overwritten by that beat's late write (say, a long hold for an export wait cut back
   * to one visibility timeout).
   */
  async settle(): Promise<void> {
    this.stop();
    await this.beating;
  }

  private async tick(): Promise<void> {
    if (this.beating) return;
    this.beating = this.beatOnce();
    try {
      await this.beating;
    } finally {
      this.beating = undefined;
    }
  }

  private async beatOnce(): Promise<void> {
    try {
      await this.o.beat();
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.stop();
        this.o.onLost(err);
      }
    }
  }
}
