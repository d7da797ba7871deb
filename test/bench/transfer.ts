/**
 * `pnpm bench transfer [--sizes 20MB,1GB,4GB] [--wholezip-sizes 20MB,1GB] [--repeat N] [--repeat-large N] [--json]`:
 * the worker's streaming transfer (download → unzip → hash → multipart writer) against a plain
 * upload of the same bytes to the same S3 and against the whole-ZIP method of the integration we
 * replace, on the same exports in one run. Each side runs in its own process, so peak RSS is its
 * own, on the V8 heap Node gives it in the worker's default 2 GiB task. The exports are generated
 * by the simulator on disk (streamed, never held in memory) and cached across runs. Every
 * transfer's result is checked (files, sizes, hashes; bytes read back at ≤ 100 MB, and for the
 * worker's last run at every size): any difference prints INVALID and fails the bench. With
 * --json the last line is one JSON object (see `summary`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, startLocalAws } from '@bp/local-stack';
import { taskNodeOptions, workerNodeOptions } from '@bp/shared/node-options';
import { startSimulator } from './simulator-process.ts';
import { printReport, type Row, type Run, summary } from './transfer-report.ts';
import { exportUrl, extractExpected } from './transfer-workload.ts';
import { type BenchArgs, BenchInvalidError } from './report.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const execFileAsync = promisify(execFile);

/** Transfers per process: the first pays for loading and compiling the code, the second is a running worker's (more for profiling). */
const RUNS_PER_PROCESS = Number(process.env.BENCH_TRANSFER_RUNS_PER_PROCESS ?? 2);

type Mode = 'worker' | 'plain' | 'wholezip';

