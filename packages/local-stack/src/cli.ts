/**
 * `pnpm start`: the whole system on one machine. Starts fauxqs (SQS+S3) and DynamoDB Local,
 * creates queues/tables/bucket (idempotently), then the Benchling simulator, the ingress and
 * WORKERS worker processes, prints where to look and how to send a webhook, and on Ctrl-C stops
 * everything it started. Variables set by the caller override every local default.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getInt, getString } from '@bp/shared';
import { workerNodeOptions } from '@bp/shared/node-options';
import { type LocalAws, type LocalWarehouse, startLocalAws, startLocalWarehouse } from './index.ts';
import { freePort, type ManagedProcess, startProcess, waitUntil } from './processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const env = process.env;
/** The simulator's tenant id: the one tenant the local stack's workers serve. */
const SIM_TENANT_ID = 'ten_sim';

async function up(): Promise<void> {
  const ports = {
    fauxqs: getInt(env, 'FAUXQS_PORT', 4566),
    dynamo: getInt(env, 'DYNAMODB_PORT', 8000),
    sim: getInt(env, 'SIM_PORT', 8090),
    ingress: getInt(env, 'PORT', 8080),
  };
  const workers = getInt(env, 'WORKERS', 2, { min: 0, max: 32 });
  const logDir = path.resolve(root, getString(env, 'LOG_DIR', '.local/logs'));
  const children: ManagedProcess[] = [];
  let aws: LocalAws | undefined;
  let warehouse: LocalWarehouse | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('\nstopping…');
    // Workers first (they checkpoint and release leases), then ingress and simulator, emulators last.
    for (const p of [...children].reverse()) await p.stop('SIGTERM', 30_000);
    await Promise.all([aws?.stop(), warehouse?.stop()]);
    console.log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  console.log(`starting emulators (logs in ${path.relative(process.cwd(), logDir) || logDir}/)…`);
  try {
    const simUrl = `http://127.0.0.1:${ports.sim}`;
    // A warehouse the caller points at (WAREHOUSE_URL/WAREHOUSE_HOST) replaces the local one.
    const localWarehouse = !env.WAREHOUSE_URL && !env.WAREHOUSE_HOST;
    [aws, warehouse] = await Promise.all([
      startLocalAws({ fauxqsPort: ports.fauxqs, dynamoPort: ports.dynamo, logDir }),
      localWarehouse
        ? startLocalWarehouse({
            port: getInt(env, 'POSTGRES_PORT', 0) || (await freePort()),
            dataDir: path.join(root, '.local', 'warehouse'),
            logFile: path.join(logDir, 'postgres.log'),
            baseUrl: simUrl,
          })
        : Promise.resolve(undefined),
    ]);
    await startServices(aws);
  } catch (err) {
    console.error(`failed to start: ${(err as Error).message}`);
    await shutdown(1);
  }

  async function startServices(aws: LocalAws): Promise<void> {
    const names = await aws.provision({
      prefix: getString(env, 'TABLE_PREFIX', 'bp-'),
      bucket: getString(env, 'PACKAGE_BUCKET', 'bp-local-packages'),
      maxReceiveCount: getInt(env, 'MAX_RECEIVE_COUNT', 5, { min: 1, max: 1000 }),
      visibilityTimeoutSeconds: getInt(env, 'VISIBILITY_TIMEOUT_SECONDS', 60, { min: 5, max: 43200 }),
    });
    const simUrl = `http://127.0.0.1:${ports.sim}`;
    // Local defaults first, the caller's environment last so it wins.
    const serviceEnv: NodeJS.ProcessEnv = {
      BENCHLING_APP_DEFINITION_ID: 'appdef_sim',
      BENCHLING_JWKS_URL: `${simUrl}/api/v1/apps/appdef_sim/jwks`,
      BENCHLING_CLIENT_ID: 'sim-client',
      BENCHLING_CLIENT_SECRET: 'sim-secret',
      // The simulator's tenant is the one tenant the local stack serves (more: set BENCHLING_TENANTS).
      BENCHLING_TENANTS: `${SIM_TENANT_ID}=${simUrl}`,
      QUILT_PUBLISH: 'direct',
      OPS_TOKENS: 'local=local-dev-ops-token',
      OPS_TENANT_ID: SIM_TENANT_ID,
      OPS_BENCHLING_BASE_URL: simUrl,
      PORT: String(ports.ingress),
      ...warehouse?.env,
      ...names,
      ...env,
    };
    // Lets `pnpm ops …` in another terminal find this stack (it loads the file when its env has no queue).
    const stackEnvFile = path.join(root, '.local', 'stack.env');
    mkdirSync(path.dirname(stackEnvFile), { recursive: true });
    const keys = [
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'S3_LOCAL_COMPAT',
      'JOBS_QUEUE_URL',
      'DLQ_URL',
      'PACKAGER_QUEUE_URL',
      'TABLE_PREFIX',
      'PACKAGE_BUCKET',
      'OPS_TENANT_ID',
      'OPS_BENCHLING_BASE_URL',
      'WAREHOUSE_URL',
      'WAREHOUSE_SCHEMA',
    ];
    const envLines = keys.filter((k) => serviceEnv[k]).map((k) => `${k}=${serviceEnv[k]}`);
    writeFileSync(stackEnvFile, `${envLines.join('\n')}\n`);
    const tsx = path.join(root, 'node_modules/.bin/tsx');
    const launch = (name: string, script: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) => {
      const p = startProcess({
        name,
        command: tsx,
        args: [path.join(root, script), ...args],
        env: { ...serviceEnv, ...extra },
        cwd: root,
        logFile: path.join(logDir, `${name}.log`),
      });
      children.push(p);
      p.exited.then((code) => {
        if (!shuttingDown) {
          console.error(`${name} exited unexpectedly (code ${code}); see ${path.join(logDir, `${name}.log`)}`);
          void shutdown(1);
        }
      });
      return p;
    };

    const sim = launch('benchling-sim', 'packages/benchling-sim/src/cli.ts', [
      'serve',
      '--port',
      String(ports.sim),
      '--tenant-id',
      SIM_TENANT_ID,
      '--webhook-target',
      `http://127.0.0.1:${ports.ingress}`,
    ]);
    await waitUntil(
      'Benchling simulator',
      async () => {
        const r = await fetch(`${simUrl}/api/v1/apps/appdef_sim/jwks`);
        if (!r.ok) throw new Error(String(r.status));
      },
      30_000,
      sim,
    );
    const ingress = launch('ingress', 'services/ingress/src/main.ts');
    await waitUntil(
      'ingress',
      async () => {
        const r = await fetch(`http://127.0.0.1:${ports.ingress}/health/ready`);
        if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
      },
      30_000,
      ingress,
    );
    const healthPorts: number[] = [];
    for (let i = 1; i <= workers; i++) {
      const healthPort = env.HEALTH_PORT ? Number(env.HEALTH_PORT) + i - 1 : await freePort();
      healthPorts.push(healthPort);
      launch(`worker-${i}`, 'services/worker/src/main.ts', [], {
        WORKER_ID: `local-worker-${i}`,
        HEALTH_PORT: String(healthPort),
        // The container's Node options (the local worker runs through tsx, not the image's command).
        NODE_OPTIONS: workerNodeOptions(process.env.NODE_OPTIONS),
      });
    }
    const warehouseLine = warehouse
      ? `  warehouse (PostgreSQL) WAREHOUSE_URL=${serviceEnv.WAREHOUSE_URL}  schema ` +
        `${serviceEnv.WAREHOUSE_SCHEMA}, read-only role; seeded entries ` +
        `${warehouse.story.entries.map((e) => e.id).join(', ')}`
      : serviceEnv.WAREHOUSE_URL || serviceEnv.WAREHOUSE_HOST
        ? `  warehouse              ${serviceEnv.WAREHOUSE_HOST ?? new URL(serviceEnv.WAREHOUSE_URL!).host} (yours)`
        : '';

    console.log(`
benchling-packager is running
  ingress (webhooks)     http://127.0.0.1:${ports.ingress}        health: /health/ready
  Benchling simulator    ${simUrl}        (API ${simUrl}/api/v2)
  SQS + S3 (fauxqs)      http://127.0.0.1:${ports.fauxqs}        bucket: ${names.PACKAGE_BUCKET}
  DynamoDB Local         http://127.0.0.1:${ports.dynamo}        tables: ${names.TABLE_PREFIX}*
  workers                ${workers} process(es)        health: ${healthPorts.map((p) => `http://127.0.0.1:${p}/health/ready`).join(' ')}
${warehouseLine}
  logs                   ${logDir}/*.log

Send a signed webhook (in another terminal):
  pnpm sim send --sim ${simUrl} --to http://127.0.0.1:${ports.ingress} --type v2.entry.created --entry etr_demo1

Canvases (after a v2.canvas.initialized): list, then open one in a browser and click through it:
  curl '${simUrl}/_sim/canvases?resourceId=etr_demo2'      pnpm sim canvas show <canvasId>
  ${simUrl}/_sim/canvases/<canvasId>/preview

Operators (another terminal):
  pnpm ops executions list          pnpm ops queues          pnpm ops dlq peek
  curl -H 'Authorization: Bearer local-dev-ops-token' http://127.0.0.1:${ports.ingress}/ops/stats
  curl -H 'Authorization: Bearer local-dev-ops-token' http://127.0.0.1:${ports.ingress}/ops/ready
  curl -H 'Authorization: Bearer local-dev-ops-token' http://127.0.0.1:${ports.ingress}/metrics

Sequencing partners illumina, ont and pacbio are registered (secrets in README.md):
  POST http://127.0.0.1:${ports.ingress}/webhooks/sequencing/<partner>
  pnpm ops partners list            pnpm ops events list     pnpm ops partners stats
  curl -H 'Authorization: Bearer local-dev-ops-token' http://127.0.0.1:${ports.ingress}/webhooks/stats

Ctrl-C stops everything.`);
  }
}

const [command] = process.argv.slice(2);
if (command === 'up' || command === undefined) {
  void up();
} else {
  console.error(`unknown command "${command}"; usage: cli.ts up`);
  process.exit(2);
}
