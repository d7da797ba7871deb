import { expect } from 'chai';
import { createLogger } from '@bp/shared';
import { type LocalWarehouse, startLocalWarehouse } from '@bp/local-stack/warehouse';
import { openWarehouse, warehouseConfigFromEnv } from '@bp/warehouse';
import { WorkerFleet } from '../src/fleet.ts';
import { startHealthServer } from '../src/health.ts';
import { useWorker } from './support/worker-suite.ts';

/** The worker's /health/live and /health/ready on a port of its own, against real dependencies. */
/** The parts of a health answer these tests read (liveness fields, or the readiness checks). */
interface HealthBody {
  consumers?: unknown;
  stuckJobs?: number;
  checks: Record<'warehouse' | 'jobsQueue' | 'benchlingToken', { ok: boolean; detail?: unknown }>;
}

describe('worker health endpoints', function () {
  this.timeout(60_000);
  const suite = useWorker('health', { sim: { exportDelayMs: 0 } });
  let w: LocalWarehouse;
  let closeWarehouse: () => Promise<void>;
  let warehouse: Awaited<ReturnType<typeof openWarehouse>>['warehouse'];

  before(async function () {
    this.timeout(60_000);
    w = await startLocalWarehouse();
    const opened = await openWarehouse({
      config: warehouseConfigFromEnv(w.env)!,
      logger: createLogger({ service: 'test', level: 'silent' }),
      tuning: { retryMinMs: 20 },
    });
    warehouse = opened.warehouse;
    closeWarehouse = opened.close;
  });
  after(async function () {
    this.timeout(30_000);
    await closeWarehouse?.();
    await w?.stop();
  });

  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as HealthBody };
  };

  it('is live while its consumers run and no job is past its deadline, ready while every integration answers', async () => {
    const fleet = new WorkerFleet(suite.deps);
    const now = Date.now();
    let stuckJob = false;
    const livenessOf = () => {
      const l = fleet.liveness();
      return stuckJob ? { ...l, jobStartedAt: [now - suite.deps.config.exportDeadlineSeconds * 1000 - 1000] } : l;
    };
    const health = await startHealthServer(
      0,
      {
        fleet: { liveness: livenessOf },
        config: suite.deps.config,
        aws: suite.aws,
        warehouse,
        benchlingBaseUrls: () => [suite.sim.url],
        now: () => now,
      },
      '127.0.0.1',
    );
    try {
      // Not started yet: no consumer polls, so the process is not live.
      expect((await get(`${health.url}/health/live`)).status).to.equal(503);
      fleet.start();
      const live = await get(`${health.url}/health/live`);
      expect(live.status).to.equal(200);
      expect(live.body.consumers).to.deep.equal({
        running: suite.deps.config.concurrency,
        slots: suite.deps.config.concurrency,
        stopping: false,
      });

      stuckJob = true;
      const stuck = await get(`${health.url}/health/live`);
      expect(stuck.status).to.equal(503);
      expect(stuck.body.stuckJobs).to.equal(1);
      stuckJob = false;

      const ready = await get(`${health.url}/health/ready`);
      expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
      expect(Object.keys(ready.body.checks)).to.have.members([
        'jobsQueue',
        'executionsTable',
        'entriesTable',
        'benchlingToken',
        'warehouse',
      ]);
      expect(ready.body.checks.warehouse).to.include({ ok: true });

      await w.postgres.stop();
      try {
        const down = await get(`${health.url}/health/ready`);
        expect(down.status).to.equal(503);
        expect(down.body.checks.warehouse.ok).to.equal(false);
        expect(down.body.checks.jobsQueue.ok).to.equal(true);
        expect(down.body.checks.benchlingToken.ok).to.equal(true);
      } finally {
        await w.postgres.start();
      }
      expect((await get(`${health.url}/health/ready`)).status).to.equal(200);
    } finally {
      await fleet.stop(1000);
      await health.close();
    }
  });

  it('checks no warehouse when none is configured', async () => {
    const fleet = new WorkerFleet(suite.deps);
    const health = await startHealthServer(
      0,
      { fleet, config: suite.deps.config, aws: suite.aws, benchlingBaseUrls: () => [] },
      '127.0.0.1',
    );
    try {
      const ready = await get(`${health.url}/health/ready`);
      expect(ready.status).to.equal(200);
      expect(ready.body.checks).to.not.have.property('warehouse');
      expect(ready.body.checks.benchlingToken.detail).to.deep.equal({ tenants: 0, note: 'no Benchling tenant seen yet' });
    } finally {
      await health.close();
    }
  });
});
