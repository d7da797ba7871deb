import { PermanentError, TransientError } from '@bp/shared';

/** How a warehouse call failed, which decides retry, fallback and the error the job gets. */
export type FailureKind = 'connection' | 'query_timeout' | 'access_denied' | 'other';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What node-postgres says when a connection could not be made or dropped (such errors may carry no code). */
const CONNECTION_MESSAGES = new RegExp(
  [
    'timeout exceeded when trying to connect',
    'Connection terminated',
    'connection.*(closed|ended)',
    'Client has encountered a connection error',
  ].join('|'),
  'i',
);

export function failureKind(err: unknown): FailureKind {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const msg = e?.message ?? '';
  // 42501 insufficient_privilege, 28000 invalid authorization, 28P01 wrong password.
  if (code === '42501' || code === '28000' || code === '28P01') return 'access_denied';
  // 57014 query_canceled: the statement_timeout ended it.
  if (code === '57014') return 'query_timeout';
  // Class 08 connection exceptions; 57P01-03 the server is shutting down or not yet up.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || CONNECTION_CODES.has(code)) return 'connection';
  if (CONNECTION_MESSAGES.test(msg)) return 'connection';
  return 'other';
}

export const DBA_MESSAGE = 'the warehouse refused access: requires DBA intervention';

/** The error a job gets, naming the lookup, once retries and the fallback are exhausted. */
export function lookupError(lookup: string, err: unknown, kind: FailureKind = failureKind(err)): Error {
  const detail = (err as Error)?.message ?? String(err);
  switch (kind) {
    case 'access_denied':
      return new PermanentError(`${DBA_MESSAGE} (${lookup}: ${detail})`, {
        code: 'WarehouseAccessDenied',
        cause: err,
        details: { lookup },
      });
    case 'query_timeout':
      return new PermanentError(
        `warehouse lookup "${lookup}" exceeded the statement timeout: narrow it ` +
          `(fewer barcodes or ids per event) or raise WAREHOUSE_STATEMENT_TIMEOUT_MS`,
        { code: 'WarehouseQueryTimeout', cause: err, details: { lookup } },
      );
    case 'connection':
      return new TransientError(`warehouse unreachable during "${lookup}" and no cached answer young enough: ${detail}`, {
        code: 'WarehouseUnavailable',
        cause: err,
        details: { lookup },
      });
    default:
      return new TransientError(`warehouse lookup "${lookup}" failed: ${detail}`, {
        code: 'WarehouseError',
        cause: err,
        details: { lookup },
      });
  }
}
