/**
 * Transfers in a process of their own, so peak RSS is the worker's alone.
 * mode `worker`: the pipeline's transferExport (HTTP download → unzip → hash → multipart upload, the entries
 *   streamed from the download as it arrives).
 * mode `plain`: lib-storage uploads of the same files from local disk, no hashing, same part size and concurrency.
 * mode `pooled`: the same files through S3's multipart API directly, each part copied into one of
 *   queueSize + 1 reused 8 MiB buffers rather than a fresh one per part as lib-storage does. Not the
 *   product: a yardstick for how much of the RSS growth is lib-storage's (BENCH_TRANSFER_POOLED=1).
 * Runs BENCH_RUNS transfers one after the other (default 1), each under a prefix of its own: the
 * first pays for loading and compiling the code, later ones show a long-running worker. Prints one
 * JSON line per transfer: { ms, bytes, files, peakRssMb, cpuMs, s3CpuMs, simCpuMs } — peakRssMb
 * is the process's high-water mark by the end of that transfer; CPU in milliseconds during it, of
 * this process and of the processes in BENCH_PIDS ({ s3, sim }).
 */
import { readFileSync, readdirSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
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
/** The worker's defaults, so the plain uploads have the same shape. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
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
  const small = all.filter((f) => statSync(f).size <= PART_BYTES);
  const large = all.filter((f) => statSync(f).size > PART_BYTES);
  let bytes = 0;
  let files = 0;
  const put = async (f: string) => {
    const size = statSync(f).size;
    const Key = `${to}${path.relative(source!, f)}`;
    if (mode === 'pooled') await pooledUpload(f, size, Key);
    else await new Upload({ client: aws.s3, params: { Bucket: env.PACKAGE_BUCKET!, Key, Body: createReadStream(f) }, partSize: PART_BYTES, queueSize: QUEUE_SIZE }).done();
    bytes += size;
    files++;
  };
  for (let i = 0; i < small.length; i += 4) await Promise.all(small.slice(i, i + 4).map(put));
  for (const f of large) await put(f);
  return { bytes, files };
}

/** The `pooled` mode's part buffers, reused from file to file; allocated on first use. */
const pool: Buffer[] = [];
let allocated = 0;
const waiting: Array<(b: Buffer) => void> = [];
function takeBuffer(): Promise<Buffer> {
  const free = pool.pop() ?? (allocated < QUEUE_SIZE + 1 ? (allocated++, Buffer.allocUnsafe(PART_BYTES)) : undefined);
  return free ? Promise.resolve(free) : new Promise((resolve) => waiting.push(resolve));
}
function giveBack(b: Buffer): void {
  const next = waiting.shift();
  if (next) next(b);
  else pool.push(b);
}

/** One file through the multipart API, its parts copied into pooled buffers (a file of one part is one PUT). */
async function pooledUpload(file: string, size: number, Key: string): Promise<void> {
  const Bucket = env.PACKAGE_BUCKET!;
  if (size <= PART_BYTES) {
    const pieces: Buffer[] = [];
    for await (const piece of createReadStream(file)) pieces.push(piece as Buffer);
    await aws.s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.concat(pieces) }));
    return;
  }
  const { UploadId } = await aws.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const parts: Array<{ PartNumber: number; ETag: string }> = [];
  const inFlight = new Set<Promise<unknown>>();
  let failed: unknown;
  const send = (buf: Buffer, length: number, PartNumber: number) => {
    const p = aws.s3
      .send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: buf.subarray(0, length) }))
      .then(
        (r) => {
          parts.push({ PartNumber, ETag: r.ETag! });
        },
        (err: unknown) => {
          failed ??= err;
        },
      )
      .finally(() => {
        giveBack(buf);
        inFlight.delete(p);
      });
    inFlight.add(p);
  };
  let buf = await takeBuffer();
  let filled = 0;
  let partNumber = 1;
  for await (const piece of createReadStream(file)) {
    for (let at = 0; at < (piece as Buffer).length; ) {
      const n = Math.min(PART_BYTES - filled, (piece as Buffer).length - at);
      (piece as Buffer).copy(buf, filled, at, at + n);
      filled += n;
      at += n;
      if (filled === PART_BYTES) {
        send(buf, filled, partNumber++);
        buf = await takeBuffer();
        filled = 0;
      }
    }
  }
  if (filled > 0) send(buf, filled, partNumber++);
  else giveBack(buf);
  await Promise.all(inFlight);
  if (failed !== undefined) throw failed;
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  await aws.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
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
