/**
 * `bash scripts/bundle.sh [outDir]`: bundles the ingress and worker for their container images.
 * Prints one line per service: size, bundled and copied package counts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleServices } from './build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist'));

bundleServices({ root, outDir }).then(
  (reports) => {
    for (const r of reports) {
      process.stdout.write(
        `${r.service}: ${path.relative(process.cwd(), r.outfile)} ${(r.bytes / 1024 / 1024).toFixed(1)} MiB, ` +
          `${r.bundledPackages.length} packages bundled, native: ${r.copiedPackages.join(', ') || 'none'}\n`,
      );
    }
  },
  (err: unknown) => {
    process.stderr.write(`bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
