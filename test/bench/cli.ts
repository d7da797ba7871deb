import { runE2eBench } from './e2e.ts';
import { runIngressBench } from './ingress.ts';
import { runTransferBench } from './transfer.ts';
import { runPartnerBench } from './partner.ts';

/**
 * `pnpm bench <name>`: runs one benchmark by name and prints its table. New benchmarks
 * (transfer, e2e) register here.
 */
const benches: Record<string, { about: string; run: () => Promise<void> }> = {
  ingress: { about: 'verifying ingress vs a bare route making the same AWS calls (throughput, latency)', run: runIngressBench },
  transfer: { about: 'streaming export transfer vs a plain upload of the same bytes (MB/s, peak RSS), ~20 MB and ~1 GB', run: runTransferBench },
  partner: { about: 'a sequencing run (default 2 GB, 4 files; --size, --files, --json) through the partner job vs a plain download + upload', run: runPartnerBench },
  e2e: { about: 'webhook → revision published for 50 small entries (p50, p95)', run: runE2eBench },
};

const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: pnpm bench <name>\n${Object.entries(benches).map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`).join('\n')}\n`);
  process.exit(name ? 2 : 0);
}
bench
  .run()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
