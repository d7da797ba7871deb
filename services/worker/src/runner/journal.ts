import type { ExecutionEvent, ExecutionRecord } from '@bp/shared';
import type { ExecutionStore, PendingSteps } from '@bp/shared/executions/index';

/**
 * What an attempt has done that the execution record does not know yet. Steps' starts, ends and
 * outputs gather here with their own times and go out with the next write the run makes anyway
 * (a long step's start, a durable checkpoint, a retry, the finish), so a step costs no write of
 * its own while the history still shows when each step started and how long it took.
 */
export class Journal {
  private outputs: Record<string, unknown> = {};
  private events: ExecutionEvent[] = [];
  private alongside: Array<() => Promise<unknown>> = [];
  /** The step running now, or the last one started ('start' before any). */
  current = 'start';
  /** When the current step started (epoch ms), for its duration metric. */
  currentSince = Date.now();

  constructor(
    private readonly store: ExecutionStore,
    private readonly executionId: string,
    private readonly workerId: string,
    private readonly clock: () => Date,
  ) {}

  note(event: Omit<ExecutionEvent, 'at'>): void {
    this.events.push({ at: this.clock().toISOString(), ...event });
  }

  started(step: string): void {
    this.current = step;
    this.currentSince = Date.now();
    this.note({ type: 'StepStarted', step });
  }

  succeeded(step: string, output: unknown, alongside?: () => Promise<unknown>): void {
    this.outputs[step] = output;
    this.note({ type: 'StepSucceeded', step });
    if (alongside) this.alongside.push(alongside);
  }

  /** Hands over (and forgets) what is pending, for a write that carries it. */
  take(): PendingSteps | undefined {
    if (this.events.length === 0 && Object.keys(this.outputs).length === 0) return undefined;
    const pending = { outputs: this.outputs, events: this.events };
    this.outputs = {};
    this.events = [];
    return pending;
  }

  /**
   * Runs `write` (which carries `take()`'s result) together with the writes elsewhere that were
   * waiting for it, at the same time: neither depends on the other, and a resumed run repeats both.
   */
  async with<T>(write: (pending: PendingSteps | undefined) => Promise<T>): Promise<T> {
    const others = this.alongside;
    this.alongside = [];
    const [result] = await Promise.all([write(this.take()), ...others.map((w) => w())]);
    return result;
  }

  /** Writes what is pending now; with `step`, that step is recorded as the one running. */
  async flush(step?: string): Promise<ExecutionRecord | undefined> {
    return this.with(async (pending) =>
      pending || step ? this.store.advance(this.executionId, this.workerId, pending ?? { outputs: {}, events: [] }, step) : undefined,
    );
  }
}
