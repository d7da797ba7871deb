import type { CanvasViewJob } from '@bp/shared';
import { runCanvasView } from '../canvas/worker-canvas.ts';
import type { WorkerDeps } from '../context.ts';
import type { JobKind } from '../runner/job-kind.ts';
import { Steps } from '../runner/steps.ts';

interface CanvasViewRun {
  deps: WorkerDeps;
  job: CanvasViewJob;
}

/**
 * `canvas.view`: one step, answering a navigation click by rendering the view it asks for. The
 * page state travels in the button id and the canvas `data`, so any worker answers any click; it
 * holds no entry lease (a view reads the published package, never writes it).
 */
export const CANVAS_VIEW_STEPS = Steps.for<CanvasViewRun>().step('render-view', async (r) => ({
  output: await runCanvasView(r.deps, r.job),
}));

export const canvasView: JobKind<CanvasViewJob, CanvasViewRun> = {
  steps: CANVAS_VIEW_STEPS,
  async admit({ job, deps }) {
    return { context: { deps, job } };
  },
};
