/** V8's collector as `--expose-gc` exposes it; a minor collection is a scavenge of the young generation. */
export type ExposedGc = (o: { type: 'minor' }) => void;

/**
 * Most download bytes between two scavenges. The parts in flight hold at most 5 × 8 MiB; this
 * bounds the dead chunks beside them to about as much as one part.
 */
export const DEAD_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Returns a function told how many bytes each download chunk had, which runs a minor collection
 * every `every` bytes when `gc` is given, and does nothing when it is not.
 *
 * Why: Node's HTTP client hands each chunk of a body over in a fresh buffer of its own, which
 * the transfer copies into a pooled part buffer and drops. Such a buffer lives outside V8's heap,
 * so it does not fill the young generation, and V8 scavenges for it only once the young
 * generation's buffers reach 2 × its default maximum semi-space (V8 11, `Heap::
 * AllocateExternalBackingStore`: 32 MiB here, whatever `--max-semi-space-size` says). Until then
 * up to 32 MiB of dead chunks sit beside the live parts, and how much of it there is when the
 * process peaks is chance: the worker's peak RSS at a 4 GB export varied from 193 to 217 MB, and
 * ArrayBuffers made up 38–78 MB of it (docs/benchmarks.md). A forced scavenge took 0.4–0.6 ms in
 * a fresh process; in the transfer bench, on the machine's heap, the worker used 2.8–3.3 CPU-s per
 * GB with it, and its 1 GB peak fell (median of nine processes 191 → 178 MB; the 4 GB one stayed at
 * 197). On its task's heap the worker uses 4.3–5.7 CPU-s per GB (node-options.ts); there, with
 * 4 MiB semi-spaces, it used the same with and without it (5.50 and 5.45 at 1 GB, one run each;
 * docs/benchmarks.md, 2026-12-03 fifth session).
 */
export function deadChunkCollector(gc: ExposedGc | undefined, every = DEAD_CHUNK_BYTES): (bytes: number) => void {
  if (!gc) return () => undefined;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    gc({ type: 'minor' });
  };
}

/**
 * The process's collector of dead download chunks: every download counts its chunks here, so
 * the bytes between two scavenges are bounded for the whole process, however many downloads run.
 * Active where Node runs with `--expose-gc` (WORKER_NODE_OPTIONS, wherever the worker runs);
 * without it, as in the unit tests, it does nothing.
 */
export const collectDeadChunks = deadChunkCollector((globalThis as { gc?: ExposedGc }).gc);
