import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type CheckResult, type Probe, queueProbe, runProbes, tableProbe } from '@bp/shared/webhook/readiness';
import { type Warehouse, warehouseProbe } from '@bp/warehouse';
import type { WorkerConfig } from './config.ts';
import type { WorkerFleet } from './fleet.ts';

/**
 * The worker's own health endpoints, on HEALTH_PORT (the ECS container health check calls
 * `/health/live`):
 * - `/health/live`: the event loop turns (lag under `maxLagMs`), every consumer slot runs, and no
 *   job has run past its deadline (the export deadline: no job is meant to live longer).
 * - `/health/ready`: each integration answers within READY_CHECK_TIMEOUT_MS: SQS, DynamoDB,
 *   the token endpoint of every Benchling tenant this worker has served, and the warehouse's
 *   `SELECT 1` when one is configured.
 */
export interface WorkerHealthDeps {
  fleet: Pick<WorkerFleet, 'liveness'>;
  config: Pick<WorkerConfig, 'exportDeadlineSeconds' | 'readyCheckTimeoutMs' | 'names'>;
  aws: { sqs: SQSClient; ddb: DynamoDBClient };
  warehouse?: Pick<Warehouse, 'ping'>;
  /** Base URLs of the Benchling tenants jobs have named so far. */
  benchlingBaseUrls: () => string[];
  fetch?: typeof fetch;
  now?: () => number;
  /** Event-loop lag above which the process is not live, ms. Default 5000. */
  maxLagMs?: number;
}

/** Measures how late a 500 ms timer fires: a blocked event loop shows as lag. */
export class EventLoopLag {
  private last = performance.now();
  lagMs = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(intervalMs = 500) {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - this.last - intervalMs);
      this.last = now;
    }, intervalMs);
    this.timer.unref();
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

export function liveness(deps: WorkerHealthDeps, lag: EventLoopLag): { ok: boolean; detail: Record<string, unknown> } {
  const now = (deps.now ?? Date.now)();
  const f = deps.fleet.liveness();
  const deadlineMs = deps.config.exportDeadlineSeconds * 1000;
  const stuck = f.jobStartedAt.filter((t) => now - t > deadlineMs).length;
  const lagOk = lag.lagMs <= (deps.maxLagMs ?? 5000);
  // While stopping, consumers are stopped on purpose: still live (ECS must not kill a draining task).
  const consumersOk = f.stopping || f.running === f.slots;
  return {
    ok: lagOk && consumersOk && stuck === 0,
    detail: {
      eventLoopLagMs: Math.round(lag.lagMs),
      consumers: { running: f.running, slots: f.slots, stopping: f.stopping },
      jobs: f.jobStartedAt.length,
      stuckJobs: stuck,
    },
  };
}

export function readinessProbes(deps: WorkerHealthDeps): Record<string, Probe> {
  const t = deps.config.readyCheckTimeoutMs;
  const probes: Record<string, Probe> = {
    jobsQueue: queueProbe(deps.aws.sqs, deps.config.names.jobsQueueUrl, t),
    executionsTable: tableProbe(deps.aws.ddb, deps.config.names.executionsTable, t),
    entriesTable: tableProbe(deps.aws.ddb, deps.config.names.entriesTable, t),
    benchlingToken: () => tokenEndpointsProbe(deps.benchlingBaseUrls(), t, deps.fetch ?? fetch),
  };
  if (deps.warehouse) probes.warehouse = warehouseProbe(deps.warehouse, t);
  return probes;
}

/** Any HTTP answer below 500 from `/api/v2/token` means the tenant's API is up (no credentials are sent). */
async function tokenEndpointsProbe(baseUrls: string[], timeoutMs: number, f: typeof fetch): Promise<CheckResult> {
  if (baseUrls.length === 0) return { ok: true, ms: 0, detail: { tenants: 0, note: 'no Benchling tenant seen yet' } };
  return timedProbe(async () => {
    const statuses: Record<string, number> = {};
    await Promise.all(
      baseUrls.map(async (base) => {
        const res = await f(`${base}/api/v2/token`, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        statuses[base] = res.status;
      }),
    );
    const down = Object.entries(statuses).filter(([, s]) => s >= 500);
    if (down.length) throw new Error(`token endpoint answered ${down.map(([b, s]) => `${s} at ${b}`).join(', ')}`);
    return { tenants: baseUrls.length, statuses };
  });
}

async function timedProbe(run: () => Promise<Record<string, unknown>>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const detail = await run();
    return { ok: true, ms: Math.round(performance.now() - started), detail };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return { ok: false, ms: Math.round(performance.now() - started), error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}` };
  }
}

export async function startHealthServer(
  port: number,
  deps: WorkerHealthDeps,
  host = '0.0.0.0',
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const lag = new EventLoopLag();
  const probes = readinessProbes(deps);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'method_not_allowed' });
    if (path === '/health/live' || path === '/health') {
      const l = liveness(deps, lag);
      return send(l.ok ? 200 : 503, { status: l.ok ? 'ok' : 'not_live', ...l.detail });
    }
    if (path === '/health/ready') {
      runProbes(probes).then(
        ({ ok, checks }) => send(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks }),
        (err: unknown) => send(503, { status: 'not_ready', error: (err as Error).message }),
      );
      return;
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        lag.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
