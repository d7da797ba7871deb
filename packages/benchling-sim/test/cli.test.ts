import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { expect } from 'chai';
import { WEBHOOK_TYPES } from '../src/index.ts';
import { basicAuth } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const cli = path.resolve(here, '../src/cli.ts');

function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Resolves with the first stdout line that parses as JSON. */
function firstJsonLine(child: ChildProcess): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
}

describe('the benchling-sim CLI', function () {
  this.timeout(60_000);

  it('`types` lists every webhook type with its channel and suffix', async () => {
    const r = await collect(runCli(['types']));
    expect(r.code).to.equal(0);
    for (const t of WEBHOOK_TYPES)
      expect(r.stdout).to.match(new RegExp(`^${t.replace(/\./g, '\\.')}\\s+\\S+\\s+/(event|lifecycle|canvas)$`, 'm'));
  });

  it('`serve` prints its URLs, honours SIM_* variables, `send` delivers through it, and SIGTERM stops it cleanly', async () => {
    const received: { path: string; body: string }[] = [];
    const app = express();
    app.use(express.text({ type: '*/*' }));
    app.post('/{*rest}', (req, res) => {
      received.push({ path: req.path, body: req.body as string });
      res.status(202).send('{"executionId":"exe_cli"}');
    });
    const receiver: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    const serve = runCli(['serve', '--json'], { SIM_PORT: '0', SIM_CLIENT_ID: 'env-client', SIM_CLIENT_SECRET: 'env-secret' });
    const done = collect(serve);
    try {
      const info = await firstJsonLine(serve);
      expect(info.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.jwksUrl).to.equal(`${info.url}/api/v1/apps/appdef_sim/jwks`);
      expect((await fetch(info.jwksUrl!)).status).to.equal(200);
      const token = await fetch(`${info.url}/api/v2/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('env-client', 'env-secret') },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(token.status).to.equal(200);

      const sent = await collect(
        runCli(['send', '--sim', info.url!, '--to', receiverUrl, '--type', 'v2.entry.created', '--entry', 'etr_demo1']),
      );
      expect(sent.code, sent.stderr).to.equal(0);
      expect(sent.stdout).to.match(/HTTP 202/);
      expect(sent.stdout).to.include('exe_cli');
      expect(received[0]!.path).to.equal('/event');
      expect(JSON.parse(received[0]!.body).message).to.include({ type: 'v2.entry.created', resourceId: 'etr_demo1' });

      const canvas = await collect(
        runCli([
          'send',
          '--sim',
          info.url!,
          '--to',
          receiverUrl,
          '--type',
          'v2.canvas.userInteracted',
          '--canvas',
          'cnvs_1',
          '--button',
          'go',
        ]),
      );
      expect(canvas.code).to.equal(0);
      expect(received[1]!.path).to.equal('/canvas');
      expect(JSON.parse(received[1]!.body).message).to.include({ canvasId: 'cnvs_1', buttonId: 'go' });
    } finally {
      serve.kill('SIGTERM');
      const exit = await done;
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout).to.match(/SIGTERM received/);
      await new Promise((r) => receiver.close(r));
    }
  });

  it('`send` exits non-zero when the receiver refuses the webhook', async () => {
    const app = express();
    app.post('/{*rest}', (_req, res) => res.status(401).send('bad signature'));
    const receiver: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const serve = runCli(['serve', '--json', '--port', '0']);
    const done = collect(serve);
    try {
      const info = await firstJsonLine(serve);
      const r = await collect(
        runCli([
          'send',
          '--sim',
          info.url!,
          '--to',
          `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
          '--type',
          'v2.app.installed',
          '--signature',
          'v1bder,AAAA',
        ]),
      );
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/HTTP 401/);
    } finally {
      serve.kill('SIGINT');
      expect((await done).code).to.equal(0);
      await new Promise((r) => receiver.close(r));
    }
  });
});
