import { runCanvasBench } from './canvas.ts';
import { runE2eBench } from './e2e.ts';
import { runIngressBench } from './ingress.ts';
import { type BenchArgs, BenchInvalidError, parseBenchArgs } from './report.ts';
import { runTransferBench } from './transfer.ts';
import { runPartnerBench } from './partner.ts';

/**
 * `pnpm bench <name> [--json]`: runs one benchmark by name and prints its table; with `--json`
 * its figures as one JSON object on the last line. A bench whose workload did not answer as
 * expected prints INVALID and exits 3, never a ratio.
 */
const benches: Record<string, { about: string; run: (args: BenchArgs) => Promise<void> }> = {
  ingress: { about: 'verifying ingress vs a bare route making the same AWS calls (throughput, latency)', run: runIngressBench },
  transfer: {
    about: 'streaming export transfer vs a plain upload and the whole-ZIP method (MB/s, peak RSS), ~20 MB, ~1 GB, ~4 GB; --sizes, --json',
    run: runTransferBench,
  },
  e2e: { about: 'webhook → revision published for 50 small entries (p50, p95, state writes)', run: runE2eBench },
  canvas: { about: 'canvas click → canvas updated, through ingress and workers (p95; --json)', run: runCanvasBench },
  partner: {
    about: 'a sequencing run (default 2 GB, 4 files; --size, --files, --json) through the partner job vs a plain download + upload',
    run: runPartnerBench,
  },
};

const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(
    `usage: pnpm bench <name> [--json]\n${Object.entries(benches)
      .map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`)
      .join('\n')}\n`,
  );
  process.exit(name ? 2 : 0);
}
bench
  .run(parseBenchArgs(process.argv.slice(3)))
  .then(() => process.exit(0))
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    if (err instanceof BenchInvalidError) {
      process.stdout.write(`INVALID: ${err.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
