import { type ErrorCode, PackagerError, PermanentError, TransientError } from './errors.ts';

/**
 * The one reading of AWS SDK errors, for every service we call. The SDK's own facts come first:
 * `$fault` ('client' | 'server'), `$retryable` (set, with `throttling`, on errors the SDK retries)
 * and `$metadata.httpStatusCode` (absent when no response came back).
 */
export type AwsErrorClass =
  /** Throttled (429, SlowDown, ThrottlingException, ProvisionedThroughputExceeded): passes with time. */
  | 'throttled'
  /** The service failed (5xx, `$fault: 'server'`): passes with time. */
  | 'server'
  /** No answer in time (the request may have been carried out). */
  | 'timeout'
  /** No response at all: a connection refused or reset, DNS. */
  | 'network'
  /** The service refused the request (4xx): a retry meets the same answer. */
  | 'client';

export interface AwsErrorFacts {
  class: AwsErrorClass;
  /** The SDK's error name, e.g. `ThrottlingException`, `NoSuchKey`, `ECONNRESET`. */
  name: string;
  status: number | undefined;
  /** Whether waiting and retrying can help. */
  transient: boolean;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

// Names that mean "throttled" or "try again" whatever status the emulators put on them.
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const TRANSIENT_CLIENT = new Set(['RequestTimeout', 'RequestTimeTooSkewed']);
const TIMEOUTS = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
/** Errors raised before a request could reach the service: it certainly did not act on it. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

export function classifyAwsError(err: unknown): AwsErrorFacts {
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? e.name ?? 'Error');
  const status = e.$metadata?.httpStatusCode;
  const cls = ((): AwsErrorClass => {
    if (e.$retryable?.throttling || THROTTLING.has(name) || status === 429) return 'throttled';
    if (TIMEOUTS.has(name) || status === 408) return 'timeout';
    if (e.$fault === 'server' || (status !== undefined && status >= 500)) return 'server';
    if (status === undefined && e.$fault === undefined) return 'network';
    return 'client';
  })();
  const transient = cls !== 'client' || e.$retryable !== undefined || TRANSIENT_CLIENT.has(name);
  return { class: cls, name, status, transient };
}

/**
 * Whether a request that failed may still have been carried out: true when it may have reached
 * the service and no answer said otherwise (a timeout, a connection broken mid-way); false when
 * the service answered with an error or the connection was never made.
 */
export function awsMayHaveSucceeded(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  if (typeof e.$metadata?.httpStatusCode === 'number') return false;
  return !NEVER_CONNECTED.has(e.code ?? e.name ?? '');
}

/** `Name (HTTP 503): message`, for messages operators read. */
export function describeAwsError(err: unknown): string {
  const { name, status } = classifyAwsError(err);
  const message = (err as SdkErrorShape | undefined)?.message ?? String(err);
  return `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
}

/**
 * Wraps an AWS SDK failure so it says what was being done and whether retrying can help
 * (classifyAwsError): transient ones are TransientError, a refusal a PermanentError.
 */
export function awsFailure(err: unknown, what: string, code: ErrorCode, details: Record<string, unknown>): PackagerError {
  if (err instanceof PackagerError) return err;
  const facts = classifyAwsError(err);
  const message = `${what} failed: ${describeAwsError(err)}`;
  const all = { ...details, awsError: facts.name, httpStatus: facts.status };
  return facts.transient
    ? new TransientError(message, { code, cause: err, details: all })
    : new PermanentError(message, { code, cause: err, details: all });
}
