import { type ExecutionRecord, STEPS, type StepName } from './types.ts';

/**
 * Where a (re)started attempt picks up: the first step, in pipeline order, without a
 * checkpointed output. Undefined when every step has one. `steps` defaults to the full pipeline;
 * a job kind with fewer steps passes its own list.
 */
export function firstPendingStep(rec: Pick<ExecutionRecord, 'outputs'>, steps: readonly StepName[] = STEPS): StepName | undefined {
  return steps.find((s) => !Object.prototype.hasOwnProperty.call(rec.outputs ?? {}, s));
}
