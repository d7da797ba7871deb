import { isNotFound, isUsage } from './errors.ts';

/**
 * Exit codes of `benchling-packager-ops`, for scripts:
 * 0 the command did what it was asked (a replay that matched nothing included);
 * 1 the operation failed (AWS error, or a replay in which some messages could not be moved);
 * 2 usage or configuration error (bad option, missing variable);
 * 3 not found (no such execution);
 * 130 interrupted (Ctrl-C / SIGTERM) before the command finished: rerun it.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(err: unknown): ExitCode {
  if (isUsage(err)) return EXIT.usage;
  if (isNotFound(err)) return EXIT.notFound;
  return EXIT.failed;
}
