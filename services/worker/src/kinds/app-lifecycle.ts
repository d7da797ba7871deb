import type { AppLifecycleJob } from '@bp/shared';
import type { WorkerDeps } from '../context.ts';
import type { JobKind } from '../runner/job-kind.ts';
import { Steps } from '../runner/steps.ts';
import { recordLifecycle } from '../steps/record-lifecycle.ts';

interface LifecycleRun {
  deps: WorkerDeps;
  job: AppLifecycleJob;
}

/** `app.lifecycle`: one step, recording the event for the tenant's installation. */
export const APP_LIFECYCLE_STEPS = Steps.for<LifecycleRun>().step('record-lifecycle', (r) => recordLifecycle(r.deps, r.job));

export const appLifecycle: JobKind<AppLifecycleJob, LifecycleRun> = {
  steps: APP_LIFECYCLE_STEPS,
  async admit({ job, deps }) {
    return { context: { deps, job } };
  },
};
