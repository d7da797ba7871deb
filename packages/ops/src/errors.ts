import { ConfigError, type ErrorCode, PackagerError, PermanentError, TransientError } from '@bp/shared';
import { ExecutionNotFoundError } from '@bp/shared/executions/errors';
import { PartnerInputError } from '@bp/shared/partners/partner-input';
import { PartnerExistsError, PartnerNotFoundError } from '@bp/shared/partners/registry';

/** The operator asked for something malformed (bad option, unknown status, no filter). CLI exit 2, HTTP 400. */
export class OpsUsageError extends PermanentError {
  constructor(message: string) {
    super(message, { code: 'Usage' });
  }
}

/** The thing asked for does not exist (execution id, expired record). CLI exit 3, HTTP 404. */
export class OpsNotFoundError extends PermanentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, { code: 'NotFound', details });
  }
}

/** Whether an error means "no such thing", whichever layer raised it. */
export function isNotFound(err: unknown): boolean {
  return err instanceof OpsNotFoundError || err instanceof ExecutionNotFoundError || err instanceof PartnerNotFoundError;
}

/** Usage errors with no class of their own: a bad limit, a partner changed meanwhile, a configuration check (a PermanentError). */
const USAGE_CODES: readonly ErrorCode[] = ['Config', 'InvalidLimit', 'PartnerChanged'];

/** Whether an error means "you asked wrongly" (usage, configuration, an invalid limit). */
export function isUsage(err: unknown): boolean {
  return (
    err instanceof OpsUsageError ||
    err instanceof ConfigError ||
    err instanceof PartnerInputError ||
    err instanceof PartnerExistsError ||
    (err instanceof PackagerError && USAGE_CODES.includes(err.code))
  );
}

/**
 * A SendMessage failed in a way that leaves its outcome unknown (a timeout, a connection broken
 * after the request went out): the job may be on the queue. Nothing is rolled back, because
 * failing the execution could mark FAILED a job the worker then runs. CLI exit 1.
 */
export class SendOutcomeUnknownError extends TransientError {
  constructor(message: string, opts: { cause: unknown; details: Record<string, unknown> }) {
    super(message, { code: 'SendOutcomeUnknown', ...opts });
  }
}
