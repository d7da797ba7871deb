import type { PackagerMetrics } from '@bp/shared/metrics/index';
import type { Logger } from '@bp/shared';
import type { Journal } from './journal.ts';
import type { StepResult, Steps } from './steps.ts';

/** How the steps ended: all have outputs, or one asked to be run again later. */
export type StepsEnd = { finished: true } | { finished: false; wait: Extract<StepResult<unknown>, { waitSeconds: number }>; step: string };

/**
 * Runs the steps that have no output yet, in their declared order, each reading the outputs
 * before it. Progress goes through the journal (see Journal, StepOptions for when it is written).
 */
export async function runSteps<C>(o: {
  steps: Steps<C, object>;
  context: C;
  /** Outputs checkpointed by earlier attempts; filled in as steps finish. */
  outputs: Record<string, unknown>;
  journal: Journal;
  signal: AbortSignal;
  log: Logger;
  metrics: PackagerMetrics;
  /** Told as each step starts (the canvas's progress messages). Best effort is the caller's. */
  beforeStep?: (name: string) => Promise<void>;
}): Promise<StepsEnd> {
  let flushFirst = false;
  for (const step of o.steps.list) {
    if (o.outputs[step.name] !== undefined) continue;
    if (o.signal.aborted) throw o.signal.reason ?? new Error('aborted');
    o.journal.started(step.name);
    if (step.long || flushFirst) await o.journal.flush(step.name);
    flushFirst = false;
    await o.beforeStep?.(step.name);
    const started = Date.now();
    const result = await step.run(o.context, o.outputs as never);
    const seconds = (Date.now() - started) / 1000;
    if ('waitSeconds' in result) {
      o.metrics.stepFinished(step.name, 'requeued', seconds);
      return { finished: false, wait: result, step: step.name };
    }
    o.outputs[step.name] = result.output;
    const alongside = step.alongside;
    o.journal.succeeded(step.name, result.output, alongside ? () => alongside(o.context, result.output) : undefined);
    o.log.info('step succeeded', { step: step.name, ms: Math.round(seconds * 1000) });
    o.metrics.stepFinished(step.name, 'succeeded', seconds);
    flushFirst = step.durable === true;
  }
  return { finished: true };
}
