/**
 * `benchling-packager-ops` / `pnpm ops …`: the only ops file that reads the process environment.
 * Ctrl-C or SIGTERM stops a replay between two messages (exit 130); a second one exits at once.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './cli-program.ts';

// Beside a local `pnpm start` stack, its endpoints and names come from the file it writes.
const localStack = path.resolve('.local/stack.env');
if (!process.env.JOBS_QUEUE_URL && existsSync(localStack)) process.loadEnvFile(localStack);

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\n${sig}: stopping after the current message…\n`);
    controller.abort(new Error(sig));
  });
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  signal: controller.signal,
  user: `cli:${safeUser()}@${os.hostname()}`,
});
process.exitCode = code;

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
