import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type ManagedProcess, startProcess, waitUntil } from './processes.ts';

/**
 * A real PostgreSQL server (Debian's `postgresql` package) run from its binaries, for the local
 * warehouse. PostgreSQL refuses to run as root, and CI runs as root: then the server runs as
 * the `postgres` OS user (via setpriv, which execs in place, so stopping our process group stops
 * the server) and its data directory is handed to that user.
 */

export interface LocalPostgres {
  port: number;
  dataDir: string;
  /** Superuser connection string (password auth over TCP). */
  adminUrl: string;
  /** Stops the server (fast shutdown: open sessions are ended). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory after `stop()`; does nothing while it runs. */
  start(): Promise<void>;
}

/** Directory holding initdb/pg_ctl/postgres: the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0])
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/bootstrap.sh, or apt-get install postgresql)',
    );
  return path.join(root, versions[0], 'bin');
}

/** uid/gid the server runs as: ours, unless we are root, then the `postgres` OS user's. */
function serverUser(): { uid: number; gid: number; asOther: boolean } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, asOther: false };
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid, asOther: true };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/**
 * Creates a fresh cluster in `dataDir` (whatever was there is removed: the local warehouse is
 * rebuilt from its seed on every start) and starts it on 127.0.0.1:`port`.
 */
export async function startPostgres(opts: { port: number; dataDir: string; logFile?: string }): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  const user = serverUser();
  const dataDir = path.resolve(opts.dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  // The password file lives outside the data directory, readable by the server user only.
  const pwDir = mkdirTempFor(user);
  const pwFile = path.join(pwDir, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (user.asOther) {
    chownSync(pwFile, user.uid, user.gid);
    chownTree(dataDir, user.uid, user.gid);
  }
  const as = (cmd: string, args: string[]) =>
    user.asOther
      ? (['setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', cmd, ...args]] as const)
      : ([cmd, args] as const);
  const [initCmd, initArgs] = as(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--pwfile',
    pwFile,
    '--auth',
    'scram-sha-256',
    '-E',
    'UTF8',
    '--locale',
    'C',
    '--no-sync',
  ]);
  try {
    execFileSync(initCmd, initArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`;
  let proc: ManagedProcess | undefined;
  const start = async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) return; // already running
    // No Unix socket (the default directory may not be writable); TCP on loopback only; no fsync: throwaway data.
    const [cmd, args] = as(path.join(bin, 'postgres'), [
      '-D',
      dataDir,
      '-p',
      String(opts.port),
      '-h',
      '127.0.0.1',
      '-k',
      '',
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=100',
    ]);
    const p = startProcess({ name: 'postgres', command: cmd, args: [...args], logFile: opts.logFile ?? '/dev/null' });
    proc = p;
    await waitUntil(
      `PostgreSQL on port ${opts.port}`,
      async () => {
        const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
        try {
          await c.connect();
          await c.query('SELECT 1');
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      30_000,
      p,
    );
  };
  await start();
  return {
    port: opts.port,
    dataDir,
    adminUrl,
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
    stop: async () => {
      await proc?.stop('SIGINT', 15_000);
    },
    start,
  };
}

function mkdirTempFor(user: { uid: number; gid: number; asOther: boolean }): string {
  const dir = path.join(os.tmpdir(), `bp-pg-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  if (user.asOther) chownSync(dir, user.uid, user.gid);
  return dir;
}
