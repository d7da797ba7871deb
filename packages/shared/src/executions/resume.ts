import type { ExecutionRecord } from './types.ts';

/**
 * Where a (re)started attempt picks up: the first of `steps` (a job kind's steps, in order)
 * without a checkpointed output. Undefined when every step has one.
 */
export function firstPendingStep(rec: Pick<ExecutionRecord, 'outputs'>, steps: readonly string[]): string | undefined {
  return steps.find((s) => !Object.hasOwn(rec.outputs ?? {}, s));
}
