import type { CanvasInitJob } from '@bp/shared';
import type { WorkerDeps } from '../context.ts';
import type { JobKind } from '../runner/job-kind.ts';
import { Steps } from '../runner/steps.ts';
import { createCanvas } from '../steps/create-canvas.ts';

interface CanvasInitRun {
  deps: WorkerDeps;
  job: CanvasInitJob;
}

/** `canvas.init`: one step, creating the entry's canvas. Holds no entry lease. */
export const CANVAS_INIT_STEPS = Steps.for<CanvasInitRun>().step('create-canvas', (r) => createCanvas(r.deps, r.job));

export const canvasInit: JobKind<CanvasInitJob, CanvasInitRun> = {
  steps: CANVAS_INIT_STEPS,
  async admit({ job, deps }) {
    return { context: { deps, job } };
  },
};
