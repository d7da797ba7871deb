/**
 * One measured transfer in a process of its own, so its peak RSS is the worker's alone.
 * mode `worker`: the pipeline's transferExport (HTTP download → unzip → hash → multipart upload, the entries
 *   streamed from the download as it arrives).
 * mode `plain`: lib-storage uploads of the same files from local disk, no hashing, same part size and concurrency.
 * Prints one JSON line: { ms, bytes, files, peakRssMb, cpuMs } (cpuMs: this process's user + system CPU).
 */
import { readFileSync, readdirSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { awsOptionsFromEnv, createAwsClients, createLogger } from '@bp/shared';
import { DEFAULT_ZIP_LIMITS, transferExport } from '@bp/worker/transfer/index';

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
const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 120_000, maxAttempts: 3 }));
const logger = createLogger({ service: 'bench', level: process.env.BENCH_TRANSFER_LOG_LEVEL ?? 'silent' });
const started = performance.now();
let bytes = 0;
let files = 0;
if (mode === 'worker') {
  const out = await transferExport(
    { s3: aws.s3, logger },
    { downloadUrl: source!, bucket: env.PACKAGE_BUCKET!, prefix: prefix!, limits: DEFAULT_ZIP_LIMITS, tmpDir: path.join(env.BENCH_TMP!, `w-${process.pid}`) },
  );
  bytes = out.reduce((n, f) => n + f.size, 0);
  files = out.length;
} else {
  // Same shape of work as the transfer: small files 4 at a time, large ones alone with 4 parts in flight.
  const all = walk(source!);
  const small = all.filter((f) => statSync(f).size <= 8 * 1024 * 1024);
  const large = all.filter((f) => statSync(f).size > 8 * 1024 * 1024);
  const put = async (f: string) => {
    const size = statSync(f).size;
    await new Upload({ client: aws.s3, params: { Bucket: env.PACKAGE_BUCKET!, Key: `${prefix}${path.relative(source!, f)}`, Body: createReadStream(f) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done();
    bytes += size;
    files++;
  };
  for (let i = 0; i < small.length; i += 4) await Promise.all(small.slice(i, i + 4).map(put));
  for (const f of large) await put(f);
}
const ms = performance.now() - started;
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ ms, bytes, files, peakRssMb: peakRssMb(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
aws.destroy();
process.exit(0);
