/**
 * Transfers in a process of their own, so peak RSS is that side's alone.
 * mode `worker`: the pipeline's transferExport (HTTP download → unzip → hash → multipart writer on
 *   the shared part pool, entries streamed from the download as it arrives).
 * mode `plain`: lib-storage uploads of the same files from local disk, no hashing, same part size
 *   and concurrency: the S3 ingest the worker is measured against.
 * mode `wholezip`: the method of the integration we replace (quiltdata/benchling-webhook v0.18,
 *   `entry_packager._process_export`): download the whole ZIP into memory, then for each file read
 *   it whole into memory and PutObject it, one file after the other. No hashing, as there. (Files
 *   over 8 MiB go up in parts from that same Buffer: the S3 emulator refuses requests over 11 MiB.)
 * Runs BENCH_RUNS transfers one after the other (default 1), each under a prefix of its own: the
 * first pays for loading and compiling the code, later ones show a long-running worker. Prints one
 * JSON line per transfer: { ms, bytes, files, peakRssMb, cpuMs, s3CpuMs, simCpuMs, problems } —
 * peakRssMb is the process's high-water mark by the end of that transfer; CPU in milliseconds
 * during it, of this process and of the processes in BENCH_PIDS ({ s3, sim }).
 * After each transfer, untimed, what it stored is checked against BENCH_EXPECTED (a JSON file of
 * [path, { size, hash }] pairs): every key and size, the hashes the worker reported, and with
 * BENCH_HASH_BYTES=1 the hash of the bytes read back from S3. `problems` lists every difference
 * (empty when exact); then the objects are deleted, since the S3 emulator holds them in memory.
 */
import { createReadStream, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import http from 'node:http';
import path from 'node:path';
import yauzl from 'yauzl-promise';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsOptionsFromEnv, createAwsClients, createLogger } from '@bp/shared';
import { DEFAULT_ZIP_LIMITS, transferExport } from '@bp/worker/transfer/index';
import type { ChunkedHash } from '@bp/shared/quilt/hash';
import { cpuMillis } from './process-cpu.ts';
import { type Expected, type ExpectedFile, checkStored, compareManifest, deletePrefix } from './transfer-workload.ts';

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
const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 300_000, maxAttempts: 3 }));
const logger = createLogger({ service: 'bench', level: process.env.BENCH_TRANSFER_LOG_LEVEL ?? 'silent' });
const Bucket = env.PACKAGE_BUCKET!;
const expected: Expected = new Map(JSON.parse(readFileSync(process.env.BENCH_EXPECTED!, 'utf8')) as Array<[string, ExpectedFile]>);

type Manifest = Array<{ logicalKey: string; size: number; hash: ChunkedHash }>;

async function transferOnce(to: string): Promise<{ bytes: number; files: number; manifest?: Manifest }> {
  if (mode === 'worker') {
    const out = await transferExport(
      { s3: aws.s3, logger },
      {
        downloadUrl: source!,
        bucket: Bucket,
        prefix: to,
        limits: DEFAULT_ZIP_LIMITS,
        tmpDir: path.join(env.BENCH_TMP!, `w-${process.pid}`),
      },
    );
    return {
      bytes: out.reduce((n, f) => n + f.size, 0),
      files: out.length,
      manifest: out.map((f) => ({ logicalKey: f.logicalKey, size: f.size, hash: f.hash })),
    };
  }
  if (mode === 'wholezip') return wholeZip(to);
  // Same shape of work as the transfer: small files 4 at a time, large ones alone with 4 parts in flight.
  const all = walk(source!);
  const small = all.filter((f) => statSync(f).size <= PART_BYTES);
  const large = all.filter((f) => statSync(f).size > PART_BYTES);
  let bytes = 0;
  let files = 0;
  const put = async (f: string) => {
    const size = statSync(f).size;
    const Key = `${to}${path.relative(source!, f)}`;
    await new Upload({
      client: aws.s3,
      params: { Bucket, Key, Body: createReadStream(f) },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
    }).done();
    bytes += size;
    files++;
  };
  for (let i = 0; i < small.length; i += 4) await Promise.all(small.slice(i, i + 4).map(put));
  for (const f of large) await put(f);
  return { bytes, files };
}

