import type { AppLifecycleJob } from '@bp/shared';
import type { WorkerDeps } from '../context.ts';
import type { StepResult } from '../runner/steps.ts';

/** Records an app lifecycle event (installed, activated, …) for the tenant's installation. */
export async function recordLifecycle(deps: WorkerDeps, job: AppLifecycleJob): Promise<StepResult<{ recorded: string }>> {
  await deps.installations.recordLifecycle({
    tenantId: job.tenantId,
    appId: job.appId ?? 'unknown',
    type: job.trigger.type,
    at: job.trigger.receivedAt,
  });
  return { output: { recorded: job.trigger.type } };
}
