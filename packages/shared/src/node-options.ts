/**
 * Node's options for the worker's process wherever it runs: the container's command (infra's
 * SERVICE_COMMANDS, held equal to the Dockerfile's CMD by a test), the local stack, the fault
 * tests' worker processes and the transfer benches' worker side.
 *
 * `--max-semi-space-size=4`: V8's young generation stays at 2 × 4 MiB instead of growing to
 * 2 × 16 MiB. The worker streams bytes through a fixed pool of part buffers, and nearly all it
 * allocates on the way (chunk wrappers, request objects) dies young; a large young generation only
 * lets that garbage ride longer, and how far it has grown when the process peaks is chance.
 * Measured on a 4 GB export (transfer bench runner, three processes each way, 2026-12-03): peak RSS
 * 210-230 MB with V8's default and 190-199 MB with this, no slower; at 1 GB 208-210 against 189-203
 * (docs/benchmarks.md, third session of 2026-12-03).
 *
 * `--expose-gc`: the transfer runs a minor collection every 8 MiB of download, so that the chunks
 * Node's HTTP client hands over, each in a buffer of its own and dead once copied into a part,
 * do not pile up to 32 MiB before V8 scavenges for them (services/worker/src/transfer/dead-chunks.ts).
 */
export const WORKER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc'];

/** NODE_OPTIONS for a worker started through tsx rather than the container's `node` command: `existing`, then the worker's. */
export function workerNodeOptions(existing?: string): string {
  return [existing, ...WORKER_NODE_OPTIONS].filter(Boolean).join(' ');
}
