import { randomBytes } from 'node:crypto';
import { type LocalAws, startLocalAws } from './index.ts';

let shared: Promise<LocalAws> | undefined;

/**
 * One pair of emulators per test process, started on first use on free ports (so tests can run
 * beside a `pnpm start` stack). The root mocha hook stops it after the run.
 */
export function sharedLocalAws(): Promise<LocalAws> {
  shared ??= startLocalAws({ logDir: process.env.BP_TEST_LOG_DIR });
  return shared;
}

export async function stopSharedLocalAws(): Promise<void> {
  if (!shared) return;
  const l = await shared.catch(() => undefined);
  shared = undefined;
  await l?.stop();
}

/**
 * A fresh, isolated set of queues, tables and bucket for one suite: returns the env map that
 * services' config parsers read.
 */
export async function isolatedEnv(label: string, opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {}): Promise<Record<string, string>> {
  const l = await sharedLocalAws();
  const prefix = `t${randomBytes(3).toString('hex')}-${label.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12)}-`;
  return l.provision({ prefix, ...opts });
}
