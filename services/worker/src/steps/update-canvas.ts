import { describeError } from '@bp/shared';
import { BenchlingNotFoundError } from '@bp/shared/benchling/index';
import { canvasBlocks, type CanvasState, packageLink } from '../canvas.ts';
import type { StepContext, StepResult } from '../context.ts';
import type { Published } from './publish.ts';
import type { TransferSummary } from './transfer.ts';

export type CanvasShown = { canvasId: string; skipped?: string } | { skipped: string };

/** Shows the published revision on the entry's canvas, if the entry has one (the last step). */
export async function updateCanvas(ctx: StepContext, a: { canvasId: string | undefined; published: Published; transferred: TransferSummary }): Promise<StepResult<CanvasShown>> {
  const { canvasId, published: p, transferred: t } = a;
  if (!canvasId) return { output: { skipped: 'no canvas for this entry' } };
  const link = packageLink({ catalogUrl: ctx.deps.config.catalogUrl, bucket: ctx.deps.config.names.bucket, packageName: p.packageName });
  try {
    const state: CanvasState = { kind: 'published', packageName: p.packageName, link, at: p.publishedAt, fileCount: t.fileCount + 3, unchanged: p.created === false };
    await showOnCanvas(ctx, canvasId, state, true);
  } catch (err) {
    // The scientist removed the canvas: the package is published all the same, and nothing is left to show it on.
    if (!(err instanceof BenchlingNotFoundError)) throw err;
    ctx.log.warn('the canvas is gone: the result is not shown', { canvasId });
    return { output: { canvasId, skipped: 'the canvas no longer exists' } };
  }
  return { output: { canvasId } };
}

/** Canvas updates are best-effort while running (a canvas error must not fail a package), strict at the end. */
export async function showOnCanvas(ctx: Pick<StepContext, 'benchling' | 'deps' | 'log'>, canvasId: string, state: CanvasState, strict = false): Promise<void> {
  try {
    await ctx.benchling.updateCanvas(canvasId, { blocks: canvasBlocks(state, ctx.deps.config.updateButtonId), enabled: true });
  } catch (err) {
    if (strict) throw err;
    ctx.log.warn('could not update the canvas', { canvasId, error: describeError(err) });
  }
}
