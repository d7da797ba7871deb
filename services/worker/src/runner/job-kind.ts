import type { AnyJobMessage, ExecutionError, ExecutionRecord, Logger } from '@bp/shared';
import type { Finishing } from '@bp/shared/executions/index';
import type { WorkerDeps } from '../context.ts';
import type { Journal } from './journal.ts';
import type { JobOutcome } from './outcome.ts';
import type { Steps } from './steps.ts';

/**
 * What a run holds exclusively besides its execution: an entry for entry jobs (a partner run for
 * partner jobs). Leased for the visibility timeout and extended with the execution lease.
 */
export interface ResourceHold {
  /** For logs: `tenant#entry`. */
  readonly key: string;
  /** Takes the lease, or ends the job without running (coalesced into the holder, superseded). */
  acquire(a: { journal: Journal; record: ExecutionRecord }): Promise<{ acquired: true } | { acquired: false; outcome: JobOutcome }>;
  /** Keeps the lease for `ms` from now (heartbeat, a retry's delay, an export wait). */
  extend(ms: number): Promise<unknown>;
  /** The run is over (or given up on): release the lease, or hand it to the follow-up run. */
  end(): Promise<void>;
  /** Tells the people watching that the run failed (the entry's canvas), in plain words from the error's class. Best effort. */
  showFailure?(error: ExecutionError): Promise<void>;
}

/** What admission hands the runner: the steps' context, and the tenant-facing things to do around the steps. */
export interface Admitted<C> {
  context: C;
  /** Before the first step of a fresh run (show "updating" on the canvas). */
  beforeSteps?(): Promise<void>;
  /** As each step starts (progress messages on the canvas). */
  beforeStep?(name: string): Promise<void>;
  /** What the execution records when it succeeds besides its outputs (a partner event's result, its processing time). */
  finishing?(outputs: Record<string, unknown>): Finishing;
}

/**
 * One job kind: its steps (declared once), the resource a run of it holds, and its own receive
 * limit if lower than the queue's. The runner does the rest (leases, checkpoints, the decision,
 * the effects), the same for every kind.
 */
export interface JobKind<J extends AnyJobMessage, C> {
  steps: Steps<C, object>;
  /** Receives a job may have before it is given up (a partner's `policy.maxRetries` + 1). */
  maxReceiveCount?(job: J): number;
  /**
   * The resource a run of `job` holds, if any. With `learn`, it may ask Benchling (a canvas
   * button's job learns its entry); without, it says only what the job or record already know.
   */
  resource?(a: {
    job: J;
    record: ExecutionRecord | undefined;
    deps: WorkerDeps;
    log: Logger;
    learn: boolean;
  }): Promise<ResourceHold | undefined>;
  /** Builds the steps' context once the leases are held; may end the job early (superseded). */
  admit(a: {
    job: J;
    record: ExecutionRecord;
    deps: WorkerDeps;
    log: Logger;
    signal: AbortSignal;
    hold: ResourceHold | undefined;
  }): Promise<Admitted<C> | { outcome: JobOutcome }>;
}

/**
 * A kind as the registry holds it: kinds of different job and context types side by side, each
 * checked where it is declared. Erasing the types is sound because the registry hands a kind only
 * jobs of its own `kind`, and its steps only the context its own `admit` built.
 */
export type AnyJobKind = JobKind<AnyJobMessage, unknown>;

/** A kind, its job and context types erased for the registry (see `AnyJobKind`). */
export function registeredKind<J extends AnyJobMessage, C>(kind: JobKind<J, C>): AnyJobKind {
  return kind as unknown as AnyJobKind;
}
