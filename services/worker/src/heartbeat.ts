/**
 * Extends leases every `intervalMs` while a job runs. A failed beat that means the lease is gone
 * (someone else holds it) calls `onLost`; other failures are retried on the next beat.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: { intervalMs: number; beat: () => Promise<void>; onLost: (err: unknown) => void }) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.o.beat();
    } catch (err) {
      if ((err as { code?: string }).code === 'LeaseLost') {
        this.stop();
        this.o.onLost(err);
      }
    } finally {
      this.running = false;
    }
  }
}
