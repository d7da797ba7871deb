import type { CanvasInitJob } from '@bp/shared';
import { createEntryCanvas } from '../canvas/worker-canvas.ts';
import type { WorkerDeps } from '../context.ts';
import type { StepResult } from '../runner/steps.ts';

export interface CanvasCreated {
  canvasId: string;
  reused?: boolean;
}

/**
 * `v2.canvas.initialized` carries no canvas: create it once (concurrent or retried initialisations
 * leave exactly one, see createEntryCanvas) and remember its id for the entry.
 */
export async function createCanvas(deps: WorkerDeps, job: CanvasInitJob): Promise<StepResult<CanvasCreated>> {
  return { output: (await createEntryCanvas(deps, job)) as unknown as CanvasCreated };
}
