/** The transfer bench's tables and its `--json` summary, from the runs of each side. */

/** One measured transfer; CPU in milliseconds of the transferring process, the S3 emulator and the simulator during it. */
export interface Run {
  ms: number;
  bytes: number;
  files: number;
  peakRssMb: number;
  cpuMs: number;
  s3CpuMs: number;
  simCpuMs: number;
  /** process.memoryUsage() in MB when the sampled RSS was highest (by the end of this transfer). */
  memAtPeakMb?: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  problems: string[];
}

/** One export size: per side, per repeat, the runs of one process (first, second). */
export interface Row {
  size: string;
  zipBytes: number;
  largestFile: number;
  files: number;
  runs: Record<'worker' | 'plain' | 'wholezip', Run[][]>;
}

/** The task's worker container memory (infra default `workerMemoryMiB`), for where the whole-ZIP method stops fitting. */
const WORKER_TASK_MIB = 2048;

function median(runs: Run[]): Run | undefined {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The median n-th transfer of the side's processes, and its processes' highest peak RSS. */
function side(r: Row, mode: keyof Row['runs'], n = 1): { run: Run; peakRssMb: number } | undefined {
  const runs = r.runs[mode];
  // With one transfer per process (BENCH_TRANSFER_RUNS_PER_PROCESS=1) the second is the first.
  const run = median(runs.map((p) => p[Math.min(n, p.length - 1)]!).filter(Boolean));
  if (!run) return undefined;
  return { run, peakRssMb: Math.max(...runs.map((p) => Math.max(...p.map((x) => x.peakRssMb)))) };
}

const mbs = (r: Run) => r.bytes / 1e6 / (r.ms / 1000);
const round = (x: number | undefined, digits = 3) =>
  x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The worker's wall time had the simulator's CPU been elsewhere, assuming the run is CPU-bound on
 * the machine's cores (then time scales with the CPU that has to share them): an estimate, shown
 * beside the measured ratio because the simulator serving the download is not part of the worker.
 */
function msWithoutSim(r: Run): number {
  const total = r.cpuMs + r.s3CpuMs + r.simCpuMs;
  return total > 0 && Number.isFinite(total) ? r.ms * ((total - r.simCpuMs) / total) : r.ms;
}

export function printReport(rows: Row[], cores: number): void {
  console.log('\ntransfer: worker pipeline vs plain upload of the same bytes vs the whole-ZIP method (same S3, same run)');
  console.log(
    'MB/s and ratios: the second transfer of each process (median of alternating runs: --repeat up to 100 MB, --repeat-large above),',
  );
  console.log('as in a running worker;');
  console.log(
    '"first" is the first transfer of a fresh process, which also loads and compiles the code. Peak RSS: the process, over both.\n',
  );
  console.log(
    '| export | files | bytes | worker MB/s | plain MB/s | ratio | ratio, first | ratio w/o simulator CPU (est.) ' +
      '| whole-ZIP MB/s | worker ÷ whole-ZIP | worker peak RSS | plain peak RSS | whole-ZIP peak RSS |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const w = side(r, 'worker')!;
    const p = side(r, 'plain')!;
    const z = side(r, 'wholezip');
    const wf = side(r, 'worker', 0)!;
    const pf = side(r, 'plain', 0)!;
    const noSim = (mbs(w.run) * (w.run.ms / msWithoutSim(w.run))) / mbs(p.run);
    console.log(
      `| ~${r.size} | ${r.files} | ${w.run.bytes} | ${mbs(w.run).toFixed(1)} | ${mbs(p.run).toFixed(1)} ` +
        `| ${(mbs(w.run) / mbs(p.run)).toFixed(2)} | ${(mbs(wf.run) / mbs(pf.run)).toFixed(2)} | ` +
        `${noSim.toFixed(2)} | ` +
        `${z ? mbs(z.run).toFixed(1) : 'not run'} | ${z ? (mbs(w.run) / mbs(z.run)).toFixed(2) : '–'} ` +
        `| ${w.peakRssMb} MB | ${p.peakRssMb} MB | ${z ? `${z.peakRssMb} MB` : '–'} |`,
    );
  }
  const cpu = (ms: number) => (ms / 1000).toFixed(2);
  console.log("\nCPU seconds during each (median) second transfer, and the machine's cores × wall time:\n");
  console.log('| export | side | wall s | transferring process | S3 emulator (fauxqs) | simulator | sum | cores × wall |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const mode of ['worker', 'plain', 'wholezip'] as const) {
      const s = side(r, mode);
      if (!s) continue;
      const run = s.run;
      console.log(
        `| ~${r.size} | ${mode} | ${cpu(run.ms)} | ${cpu(run.cpuMs)} | ${cpu(run.s3CpuMs)} | ` +
          `${cpu(run.simCpuMs)} | ${cpu(run.cpuMs + run.s3CpuMs + run.simCpuMs)} | ${cpu(run.ms * cores)} |`,
      );
    }
  }
  console.log("\nThe worker's highest peak at each size, and what its memory was made of then (MB, sampled every 50 ms):\n");
  console.log('| export | peak RSS | sampled RSS | V8 heap (used) | external (of which ArrayBuffers) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const highest = r.runs.worker.flat().reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    const m = highest.memAtPeakMb;
    const parts = m ? `${m.rss} | ${m.heapTotal} (${m.heapUsed}) | ${m.external} (${m.arrayBuffers})` : '– | – | –';
    console.log(`| ~${r.size} | ${highest.peakRssMb} | ${parts} |`);
  }
  wholeZipLimit(rows);
  console.log(
    '\ntargets: ratio ≥ 0.9 at 1 GB and 4 GB, ≥ 0.8 at 20 MB; worker peak RSS < 256 MB, ' +
      'at 4 GB within +10 % of 1 GB; worker ≥ 1.3 × whole-ZIP at 1 GB with ≤ 1/4 of its peak RSS',
  );
}

