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

/** The worker task's memory unless a deployment says otherwise (infra's `workerMemoryMiB`). */
export const DEFAULT_WORKER_MEMORY_MIB = 2048;

/**
 * The V8 old-generation limit Node gives a process whose memory is limited to `memoryMiB`: half
 * of it. Node 20 sizes V8's heap from the cgroup's memory limit when there is one (measured on
 * Node 20.20.2 with the worker's options: heap_size_limit 1,036 MB in a 2 GiB memory cgroup, the
 * same as with `--max-old-space-size=1024`; 2,060 MB in a 4 GiB one; 4,108 MB unlimited on a 24 GB
 * machine). The container's command leaves it to Node, which reads the task's limit.
 */
export function oldSpaceMiBFor(memoryMiB: number): number {
  return Math.floor(memoryMiB / 2);
}

/**
 * NODE_OPTIONS for a worker started through tsx rather than the container's `node` command (the
 * local stack, the fault tests, the benches' worker side): `existing`, then the worker's, then the
 * heap limit its default task would give it.
 *
 * Why the heap limit: outside a container Node sizes the heap from the machine's memory, and V8
 * lets the old generation grow further between mark-compacts the larger its limit (up to 4 × the
 * live heap from a 2 GiB limit up, 1.6 × at the task's 1 GiB; V8's MemoryController::
 * MaxGrowingFactor). On the benches' 24 GB machine the worker's heap grew to 50–67 MB on a 4 GB
 * export and its peak RSS with it, where its task keeps it near 31 MB and mark-compacts more often
 * instead, at about 2.3 CPU-s more per GB transferred (docs/benchmarks.md, fifth session of
 * 2026-12-03). Measured here as it runs there. The flag comes last, so it wins over one in `existing`.
 */
export function workerNodeOptions(existing?: string): string {
  return [existing, ...WORKER_NODE_OPTIONS, `--max-old-space-size=${oldSpaceMiBFor(DEFAULT_WORKER_MEMORY_MIB)}`].filter(Boolean).join(' ');
}
