export { workerConfigFromEnv, type WorkerConfig } from './config.ts';
export type { WorkerDeps } from './context.ts';
export { WorkerFleet } from './fleet.ts';
export { runJob, runJob as handleJob } from './runner/run-job.ts';
export { decideOutcome, retryDelaySeconds, type Decision, type JobOutcome, type OutcomeContext } from './runner/outcome.ts';
export { buildWorkerDeps } from './wiring.ts';
export { entryPackageName, packageNameFor } from './package-naming.ts';
export { ENTRY_PACKAGE_STEPS } from './kinds/entry-package.ts';
