/**
 * `pnpm bench partner [--size 2GB] [--files 4] [--json]`: a sequencing run's files streamed by
 * the worker's partner job (download, SHA-256 check, Quilt hash, multipart upload, publish)
 * against a plain download-and-upload of the same bytes, in the same run, from the same simulated
 * partner file server into the same S3. Each side runs in its own process. Last line:
 * `{ "throughputRatio", "peakRssMb" }` (partner MB/s ÷ plain MB/s; the partner side's peak RSS).
 * Targets (reported, not asserted): ratio ≥ 0.8, RSS < 300 MB. The workload is checked (the
 * job succeeded and published every byte; the plain copy has every byte): otherwise INVALID and exit 1.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseByteSize, runFiles } from '@bp/benchling-sim/partner-events';
import { type ManagedProcess, startLocalAws } from '@bp/local-stack';
import { taskNodeOptions, workerNodeOptions } from '@bp/shared/node-options';
import { type BenchArgs, BenchInvalidError, printJson } from './report.ts';
import { startSimulator } from './simulator-process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const execFileAsync = promisify(execFile);

interface Side {
  ms: number;
  bytes: number;
  files: number;
  peakRssMb: number;
  valid: boolean;
  why?: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function side(mode: 'partner' | 'plain', env: Record<string, string>, job: unknown): Promise<Side> {
  const { stdout } = await execFileAsync(tsx, [path.join(root, 'test/bench/partner-runner.ts'), mode], {
    env: {
      ...process.env,
      BENCH_ENV: JSON.stringify(env),
      BENCH_JOB: JSON.stringify(job),
      // Both sides on the heap Node gives them in the worker's 2 GiB task; the worker's side with the
      // worker container's Node options too.
      NODE_OPTIONS: mode === 'partner' ? workerNodeOptions(process.env.NODE_OPTIONS) : taskNodeOptions(process.env.NODE_OPTIONS),
    },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Side;
}

export async function runPartnerBench(args: BenchArgs): Promise<void> {
  const totalBytes = parseByteSize(arg('size', '2GB'));
  const fileCount = Number(arg('files', '4'));
  const json = args.json;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-partner-'));
  const aws = await startLocalAws();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  let sim: ManagedProcess | undefined;
  try {
    const started = await startSimulator({ logFile: path.join(tmp, 'sim.log') });
    sim = started.proc;
    const simUrl = started.url;
    const env = await aws.provision({ prefix: 'bench-partner-' });
    const runId = `BENCH-${Date.now().toString(36)}`;
    log(`hashing the ${fileCount} files of a ${totalBytes} byte run (the event states their SHA-256)…`);
    const files = runFiles({ runId, filesBase: simUrl, fileCount, totalBytes });
    const job = { runId, files, filesBase: simUrl };
    log('measuring: partner job, then plain download + upload…');
    const partner = await side('partner', env, job);
    const plain = await side('plain', env, job);
    const mbs = (s: Side) => s.bytes / 1e6 / (s.ms / 1000);
    const problems = [partner, plain].filter((s) => !s.valid).map((s) => s.why);
    if (partner.bytes !== totalBytes || plain.bytes !== totalBytes || partner.files < 2)
      problems.push(`workload is not a ${totalBytes} byte run of several files`);
    if (!json) {
      console.log(`\npartner run: ${fileCount} files, ${totalBytes} bytes`);
      console.log('| side | seconds | MB/s | peak RSS |');
      console.log('|---|---|---|---|');
      for (const [name, s] of [
        ['partner job', partner],
        ['plain upload', plain],
      ] as const)
        console.log(`| ${name} | ${(s.ms / 1000).toFixed(1)} | ${mbs(s).toFixed(1)} | ${s.peakRssMb} MB |`);
    }
    if (problems.length > 0) throw new BenchInvalidError(problems.join('; '));
    if (json) printJson({ throughputRatio: Number((mbs(partner) / mbs(plain)).toFixed(3)), peakRssMb: partner.peakRssMb });
  } finally {
    await sim?.stop();
    await aws.stop();
  }
}
