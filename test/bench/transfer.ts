/**
 * `pnpm bench transfer`: the worker's streaming transfer (download → unzip → hash → multipart
 * upload) against a plain upload of the same bytes to the same S3, in one run, for a
 * ~20 MB and a ~1 GB export. Each side runs in its own process so peak RSS is its own.
 * Targets (reported, not asserted): throughput ≥ 0.8 × plain; peak RSS < 300 MB at 1 GB and no
 * more than 50 MB above the 20 MB run. BENCH_TRANSFER_POOLED=1 adds a yardstick: the plain upload
 * with reused part buffers instead of lib-storage (see transfer-runner.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl-promise';
import { freePort, startLocalAws, startProcess, waitUntil } from '@bp/local-stack';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const execFileAsync = promisify(execFile);

/** One measured transfer; CPU in milliseconds of the transferring process, the S3 emulator and the simulator during it. */
interface Run { ms: number; bytes: number; files: number; peakRssMb: number; cpuMs: number; s3CpuMs: number; simCpuMs: number }

async function exportUrl(sim: string, entryId: string): Promise<string> {
  const tok = await (await fetch(`${sim}/api/v2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('sim-client:sim-secret').toString('base64')}` },
    body: 'grant_type=client_credentials',
  })).json() as { access_token: string };
  const auth = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
  const { taskId } = await (await fetch(`${sim}/api/v2/exports`, { method: 'POST', headers: auth, body: JSON.stringify({ id: entryId, format: 'pdf' }) })).json() as { taskId: string };
  for (;;) {
    const t = await (await fetch(`${sim}/api/v2/tasks/${taskId}`, { headers: auth })).json() as { status: string; response?: { downloadURL: string } };
    if (t.status === 'SUCCEEDED') return t.response!.downloadURL;
    if (t.status === 'FAILED') throw new Error(`export of ${entryId} failed`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function extract(url: string, dir: string): Promise<void> {
  const zipPath = `${dir}.zip`;
  const res = await fetch(url);
  await pipeline(res.body as unknown as NodeJS.ReadableStream, createWriteStream(zipPath));
  const zip = await yauzl.open(zipPath);
  for await (const e of zip) {
    if (e.filename.endsWith('/')) continue;
    const out = path.join(dir, e.filename);
    mkdirSync(path.dirname(out), { recursive: true });
    await pipeline(await e.openReadStream(), createWriteStream(out));
  }
  await zip.close();
  rmSync(zipPath);
}

/** Transfers per process: the first pays for loading and compiling the code, the second is a running worker's. */
const RUNS_PER_PROCESS = 2;

/** Runs one side in its own process. Async, so this process's idle HTTP connections keep being managed meanwhile. */
async function measure(mode: 'worker' | 'plain' | 'pooled', source: string, prefix: string, env: Record<string, string>, pids: { s3?: number; sim?: number }): Promise<Run[]> {
  const { stdout } = await execFileAsync(tsx, [path.join(root, 'test/bench/transfer-runner.ts'), mode, source, prefix], {
    env: { ...process.env, BENCH_ENV: JSON.stringify(env), BENCH_PIDS: JSON.stringify(pids), BENCH_RUNS: String(RUNS_PER_PROCESS) },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const lines = stdout.trim().split('\n');
  // With BENCH_TRANSFER_LOG_LEVEL the runner's log lines come first: pass them on.
  if (process.env.BENCH_TRANSFER_LOG_LEVEL) process.stderr.write(lines.slice(0, -RUNS_PER_PROCESS).map((l) => `  ${l}\n`).join(''));
  return lines.slice(-RUNS_PER_PROCESS).map((l) => JSON.parse(l) as Run);
}

function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runTransferBench(): Promise<void> {
  const sizes = (process.env.BENCH_TRANSFER_SIZES_MB ?? '20,1000').split(',').map(Number);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-transfer-'));
  const aws = await startLocalAws();
  const simPort = await freePort();
  const sim = startProcess({
    name: 'sim', command: tsx,
    args: [path.join(root, 'packages/benchling-sim/src/cli.ts'), 'serve', '--port', String(simPort), '--export-delay-ms', '0', '--rate-limit', '100000/30'],
    logFile: path.join(tmp, 'sim.log'),
  });
  const simUrl = `http://127.0.0.1:${simPort}`;
  try {
    await waitUntil('simulator', async () => { if (!(await fetch(`${simUrl}/api/v1/apps/appdef_sim/jwks`)).ok) throw new Error('not yet'); }, 30_000, sim);
    const env = { ...(await aws.provision({ prefix: 'bench-transfer-' })), BENCH_TMP: tmp };
    const pids = { s3: aws.processes[0]?.child.pid, sim: sim.child.pid };
    const rows: Array<{ size: number; worker: Run; plain: Run; workerFirst: Run; plainFirst: Run; pooled?: Run; pooledFirst?: Run }> = [];
    // A yardstick, not the product: plain uploads whose parts go through reused buffers instead of lib-storage's fresh ones.
    const withPooled = process.env.BENCH_TRANSFER_POOLED === '1';
    for (const size of sizes) {
      process.stderr.write(`preparing a ~${size} MB export…\n`);
      const url = await exportUrl(simUrl, `etr_big${size}mb_bench`);
      const dir = path.join(tmp, `files-${size}`);
      await extract(url, dir);
      process.stderr.write(`measuring ${size} MB: worker transfer, then plain upload…\n`);
      // Sub-second runs are noisy: small exports take the median of several alternating runs.
      const repeat = size <= 100 ? Number(process.env.BENCH_TRANSFER_REPEAT ?? 5) : 1;
      const workers: Run[][] = [];
      const plains: Run[][] = [];
      const pooleds: Run[][] = [];
      for (let i = 0; i < repeat; i++) {
        workers.push(await measure('worker', url, `bench/worker-${size}-${i}/`, env, pids));
        plains.push(await measure('plain', dir, `bench/plain-${size}-${i}/`, env, pids));
        if (withPooled) pooleds.push(await measure('pooled', dir, `bench/pooled-${size}-${i}/`, env, pids));
      }
      const nth = (runs: Run[][], n: number) => median(runs.map((r) => r[n]!));
      rows.push({
        size, worker: nth(workers, 1), plain: nth(plains, 1), workerFirst: nth(workers, 0), plainFirst: nth(plains, 0),
        ...(withPooled ? { pooled: nth(pooleds, 1), pooledFirst: nth(pooleds, 0) } : {}),
      });
      rmSync(dir, { recursive: true, force: true });
    }
    const mbs = (r: Run) => r.bytes / 1e6 / (r.ms / 1000);
    console.log('\ntransfer: worker pipeline vs plain upload of the same bytes (same S3, same run; median of 5 alternating runs up to 100 MB)');
    console.log('MB/s and ratio: the second transfer of each process, as in a running worker; first: the first transfer of a fresh process, which also loads and compiles the code.');
    console.log('Peak RSS: by the end of the first transfer.\n');
    console.log('| export | files | bytes | worker MB/s | plain MB/s | ratio | ratio, first transfer | worker peak RSS | plain peak RSS |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const firstRatio = mbs(r.workerFirst) / mbs(r.plainFirst);
      console.log(`| ~${r.size} MB | ${r.worker.files} | ${r.worker.bytes} | ${mbs(r.worker).toFixed(1)} | ${mbs(r.plain).toFixed(1)} | ${(mbs(r.worker) / mbs(r.plain)).toFixed(2)} | ${firstRatio.toFixed(2)} | ${r.workerFirst.peakRssMb} MB | ${r.plainFirst.peakRssMb} MB |`);
    }
    const small = rows[0];
    const big = rows.at(-1);
    if (small && big && big !== small) {
      console.log(`\npeak RSS growth from ${small.size} MB to ${big.size} MB: ${big.workerFirst.peakRssMb - small.workerFirst.peakRssMb} MB (target ≤ 50 MB); at ${big.size} MB: ${big.workerFirst.peakRssMb} MB (target < 300 MB)`);
      // For scale: the same growth for the plain lib-storage upload, which has no download or hashing.
      console.log(`plain upload's peak RSS growth over the same sizes: ${big.plainFirst.peakRssMb - small.plainFirst.peakRssMb} MB`);
      if (small.pooledFirst && big.pooledFirst) {
        console.log(`pooled-part upload (S3's multipart API with 5 reused 8 MiB buffers, no lib-storage): peak RSS ${small.pooledFirst.peakRssMb} → ${big.pooledFirst.peakRssMb} MB (growth ${big.pooledFirst.peakRssMb - small.pooledFirst.peakRssMb} MB)`);
      }
    }
    if (withPooled) {
      console.log('\npooled-part upload vs plain lib-storage upload of the same files, MB/s (second transfer of each process):\n');
      console.log('| export | pooled MB/s | plain MB/s | pooled ÷ plain |');
      console.log('|---|---|---|---|');
      for (const r of rows) console.log(`| ~${r.size} MB | ${mbs(r.pooled!).toFixed(1)} | ${mbs(r.plain).toFixed(1)} | ${(mbs(r.pooled!) / mbs(r.plain)).toFixed(2)} |`);
    }
    const cpu = (ms: number) => (ms / 1000).toFixed(1);
    console.log('\nCPU seconds during each (median) second transfer, and the machine\'s cores × wall time:\n');
    console.log('| export | side | wall s | transferring process | S3 emulator (fauxqs) | simulator | sum | cores × wall |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      for (const [side, run] of [['worker', r.worker], ['plain', r.plain]] as const) {
        console.log(`| ~${r.size} MB | ${side} | ${cpu(run.ms)} | ${cpu(run.cpuMs)} | ${cpu(run.s3CpuMs)} | ${cpu(run.simCpuMs)} | ${cpu(run.cpuMs + run.s3CpuMs + run.simCpuMs)} | ${cpu(run.ms * os.cpus().length)} |`);
      }
    }
    console.log(`\nthroughput target: ratio ≥ 0.80`);
  } catch (err) {
    // The simulator's log goes with the temp dir: show its end so a failed run can be explained.
    const log = path.join(tmp, 'sim.log');
    if (existsSync(log)) process.stderr.write(`--- simulator log (tail) ---\n${readFileSync(log, 'utf8').split('\n').slice(-30).join('\n')}\n`);
    throw err;
  } finally {
    await sim.stop();
    await aws.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
