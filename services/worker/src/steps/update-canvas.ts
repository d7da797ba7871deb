import { describeError } from '@bp/shared';
import { BenchlingNotFoundError } from '@bp/shared/benchling/index';
import { PackagingCanvas } from '../canvas/worker-canvas.ts';
import type { EntryJob, StepContext, StepResult } from '../context.ts';
import type { Published } from './publish.ts';

export type CanvasShown = { canvasId: string; skipped?: string } | { skipped: string };

/**
 * Shows the published revision on the entry's canvas, if the entry has one (the last step): the
 * app session ends SUCCEEDED and the main view shows the package with its file count and size,
 * read back from the published manifest.
 */
export async function updateCanvas(
  ctx: StepContext,
  a: { canvasId: string | undefined; published: Published },
): Promise<StepResult<CanvasShown>> {
  const { canvasId, published: p } = a;
  if (!canvasId) return { output: { skipped: 'no canvas for this entry' } };
  try {
    await packagingCanvas(ctx, canvasId).published(p.publishedAt, p.created === false);
  } catch (err) {
    // The scientist removed the canvas: the package is published all the same, and nothing is left to show it on.
    if (!(err instanceof BenchlingNotFoundError)) throw err;
    ctx.log.warn('the canvas is gone: the result is not shown', { canvasId });
    return { output: { canvasId, skipped: 'the canvas no longer exists' } };
  }
  return { output: { canvasId } };
}

export function packagingCanvas(ctx: Pick<StepContext, 'deps' | 'benchling' | 'job'>, canvasId: string): PackagingCanvas {
  return new PackagingCanvas(ctx.deps, ctx.benchling, ctx.job as EntryJob, canvasId);
}

/** Canvas updates while running are best effort: a canvas error must not fail a package. */
export async function showOnCanvas(ctx: Pick<StepContext, 'log'>, show: () => Promise<void>): Promise<void> {
  try {
    await show();
  } catch (err) {
    ctx.log.warn('could not update the canvas', { error: describeError(err) });
  }
}
