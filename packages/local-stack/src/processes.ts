import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A child process we started, with a way to stop it and everything it started. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Spawns a process in its own process group (so stop() also reaches its children), under a
 * guard that ends it if this process dies first, and sends its output to `logFile` (or inherits stdio).
 */
export function startProcess(opts: {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile?: string;
}): ManagedProcess {
  let stdio: 'inherit' | ['ignore', number, number] = 'inherit';
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const fd = fs.openSync(opts.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  // The guard ends the command if this process dies without stopping it (e.g. SIGKILL).
  const guard = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parent-guard.cjs');
  const child = spawn(process.execPath, [guard, String(process.pid), opts.command, ...opts.args], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio,
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    child,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const pid = child.pid;
        const kill = (sig: NodeJS.Signals) => {
          try {
            process.kill(-pid, sig);
          } catch {
            /* already gone */
          }
        };
        kill(signal);
        const timer = setTimeout(() => kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        kill('SIGKILL'); // the group may still hold grandchildren
      })();
      return stopping;
    },
  };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it resolves, or throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<unknown>, timeoutMs = 60_000, proc?: ManagedProcess): Promise<void> {
  const started = Date.now();
  let last: unknown;
  let exitCode: number | null | undefined;
  proc?.exited.then((c) => (exitCode = c));
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      last = err;
    }
    if (exitCode !== undefined) throw new Error(`${what} exited with code ${exitCode} before it answered`);
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what} did not answer within ${timeoutMs} ms: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