/** benchling-webhook v0.18's method: the whole ZIP in memory, then each file whole in memory, one PutObject each. */
async function wholeZip(to: string): Promise<{ bytes: number; files: number }> {
  const zipBuffer = await downloadToMemory(source!);
  const zip = await yauzl.fromBuffer(zipBuffer);
  let bytes = 0;
  let files = 0;
  try {
    for await (const e of zip) {
      if (e.filename.endsWith('/')) continue;
      const chunks: Buffer[] = [];
      for await (const c of await e.openReadStream()) chunks.push(c as Buffer);
      const content = Buffer.concat(chunks, e.uncompressedSize);
      const Key = `${to}${e.filename}`;
      // fauxqs takes at most 11 MiB per request (S3: 5 GB per PutObject); larger files go up in parts from the same in-memory Buffer.
      if (content.length <= PART_BYTES) await aws.s3.send(new PutObjectCommand({ Bucket, Key, Body: content }));
      else await new Upload({ client: aws.s3, params: { Bucket, Key, Body: content }, partSize: PART_BYTES, queueSize: QUEUE_SIZE }).done();
      bytes += content.length;
      files++;
    }
  } finally {
    await zip.close();
  }
  return { bytes, files };
}

/** The response body in one Buffer (sized by Content-Length, as a BytesIO ends up). */
function downloadToMemory(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        if (res.statusCode !== 200) {
          res.destroy();
          reject(new Error(`whole-ZIP download: HTTP ${res.statusCode}`));
          return;
        }
        const length = Number(res.headers['content-length']);
        // Node cannot hold more than buffer.constants.MAX_LENGTH (4 GiB on Node 20) in one Buffer: allocUnsafe throws then.
        const buf = Buffer.allocUnsafe(length);
        let at = 0;
        res.on('data', (c: Buffer) => {
          c.copy(buf, at);
          at += c.length;
        });
        res.on('end', () => (at === length ? resolve(buf) : reject(new Error(`whole-ZIP download: ${at} of ${length} bytes`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * What the memory was made of when RSS was highest (VmHWM is the exact peak, this shows its parts):
 * RSS every 50 ms, and the whole process.memoryUsage() (dearer: heap statistics) when it is a new
 * high. Every 10 ms cost a 20 MB transfer ~2 % of its CPU (profiled), more on the worker's side.
 */
let atPeak: NodeJS.MemoryUsage | undefined;
const sampler = setInterval(() => {
  if (!atPeak || process.memoryUsage.rss() > atPeak.rss) atPeak = process.memoryUsage();
}, 50);
sampler.unref();
const mb = (n: number) => Math.round(n / 2 ** 20);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
/** BENCH_PROFILE_DIR: a V8 CPU profile of each timed transfer, started and stopped around it. */
const profileDir = process.env.BENCH_PROFILE_DIR;
const inspector = profileDir ? new Session() : undefined;
if (inspector && profileDir) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  mkdirSync(profileDir, { recursive: true });
}
for (let i = 0; i < runs; i++) {
  await inspector?.post('Profiler.start');
  const before = { own: cpuMs(), s3: cpuMillis(pids.s3), sim: cpuMillis(pids.sim) };
  const started = performance.now();
  const to = `${prefix}${i}/`;
  const { bytes, files, manifest } = await transferOnce(to);
  const ms = performance.now() - started;
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(path.join(profileDir!, `${process.pid}-${i}.cpuprofile`), JSON.stringify(profile));
  }
  const measured = {
    ms,
    bytes,
    files,
    peakRssMb: peakRssMb(),
    memAtPeakMb: atPeak && {
      rss: mb(atPeak.rss),
      heapTotal: mb(atPeak.heapTotal),
      heapUsed: mb(atPeak.heapUsed),
      external: mb(atPeak.external),
      arrayBuffers: mb(atPeak.arrayBuffers),
    },
    cpuMs: cpuMs() - before.own,
    s3CpuMs: cpuMillis(pids.s3) - before.s3,
    simCpuMs: cpuMillis(pids.sim) - before.sim,
  };
  const problems = [
    ...(manifest ? compareManifest(expected, manifest).map((p) => `${mode} reported ${p}`) : []),
    ...(await checkStored(aws.s3, Bucket, to, expected, process.env.BENCH_HASH_BYTES === '1')),
  ];
  await deletePrefix(aws.s3, Bucket, to);
  process.stdout.write(`${JSON.stringify({ ...measured, problems })}\n`);
}
aws.destroy();
process.exit(0);
