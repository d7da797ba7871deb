import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type ManagedProcess, startProcess, waitUntil } from '@bp/local-stack';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The Benchling simulator (`serve`, with `args` on top) as a child process of the bench, logging
 * to `logFile`; resolved once it answers, stopped again if it never does.
 */
export async function startSimulator(o: { logFile: string; args?: string[] }): Promise<{ proc: ManagedProcess; url: string }> {
  const port = await freePort();
  const proc = startProcess({
    name: 'sim',
    command: path.join(root, 'node_modules/.bin/tsx'),
    args: [path.join(root, 'packages/benchling-sim/src/cli.ts'), 'serve', '--port', String(port), ...(o.args ?? [])],
    logFile: o.logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
      'simulator',
      async () => {
        if (!(await fetch(`${url}/api/v1/apps/appdef_sim/jwks`)).ok) throw new Error('not yet');
      },
      30_000,
      proc,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, url };
}
