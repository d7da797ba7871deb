import { BadMessageError, describeError, KindNotHandledError } from '@bp/shared';
import { ExecutionNotFoundError, LeaseHeldError, LeaseLostError } from '@bp/shared/executions/index';

/**
 * What the worker does with a message once a job attempt ends.
 * - `done`: delete the message (success, permanent failure recorded, or superseded).
 * - `retry`: leave it; make it visible again after `delaySeconds` (visibility backoff).
 * - `requeue`: send `body` again with `delaySeconds` (export still running), then delete this one.
 * - `deadLetter`: send it to the DLQ with `reason`, then delete it.
 */
export type JobOutcome =
  | { action: 'done' }
  | { action: 'retry'; delaySeconds: number }
  | { action: 'requeue'; body: string; delaySeconds: number }
  | { action: 'deadLetter'; reason: string };

/** What decideOutcome needs to know besides the error. */
export interface OutcomeContext {
  /** SQS ApproximateReceiveCount of this delivery. */
  receiveCount: number;
  /** Receives this job may have: the queue's redrive limit, or the job kind's own if lower. */
  maxReceiveCount: number;
  /** The queue's redrive limit: at it SQS moves the message to the DLQ itself; below it, we send it. */
  queueMaxReceiveCount: number;
  /** The worker is stopping: hand the job back at once. */
  shuttingDown: boolean;
  visibilityTimeoutSeconds: number;
  /** For the retry jitter; Math.random by default. */
  random?: () => number;
}

/** Why a decision was taken: logged, and the label of the retry and DLQ metrics. */
export type OutcomeCause =
  | 'lease-held'
  | 'taken-over'
  | 'finished-elsewhere'
  | 'no-execution'
  | 'bad-message'
  | 'shutdown'
  | 'permanent'
  | 'transient'
  | 'gave-up';

/**
 * What to do about an attempt that ended with an error: the SQS action, what the execution record
 * gets, and what becomes of the run's resource lease (the entry, for entry jobs).
 */
export interface Decision {
  cause: OutcomeCause;
  message: JobOutcome;
  /** `untouched`: another attempt owns the record, or none exists; `retry`: note the error, stay RUNNING; `failed`: FAILED. */
  execution: 'untouched' | 'retry' | 'failed';
  /** The error as recorded and shown. */
  reason: string;
  /** `keep`: leave it as it is; `hold`: keep it across `holdSeconds`; `end`: release it or hand it on. */
  resource: 'keep' | 'hold' | 'end';
  /** With `hold`: how long the lease must last from now (the retry delay plus one visibility timeout). */
  holdSeconds?: number;
}

/**
 * The one place that turns an attempt's error into what happens next. Pure: same inputs, same
 * decision (bar the jitter, which `random` fixes).
 */
export function decideOutcome(error: unknown, c: OutcomeContext): Decision {
  const reason = describeError(error).message;
  if (error instanceof LeaseHeldError) {
    // Another worker runs this execution: come back when its lease would lapse (it may have died).
    const ms = error.retryAfterMs ?? c.visibilityTimeoutSeconds * 1000;
    const delaySeconds = Math.max(1, Math.min(c.visibilityTimeoutSeconds, Math.ceil(ms / 1000)));
    return { cause: 'lease-held', message: { action: 'retry', delaySeconds }, execution: 'untouched', reason, resource: 'keep' };
  }
  if (error instanceof LeaseLostError && error.lease === 'execution') {
    if (error.status === 'RUNNING' || error.status === 'QUEUED') {
      // Our lease lapsed and another worker took the execution over: its delivery is the live one,
      // and its run holds the entry under the same execution id. Come back after one visibility
      // timeout in case it dies too.
      return {
        cause: 'taken-over',
        message: { action: 'retry', delaySeconds: c.visibilityTimeoutSeconds },
        execution: 'untouched',
        reason,
        resource: 'keep',
      };
    }
    // Finished meanwhile (ops, DLQ handling): nothing left to run; end the hold on the entry if ours.
    return { cause: 'finished-elsewhere', message: { action: 'done' }, execution: 'untouched', reason, resource: 'end' };
  }
  if (error instanceof ExecutionNotFoundError) {
    // No record to mark FAILED: keep the message where an operator sees it, with the reason.
    return { cause: 'no-execution', message: { action: 'deadLetter', reason }, execution: 'untouched', reason, resource: 'end' };
  }
  if (error instanceof BadMessageError || error instanceof KindNotHandledError) {
    return { cause: 'bad-message', message: { action: 'deadLetter', reason }, execution: 'failed', reason, resource: 'end' };
  }
  const retryable = describeError(error).retryable;
  if (c.shuttingDown && retryable) {
    // Hand the job back at once; the next worker resumes from the last checkpoint.
    const hold = c.visibilityTimeoutSeconds;
    return {
      cause: 'shutdown',
      message: { action: 'retry', delaySeconds: 0 },
      execution: 'retry',
      reason: `worker shutting down: ${reason}`,
      resource: 'hold',
      holdSeconds: hold,
    };
  }
  if (!retryable) return { cause: 'permanent', message: { action: 'done' }, execution: 'failed', reason, resource: 'end' };
  if (c.receiveCount < c.maxReceiveCount) {
    const delaySeconds = retryDelaySeconds(c.receiveCount, c.random);
    return {
      cause: 'transient',
      message: { action: 'retry', delaySeconds },
      execution: 'retry',
      reason,
      resource: 'hold',
      holdSeconds: delaySeconds + c.visibilityTimeoutSeconds,
    };
  }
  const gaveUp = gaveUpMessage(c.receiveCount, reason);
  // On the queue's last receive SQS's redrive moves the message to the DLQ once it is visible again;
  // a kind that allows fewer receives sends it there itself.
  const message: JobOutcome =
    c.maxReceiveCount < c.queueMaxReceiveCount ? { action: 'deadLetter', reason: gaveUp } : { action: 'retry', delaySeconds: 0 };
  return { cause: 'gave-up', message, execution: 'failed', reason: gaveUp, resource: 'end' };
}

/** The one retry schedule: after the n-th failed receive 5 s, 10 s, 20 s … capped at 300 s, ±20 % jitter. */
export function retryDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const base = 5;
  const max = 300;
  const raw = Math.min(max, base * 2 ** Math.max(0, receiveCount - 1));
  const jitter = 0.8 + 0.4 * random();
  return Math.max(1, Math.min(max, Math.round(raw * jitter)));
}

/** The reason recorded when the last receive allowed still failed with a transient error. */
export function gaveUpMessage(receiveCount: number, message: string): string {
  return `gave up after ${receiveCount} attempts: ${message}`;
}
