import type { StepContext, StepResult } from '../context.ts';

export interface ExportStarted {
  taskId: string;
  format: 'pdf' | 'html';
  startedAt: string;
}

/** Asks Benchling for an export; the task id is checkpointed so a resumed run does not start another. */
export async function startExport(ctx: StepContext): Promise<StepResult<ExportStarted>> {
  const format = ctx.deps.config.exportFormat;
  const taskId = await ctx.benchling.startExport(ctx.job.entryId, format);
  ctx.log.info('export started', { taskId });
  return { output: { taskId, format, startedAt: ctx.deps.clock().toISOString() } };
}
