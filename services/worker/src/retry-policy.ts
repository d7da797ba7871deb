import { TransientError } from '@bp/shared';

/**
 * What the worker does with a message once a job attempt ends. The one place that turns an
 * attempt's result into an SQS action.
 * - `done`: delete the message (success, permanent failure recorded, or superseded).
 * - `retry`: leave it; make it visible again after `delaySeconds` (visibility backoff).
 * - `requeue`: send `body` again with `delaySeconds` (export still running), then delete this one.
 * - `deadLetter`: send it to the DLQ with `reason`, then delete it (unreadable or unknown messages).
 */
export type JobOutcome =
  | { action: 'done' }
  | { action: 'retry'; delaySeconds: number }
  | { action: 'requeue'; body: string; delaySeconds: number }
  | { action: 'deadLetter'; reason: string };

/** Visibility backoff after the n-th failed receive: 5 s, 10 s, 20 s … capped, with ±20 % jitter. */
export function retryDelaySeconds(receiveCount: number, opts: { baseSeconds?: number; maxSeconds?: number; random?: () => number } = {}): number {
  const base = opts.baseSeconds ?? 5;
  const max = opts.maxSeconds ?? 300;
  const raw = Math.min(max, base * 2 ** Math.max(0, receiveCount - 1));
  const jitter = 0.8 + 0.4 * (opts.random ?? Math.random)();
  return Math.max(1, Math.min(max, Math.round(raw * jitter)));
}

/** Delay before polling an export again: 2, 4, 8 … seconds up to `maxSeconds`. */
export function exportPollDelaySeconds(attempt: number, maxSeconds: number): number {
  return Math.min(maxSeconds, 2 ** Math.min(10, attempt + 1));
}

/** Thrown when another worker holds the execution; the message comes back after the lease. */
export function leaseHeldDelaySeconds(err: TransientError, visibilityTimeoutSeconds: number): number {
  const ms = err.retryAfterMs ?? visibilityTimeoutSeconds * 1000;
  return Math.max(1, Math.min(visibilityTimeoutSeconds, Math.ceil(ms / 1000)));
}

/** The reason recorded when the last receive SQS allows still failed with a transient error. */
export function gaveUpMessage(receiveCount: number, message: string): string {
  return `gave up after ${receiveCount} attempts: ${message}`;
}
