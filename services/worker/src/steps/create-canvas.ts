import { type CanvasInitJob, entryKey } from '@bp/shared';
import { canvasBlocks, packageLink } from '../canvas.ts';
import type { WorkerDeps } from '../context.ts';
import type { StepResult } from '../runner/steps.ts';

export interface CanvasCreated {
  canvasId: string;
  reused?: boolean;
}

/** `v2.canvas.initialized` carries no canvas: create it, remember its id for the entry. */
export async function createCanvas(deps: WorkerDeps, job: CanvasInitJob): Promise<StepResult<CanvasCreated>> {
  const key = entryKey(job.tenantId, job.entryId);
  const state = await deps.entries.get(key);
  const featureId = job.trigger.featureId ?? deps.config.canvasFeatureId;
  if (state?.canvasId && state.featureId === featureId) return { output: { canvasId: state.canvasId, reused: true } };
  const last = state?.lastPublished;
  const blocks = canvasBlocks(
    {
      kind: 'idle',
      hasPackage: last
        ? { packageName: last.packageName, at: last.at, link: packageLink({ catalogUrl: deps.config.catalogUrl, bucket: deps.config.names.bucket, packageName: last.packageName }) }
        : undefined,
    },
    deps.config.updateButtonId,
  );
  const canvas = await deps.benchlingFor(job).createCanvas({ appId: job.appId, featureId, resourceId: job.entryId, blocks, enabled: true });
  await deps.entries.setCanvas(key, { canvasId: canvas.id, appId: job.appId, featureId });
  return { output: { canvasId: canvas.id } };
}
