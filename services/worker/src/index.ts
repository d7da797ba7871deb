export { workerConfigFromEnv, type WorkerConfig } from './config.ts';
export type { WorkerDeps } from './context.ts';
export { WorkerFleet } from './fleet.ts';
export { handleJob } from './handle-job.ts';
export { buildWorkerDeps } from './wiring.ts';
export { entryPackageName, packageNameFor } from './package-naming.ts';