/** Where the whole-ZIP method stops fitting: it holds the ZIP and its largest file at once. */
function wholeZipLimit(rows: Row[]): void {
  const measured = rows.filter((r) => side(r, 'wholezip')).map((r) => ({ r, peak: side(r, 'wholezip')!.peakRssMb }));
  console.log('\nwhole-ZIP method (benchling-webhook v0.18): holds the whole ZIP, then each whole file, in memory.');
  for (const { r, peak } of measured)
    console.log(
      `  ~${r.size}: ZIP ${(r.zipBytes / 2 ** 20).toFixed(0)} MiB, ` +
        `largest file ${(r.largestFile / 2 ** 20).toFixed(0)} MiB → peak RSS ${peak} MB`,
    );
  const [a, b] = [measured[0], measured.at(-1)];
  if (a && b && b !== a) {
    // MB of peak RSS per MiB of ZIP (this export shape: largest file a quarter of the ZIP), from the two measured sizes.
    const perMib = (b.peak - a.peak) / ((b.r.zipBytes - a.r.zipBytes) / 2 ** 20);
    const failsFromMib = b.r.zipBytes / 2 ** 20 + (WORKER_TASK_MIB - b.peak) / perMib;
    console.log(
      `  ≈ ${perMib.toFixed(2)} MB of RSS per MiB of ZIP: ` +
        `in the worker's ${WORKER_TASK_MIB} MiB task it runs out of memory from a ZIP of about ` +
        `${failsFromMib.toFixed(0)} MiB;`,
    );
  }
  console.log(
    `  in Node 20 it cannot hold a ZIP over 4 GiB at all ` +
      `(buffer.constants.MAX_LENGTH); the worker's transfer stays flat ` +
      `(see peak RSS above).`,
  );
}

/**
 * The `--json` line: ratios worker ÷ plain upload, peak RSS of the worker's process, and worker ÷ whole-ZIP at 1 GB (null where not run).
 */
export function summary(rows: Row[]): Record<string, number | null> {
  const at = (size: string) => rows.find((r) => r.size === size);
  const ratio = (size: string) => {
    const r = at(size);
    return r ? round(mbs(side(r, 'worker')!.run) / mbs(side(r, 'plain')!.run)) : null;
  };
  const peak = (size: string) => {
    const r = at(size);
    return r ? side(r, 'worker')!.peakRssMb : null;
  };
  const r1 = at('1GB');
  const z1 = r1 ? side(r1, 'wholezip') : undefined;
  return {
    ratio20MB: ratio('20MB'),
    ratio1GB: ratio('1GB'),
    ratio4GB: ratio('4GB'),
    peakRssMb20MB: peak('20MB'),
    peakRssMb1GB: peak('1GB'),
    peakRssMb4GB: peak('4GB'),
    anchorRatio1GB: r1 && z1 ? round(mbs(side(r1, 'worker')!.run) / mbs(z1.run)) : null,
    anchorPeakRssMb1GB: z1 ? z1.peakRssMb : null,
  };
}
