import type { ErrorCode } from './error-codes.ts';

export type { ErrorCode } from './error-codes.ts';

/**
 * One base error for the whole system. `retryable` decides what the retry policy does:
 * transient errors are retried in-process and then by the queue; permanent ones fail the
 * execution at once.
 */
export class PackagerError extends Error {
  /** Short machine-readable class, e.g. `BenchlingNotFound`, shown to operators. */
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Extra facts an operator needs (ids, URLs, sizes). Never secrets. */
  readonly details: Record<string, unknown>;

  constructor(message: string, opts: { code?: ErrorCode; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    // Subclasses without a code of their own (BadMessageError…) are named after theirs; the union lists those names.
    this.code = opts.code ?? (new.target.name.replace(/Error$/, '') as ErrorCode);
    this.retryable = opts.retryable ?? false;
    this.details = opts.details ?? {};
  }
}

/** A problem that goes away by waiting: network, 5xx, throttling, a held lease. */
export class TransientError extends PackagerError {
  constructor(message: string, opts: { code?: ErrorCode; cause?: unknown; details?: Record<string, unknown>; retryAfterMs?: number } = {}) {
    super(message, { ...opts, retryable: true });
    this.retryAfterMs = opts.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** A problem that retrying cannot fix: bad input, missing entry, failed export, unsafe ZIP. */
export class PermanentError extends PackagerError {
  constructor(message: string, opts: { code?: ErrorCode; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { ...opts, retryable: false });
  }
}

/** A job message that cannot be run as it is (unreadable, unknown version or kind, invalid): code `BadMessage`. */
export class BadMessageError extends PermanentError {}

/** A job kind this worker has no steps for yet (partner kinds until theirs exist): code `KindNotHandled`. */
export class KindNotHandledError extends PermanentError {}

/** A configuration value is missing or malformed; raised at start-up, naming the variable. */
export class ConfigError extends PackagerError {
  constructor(message: string) {
    super(message, { code: 'Config', retryable: false });
  }
}

/** Whether an unknown thrown value should be retried. Unknown errors count as transient. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PackagerError) return err.retryable;
  return true;
}

/** A plain, serialisable description of any error, for records and logs. */
export function describeError(err: unknown): { class: string; message: string; retryable: boolean } {
  if (err instanceof PackagerError) return { class: err.code, message: err.message, retryable: err.retryable };
  if (err instanceof Error) return { class: err.name, message: err.message, retryable: true };
  return { class: 'Unknown', message: String(err), retryable: true };
}
