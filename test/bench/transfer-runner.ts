/**
 * Transfers in a process of their own, so peak RSS is the worker's alone.
 * mode `worker`: the pipeline's transferExport (HTTP download → unzip → hash → multipart upload, the entries
 *   streamed from the download as it arrives).
 * mode `plain`: lib-storage uploads of the same files from local disk, no hashing, same part size and concurrency.
 * Runs BENCH_RUNS transfers one after the other (default 1), each under a prefix of its own: the
 * first pays for loading and compiling the code, later ones show a long-running worker. Prints one
 * JSON line per transfer: { ms, bytes, files, peakRssMb, cpuMs, s3CpuMs, simCpuMs } — peakRssMb
 * is the process's high-water mark by the end of that transfer; CPU in milliseconds during it, of
 * this process and of the processes in BENCH_PIDS ({ s3, sim }).
 */
import { readFileSync, readdirSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { awsOptionsFromEnv, createAwsClients, createLogger } from '@bp/shared';
import { DEFAULT_ZIP_LIMITS, transferExport } from '@bp/worker/transfer/index';
import { cpuMillis } from './process-cpu.ts';

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const [mode, source, prefix] = process.argv.slice(2);
const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
const pids = JSON.parse(process.env.BENCH_PIDS ?? '{}') as { s3?: number; sim?: number };
const runs = Number(process.env.BENCH_RUNS ?? 1);
const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 120_000, maxAttempts: 3 }));
const logger = createLogger({ service: 'bench', level: process.env.BENCH_TRANSFER_LOG_LEVEL ?? 'silent' });

async function transferOnce(to: string): Promise<{ bytes: number; files: number }> {
  if (mode === 'worker') {
    const out = await transferExport(
      { s3: aws.s3, logger },
      { downloadUrl: source!, bucket: env.PACKAGE_BUCKET!, prefix: to, limits: DEFAULT_ZIP_LIMITS, tmpDir: path.join(env.BENCH_TMP!, `w-${process.pid}`) },
    );
    return { bytes: out.reduce((n, f) => n + f.size, 0), files: out.length };
  }
  // Same shape of work as the transfer: small files 4 at a time, large ones alone with 4 parts in flight.
  const all = walk(source!);
  const small = all.filter((f) => statSync(f).size <= 8 * 1024 * 1024);
  const large = all.filter((f) => statSync(f).size > 8 * 1024 * 1024);
  let bytes = 0;
  let files = 0;
  const put = async (f: string) => {
    const size = statSync(f).size;
    await new Upload({ client: aws.s3, params: { Bucket: env.PACKAGE_BUCKET!, Key: `${to}${path.relative(source!, f)}`, Body: createReadStream(f) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done();
    bytes += size;
    files++;
  };
  for (let i = 0; i < small.length; i += 4) await Promise.all(small.slice(i, i + 4).map(put));
  for (const f of large) await put(f);
  return { bytes, files };
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
for (let i = 0; i < runs; i++) {
  const before = { own: cpuMs(), s3: cpuMillis(pids.s3), sim: cpuMillis(pids.sim) };
  const started = performance.now();
  const { bytes, files } = await transferOnce(`${prefix}${i}/`);
  const ms = performance.now() - started;
  const line = { ms, bytes, files, peakRssMb: peakRssMb(), cpuMs: cpuMs() - before.own, s3CpuMs: cpuMillis(pids.s3) - before.s3, simCpuMs: cpuMillis(pids.sim) - before.sim };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
aws.destroy();
process.exit(0);
