import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type ManagedProcess, startProcess, waitUntil } from '@bp/local-stack';
import { workerNodeOptions } from '@bp/shared/node-options';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A fresh directory per suite run for each process's log: under BP_TEST_LOG_DIR if set, else the
 * OS temp dir. Kept after the run for post-mortems; fresh so no line of an earlier run is read back.
 */
export function faultLogDir(label: string): string {
  const base = process.env.BP_TEST_LOG_DIR || path.join(os.tmpdir(), 'bp-fault-logs');
  const known = logDirs.get(label);
  if (known) return known;
  const dir = path.join(base, `${label}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${process.pid}`);
  logDirs.set(label, dir);
  return dir;
}
const logDirs = new Map<string, string>();

/** One run of a service process, from spawn to exit. */
export interface ServiceProcess {
  /** `WORKER_ID` of a worker (unique per incarnation), or the process name. */
  id: string;
  proc: ManagedProcess;
  logFile: string;
  /** Epoch ms of the spawn. */
  startedAt: number;
  /** Epoch ms the test sent its stopping signal, and which. */
  signalledAt?: number;
  signal?: NodeJS.Signals;
  /** Epoch ms of the exit, and its code (null after a signal the process did not handle). */
  exitedAt?: number;
  exitCode?: number | null;
  /** Whether the process is still running. */
  readonly alive: boolean;
  /** JSON log lines written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Resolves once a log line has `message` (polls the log file), or throws after `timeoutMs`. */
  waitForLog(message: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the whole process group (tsx and the node it runs) and waits for the exit. */
  kill(signal: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/**
 * Spawns `node --import tsx <script>` in its own process group with output to a log file, so a
 * SIGKILL takes the service down exactly as a crash would and a SIGTERM reaches it once. (The
 * `tsx` CLI would add a parent process that relays signals and, when the child exits quickly,
 * reports 143 for a clean exit 0; production runs node directly, as this does.)
 */
export function spawnService(o: { id: string; script: string; env: Record<string, string>; logDir: string }): ServiceProcess {
  const logFile = path.join(o.logDir, `${o.id}.log`);
  const proc = startProcess({
    name: o.id,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(root, o.script)],
    env: { ...inherited(), ...o.env },
    cwd: root,
    logFile,
  });
  const sp: ServiceProcess = {
    id: o.id,
    proc,
    logFile,
    startedAt: Date.now(),
    get alive() {
      return sp.exitedAt === undefined;
    },
    async logLines() {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      const out: Record<string, unknown>[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          out.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* a line cut by a kill */
        }
      }
      return out;
    },
    async waitForLog(message, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if ((await sp.logLines()).some((l) => l.message === message)) return;
        if (!sp.alive) throw new Error(`${o.id} exited (code ${sp.exitCode}) before logging "${message}"; see ${logFile}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${o.id} did not log "${message}" within ${timeoutMs} ms; see ${logFile}`);
    },
    async kill(signal, graceMs = 30_000) {
      if (sp.alive) {
        sp.signalledAt = Date.now();
        sp.signal = signal;
        await proc.stop(signal, graceMs);
      }
      return sp.exitCode ?? null;
    },
  };
  void proc.exited.then((code) => {
    sp.exitedAt = Date.now();
    sp.exitCode = code;
  });
  return sp;
}

/** The few variables a child needs from our environment; everything else comes from the test's env map. */
function inherited(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k]) out[k] = process.env[k]!;
  return out;
}

export interface WorkerPoolOptions {
  /** Names log files and worker ids: `<label>-w<slot>-<incarnation>`. */
  label: string;
  /** Environment of every worker: a RunningSystem's env (emulators, queues, tables, simulator credentials) plus overrides. */
  env: Record<string, string>;
  /** Directory for log files. Default `faultLogDir(label)`. */
  logDir?: string;
}

/**
 * Worker processes in numbered slots; a slot can be killed and restarted, and every incarnation
 * is kept with its worker id and signal/exit times, which the invariant checks need.
 */
export class WorkerPool {
  /** Every worker process ever started, oldest first. */
  readonly history: ServiceProcess[] = [];
  private readonly slots = new Map<number, ServiceProcess>();
  /** Where every worker's log goes (and where suites leave their post-mortem files). */
  readonly logDir: string;

  constructor(private readonly o: WorkerPoolOptions) {
    this.logDir = o.logDir ?? faultLogDir(o.label);
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts a worker in `slot` (which must be empty or dead), with extra env on top of the pool's. */
  start(slot: number, extraEnv: Record<string, string> = {}): ServiceProcess {
    const current = this.slots.get(slot);
    if (current?.alive) throw new Error(`slot ${slot} already runs ${current.id}`);
    const incarnation = this.history.filter((p) => p.id.startsWith(`${this.o.label}-w${slot}-`)).length + 1;
    const id = `${this.o.label}-w${slot}-${incarnation}`;
    const p = spawnService({
      id,
      script: 'services/worker/src/main.ts',
      // The container's Node options, as the worker runs in production.
      env: { ...this.o.env, WORKER_ID: id, NODE_OPTIONS: workerNodeOptions(), ...extraEnv },
      logDir: this.logDir,
    });
    this.slots.set(slot, p);
    this.history.push(p);
    return p;
  }

  get(slot: number): ServiceProcess | undefined {
    return this.slots.get(slot);
  }

  /** Slots whose worker is running. */
  liveSlots(): number[] {
    return [...this.slots].filter(([, p]) => p.alive).map(([s]) => s);
  }

  /** Stops every live worker with SIGTERM (they drain and hand jobs back), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all([...this.slots.values()].filter((p) => p.alive).map((p) => p.kill('SIGTERM', graceMs)));
  }
}

/** An ingress process and where it listens. */
export interface IngressProcess extends ServiceProcess {
  url: string;
}

/**
 * Spawns the ingress (`services/ingress/src/main.ts`) on a free port and resolves once
 * `/health/live` answers. `env` carries the queue/table names, endpoints and JWKS settings.
 */
export async function spawnIngress(o: { label: string; env: Record<string, string>; logDir?: string }): Promise<IngressProcess> {
  const port = await freePort();
  const sp = spawnService({
    id: `${o.label}-ingress`,
    script: 'services/ingress/src/main.ts',
    env: { LOG_LEVEL: 'info', ...o.env, PORT: String(port) },
    logDir: o.logDir ?? faultLogDir(o.label),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    'ingress process',
    async () => {
      const r = await fetch(`${url}/health/live`);
      if (!r.ok) throw new Error(String(r.status));
    },
    45_000,
    sp.proc,
  );
  return Object.assign(sp, { url });
}
