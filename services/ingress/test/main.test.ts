import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { generateSigningKey } from '@bp/benchling-sim/signing';
import { freePort, startProcess, waitUntil } from '@bp/local-stack';
import { isolatedEnv } from '@bp/local-stack/testing';
import { startJwksServer } from './support/jwks-server.ts';
import { deliver, entryUpdated, signed } from './support/webhooks.ts';

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('ingress main: the process', function () {
  this.timeout(60_000);

  function spawnMain(env: Record<string, string>, label: string) {
    const logFile = path.join(os.tmpdir(), `ingress-main-${label}-${process.pid}-${Date.now()}.log`);
    const proc = startProcess({
      name: 'ingress',
      command: process.execPath,
      args: ['--import', 'tsx', mainTs],
      env: { ...process.env, ...env },
      logFile,
    });
    return { proc, log: () => readFileSync(logFile, 'utf8') };
  }

  it('serves signed webhooks and exits 0 on SIGTERM after finishing', async () => {
    const key = generateSigningKey('k');
    const jwks = await startJwksServer([key]);
    try {
      const port = await freePort();
      const env = await isolatedEnv('main');
      const { proc, log } = spawnMain({ ...env, PORT: String(port), BENCHLING_JWKS_URL: jwks.url }, 'ok');
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(
        'ingress main',
        async () => {
          if (!(await fetch(`${url}/health/live`)).ok) throw new Error('not live');
        },
        30_000,
        proc,
      );
      expect((await deliver(url, signed([key], entryUpdated()))).status).to.equal(202);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).to.equal(0);
      const lines = log()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.message)).to.include.members(['ingress listening', 'webhook', 'shutting down', 'stopped']);
    } finally {
      await jwks.close();
    }
  });

  it('exits 1 with a JSON error naming the missing variable', async () => {
    const { proc, log } = spawnMain(
      { JOBS_QUEUE_URL: 'http://q', DLQ_URL: 'http://d', PACKAGE_BUCKET: 'b', BENCHLING_APP_DEFINITION_ID: '', BENCHLING_JWKS_URL: '' },
      'bad',
    );
    expect(await proc.exited).to.equal(1);
    expect(log()).to.match(/"message":"ingress failed to start".*BENCHLING_APP_DEFINITION_ID/);
  });
});
