/**
 * Node's options for the worker's process wherever it runs: the container's command (infra's
 * SERVICE_COMMANDS, held equal to the Dockerfile's CMD by a test), the local stack, the fault
 * tests' worker processes and the transfer benches' worker side.
 *
 * `--max-semi-space-size=8`: V8's young generation at most 2 × 8 MiB, what Node gives the worker in
 * its default 2 GiB task (see `taskHeapOptions`), and no more in a larger one. The worker streams
 * bytes through a fixed pool of part buffers, and nearly all it allocates on the way (chunk
 * wrappers, request objects) dies young; a larger young generation only lets that garbage ride
 * longer, and how far it has grown when the process peaks is chance (on the machine's heap, 16 MiB
 * semi-spaces peaked at 210-230 MB on a 4 GB export, 4 MiB at 190-199; docs/benchmarks.md, third
 * session of 2026-12-03). On the task's 1 GiB old generation 4 MiB costs CPU instead, since what
 * a smaller young generation cannot hold is promoted and marked: the worker's process used 5.1-5.6
 * CPU-s per GB at 1 GB (three runs) and 5.1 at 4 GB (one run) with 4 MiB, 4.8-5.7 and 4.3-4.6 with
 * 8 MiB (three runs), and peaked at 193-199 MB against 202-209 (docs/benchmarks.md, 2026-12-04).
 *
 * `--expose-gc`: the transfer runs a minor collection every 8 MiB of download, so that the chunks
 * Node's HTTP client hands over, each in a buffer of its own and dead once copied into a part,
 * do not pile up to 32 MiB before V8 scavenges for them (services/worker/src/transfer/dead-chunks.ts).
 */
export const WORKER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8', '--expose-gc'];

/** The worker task's memory unless a deployment says otherwise (infra's `workerMemoryMiB`). */
export const DEFAULT_WORKER_MEMORY_MIB = 2048;

/**
 * The V8 old-generation limit Node gives a process whose memory is limited to `memoryMiB`: half
 * of it, at most 2 GiB (4 GiB above 16 GiB of memory: V8's --huge-max-old-generation-size). Node 20
 * sizes V8's heap from the cgroup's memory limit when there is one: measured on Node 20.20.2, a
 * bare `node`'s heap_size_limit is 1,048 MiB in a 2 GiB memory cgroup (1,024 old + 24 young),
 * 2,096 in a 4 GiB and in an 8 GiB one, 4,108 with the worker's options unlimited on a 24 GB machine.
 * The container's command leaves it to Node, which reads the task's limit.
 */
export function oldSpaceMiBFor(memoryMiB: number): number {
  return Math.min(Math.floor(memoryMiB / 2), memoryMiB > 16 * 1024 ? 4096 : 2048);
}

/**
 * The semi-space size V8 gives an old generation of `oldSpaceMiB`: 1/128 of it, 1/256 up to
 * 256 MiB, at most 16 MiB (V8 11's Heap::YoungGenerationSizeFromOldGenerationSize). Measured on
 * Node 20.20.2, a bare `node`'s heap_size_limit in a memory cgroup of 512 MiB, 1, 2 and 4 GiB:
 * 259, 524, 1,048 and 2,096 MiB (old generation + 3 × the semi-space: 1, 4, 8, 16 MiB). Outside a
 * cgroup, `--max-old-space-size=1024` alone gives 1,072: 16 MiB semi-spaces, from the machine's memory.
 */
export function semiSpaceMiBFor(oldSpaceMiB: number): number {
  return Math.min(16, Math.max(1, Math.floor(oldSpaceMiB / (oldSpaceMiB <= 256 ? 256 : 128))));
}

/**
 * Node options that give a process outside a container the heap Node gives it inside a task of
 * `memoryMiB` (by default the worker's): the old and young generations' limits. The transfer
 * benches run every side with these, so that the worker, the plain upload and the whole-ZIP method
 * are measured on the heap each would have in the same task.
 */
export function taskHeapOptions(memoryMiB: number = DEFAULT_WORKER_MEMORY_MIB): string[] {
  const oldSpace = oldSpaceMiBFor(memoryMiB);
  return [`--max-old-space-size=${oldSpace}`, `--max-semi-space-size=${semiSpaceMiBFor(oldSpace)}`];
}

/**
 * NODE_OPTIONS for a process started outside a container that should have the heap of the
 * worker's default task (the transfer and partner benches' other sides): `existing`, then
 * `taskHeapOptions()`, which come after it and so win.
 */
export function taskNodeOptions(existing?: string): string {
  return [existing, ...taskHeapOptions()].filter(Boolean).join(' ');
}

/**
 * NODE_OPTIONS for a worker started through tsx rather than the container's `node` command (the
 * local stack, the fault tests, the benches' worker side): `existing`, then the heap its default
 * task would give it (`taskHeapOptions`), then the worker's own (whose semi-space cap wins).
 *
 * Why the heap limit: outside a container Node sizes the heap from the machine's memory, and V8
 * lets the old generation grow further between mark-compacts the larger its limit (up to 4 × the
 * live heap from a 2 GiB limit up, 1.6 × at the task's 1 GiB; V8's MemoryController::
 * MaxGrowingFactor). On the benches' 24 GB machine the worker's heap grew to 50–67 MB on a 4 GB
 * export and its peak RSS with it, where its task keeps it near 31 MB and mark-compacts more often
 * instead, at about 2.3 CPU-s more per GB transferred (docs/benchmarks.md, fifth session of
 * 2026-12-03). Measured here as it runs there. The heap's flags come after `existing`, so they win.
 */
export function workerNodeOptions(existing?: string): string {
  return [taskNodeOptions(existing), ...WORKER_NODE_OPTIONS].join(' ');
}
