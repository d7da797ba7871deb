import { PackagerError, PermanentError, TransientError } from '../errors.ts';

// Error names the SDK uses for conditions that pass with time, whatever their HTTP status.
const TRANSIENT_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'TimeoutError', 'ServiceUnavailable', 'InternalError']);

/**
 * Wraps an AWS SDK failure so it says what was being done and whether retrying can help:
 * no response, 5xx, 408, 429 and throttling are transient; any other 4xx (access denied, no
 * such bucket or queue) is permanent, since a retry would meet the same answer.
 */
export function awsFailure(err: unknown, what: string, code: string, details: Record<string, unknown>): PackagerError {
  if (err instanceof PackagerError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const message = `${what} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  const all = { ...details, awsError: e.name, httpStatus: status };
  const transient = status === undefined || status >= 500 || status === 408 || status === 429 || TRANSIENT_NAMES.has(e.name ?? '');
  return transient ? new TransientError(message, { code, cause: err, details: all }) : new PermanentError(message, { code, cause: err, details: all });
}