/** `20MB` → 20 MiB export, `1GB` → 1000 MiB, `4GB` → 4000 MiB (the simulator's `etr_big<N>mb`). */
function parseSize(label: string): { label: string; mb: number } {
  const m = /^(\d+)(MB|GB)$/.exec(label);
  if (!m) throw new Error(`bad size ${JSON.stringify(label)}: use e.g. 20MB, 1GB, 4GB`);
  return { label, mb: Number(m[1]) * (m[2] === 'GB' ? 1000 : 1) };
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

/** Runs one side in its own process. Async, so this process's idle HTTP connections keep being managed meanwhile. */
async function measure(
  mode: Mode,
  source: string,
  prefix: string,
  env: Record<string, string>,
  extra: Record<string, string>,
): Promise<Run[]> {
  // BENCH_TRANSFER_CPU_PROF=<dir>: V8 CPU profiles of each timed transfer (not the process's start
  // or the checks), written by the runner, for `tsx test/bench/cpu-profile-summary.ts <dir>/<side>`.
  const profDir = process.env.BENCH_TRANSFER_CPU_PROF;
  const runner = path.join(root, 'test/bench/transfer-runner.ts');
  const { stdout } = await execFileAsync(tsx, [runner, mode, source, prefix], {
    cwd: root,
    env: {
      ...process.env,
      BENCH_ENV: JSON.stringify(env),
      BENCH_RUNS: String(RUNS_PER_PROCESS),
      ...(profDir ? { BENCH_PROFILE_DIR: path.join(profDir, mode) } : {}),
      // Every side on the heap Node gives it in the worker's 2 GiB task (the whole-ZIP method would
      // run in the same task); the worker's side with the worker container's Node options too.
      NODE_OPTIONS: mode === 'worker' ? workerNodeOptions(process.env.NODE_OPTIONS) : taskNodeOptions(process.env.NODE_OPTIONS),
      ...extra,
    },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const lines = stdout.trim().split('\n');
  // With BENCH_TRANSFER_LOG_LEVEL the runner's log lines come first: pass them on.
  if (process.env.BENCH_TRANSFER_LOG_LEVEL)
    process.stderr.write(
      lines
        .slice(0, -RUNS_PER_PROCESS)
        .map((l) => `  ${l}\n`)
        .join(''),
    );
  return lines.slice(-RUNS_PER_PROCESS).map((l) => JSON.parse(l) as Run);
}

export async function runTransferBench(bench: BenchArgs): Promise<void> {
  const args = bench.rest;
  const json = bench.json;
  const sizes = (option(args, '--sizes') ?? '20MB,1GB,4GB').split(',').map(parseSize);
  // Whole-ZIP needs the ZIP and its largest file in memory: run where asked (by default up to 1 GB).
  const wholeZipSizes = new Set((option(args, '--wholezip-sizes') ?? '20MB,1GB').split(','));
  // Nine, not five: a 20 MB side takes ~0.3 s, and the median of five still moved by ±0.08 in the ratio between runs.
  const repeatSmall = Number(option(args, '--repeat') ?? 9);
  // Three, not one: a single 1 GB side moved by half between runs when the machine slowed (the
  // simulator took 1.9 CPU-s to serve the same 1 GB in one run and 3.6 in the next). The same
  // number at 1 GB and 4 GB, so their peak RSS (the highest of their processes) compare fairly.
  const repeatLarge = Number(option(args, '--repeat-large') ?? 3);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-transfer-'));
  const aws = await startLocalAws();
  let sim: ManagedProcess | undefined;
  const benchStarted = Date.now();
  try {
    const started = await startSimulator({
      logFile: path.join(tmp, 'sim.log'),
      args: ['--export-delay-ms', '0', '--rate-limit', '100000/30'],
    });
    sim = started.proc;
    const simUrl = started.url;
    const env = { ...(await aws.provision({ prefix: 'bench-transfer-' })), BENCH_TMP: tmp };
    const pids = JSON.stringify({ s3: aws.processes[0]?.child.pid, sim: sim.child.pid });
    const rows: Row[] = [];
    const problems: string[] = [];
    for (const size of sizes) {
      process.stderr.write(`preparing a ~${size.label} export (generated once by the simulator, then cached)…\n`);
      const url = await exportUrl(simUrl, `etr_big${size.mb}mb_bench`);
      const dir = path.join(tmp, `files-${size.label}`);
      const { expected, zipBytes, largestFile } = await extractExpected(url, dir);
      const expectedFile = path.join(tmp, `expected-${size.label}.json`);
      writeFileSync(expectedFile, JSON.stringify([...expected]));
      const small = size.mb <= 100;
      // Sub-second runs are noisy: small exports take the median of several alternating runs, large ones of a few.
      const repeat = small ? repeatSmall : repeatLarge;
      const modes: Mode[] = ['worker', 'plain', ...(wholeZipSizes.has(size.label) ? (['wholezip'] as const) : [])];
      /** One side in a process of its own; whatever its checks found goes to `problems` under `what`. */
      const side = async (mode: Mode, prefix: string, hashBytes: boolean, what: string): Promise<Run[]> => {
        const got = await measure(mode, mode === 'plain' ? dir : url, prefix, env, {
          BENCH_PIDS: pids,
          BENCH_EXPECTED: expectedFile,
          BENCH_HASH_BYTES: hashBytes ? '1' : '0',
        });
        for (const r of got) problems.push(...r.problems.map((p) => `~${size.label} ${what}: ${p}`));
        return got;
      };
      // fauxqs is markedly slower until it has grown its memory (fresh pages for every object; seen
      // at 1 GB: whichever side ran first used 1.5 CPU-s more of it). An untimed plain side first,
      // so every measured side meets the same warmed emulator.
      process.stderr.write(`warming the S3 emulator: one untimed plain side of ~${size.label}…\n`);
      await side('plain', `bench/warmup-${size.label}/`, false, 'warm-up');
      process.stderr.write(`measuring ~${size.label} (${zipBytes} byte ZIP, ${expected.size} files): ${modes.join(', ')} × ${repeat}…\n`);
      const runs: Record<Mode, Run[][]> = { worker: [], plain: [], wholezip: [] };
      for (let i = 0; i < repeat; i++) {
        for (const mode of modes) {
          // Bytes read back from S3 and hashed: every run of a small export, the worker's last run of a large one.
          const hashBytes = small || (mode === 'worker' && i === repeat - 1);
          runs[mode].push(await side(mode, `bench/${mode}-${size.label}-${i}/`, hashBytes, `${mode} run ${i}`));
        }
      }
      rows.push({ size: size.label, zipBytes, largestFile, files: expected.size, runs });
      rmSync(dir, { recursive: true, force: true });
    }
    // BENCH_TRANSFER_RUNS_OUT=<file>: every measured transfer, as the runners reported it (for looking into one figure).
    if (process.env.BENCH_TRANSFER_RUNS_OUT) writeFileSync(process.env.BENCH_TRANSFER_RUNS_OUT, JSON.stringify(rows, null, 1));
    printReport(rows, os.cpus().length);
    process.stderr.write(`bench took ${Math.round((Date.now() - benchStarted) / 1000)} s\n`);
    if (problems.length > 0) {
      console.log(`\nINVALID: the workload was not transferred exactly (${problems.length} problems):`);
      for (const p of problems.slice(0, 50)) console.log(`  ${p}`);
      throw new BenchInvalidError(`transfer bench workload check failed (${problems.length} problems)`);
    }
    if (json) console.log(JSON.stringify(summary(rows)));
  } catch (err) {
    // The simulator's log goes with the temp dir: show its end so a failed run can be explained.
    const log = path.join(tmp, 'sim.log');
    if (existsSync(log))
      process.stderr.write(`--- simulator log (tail) ---\n${readFileSync(log, 'utf8').split('\n').slice(-30).join('\n')}\n`);
    throw err;
  } finally {
    await sim?.stop();
    await aws.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
