import { expect } from 'chai';
import { buildOpsDeps, createOpsAuth, createOpsRouter, opsApiConfigFromEnv } from '@bp/ops';
import { createLogger } from '@bp/shared';
import { generateSigningKey } from '@bp/benchling-sim/signing';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type LocalWarehouse, startLocalWarehouse } from '@bp/local-stack/warehouse';
import { openWarehouse, warehouseConfigFromEnv, warehouseProbe } from '@bp/warehouse';
import { type JwksServer, startJwksServer } from './support/jwks-server.ts';
import { type RunningIngress, startIngress } from './support/ingress.ts';

/** GET /health and GET /ops/ready on the ingress, with a real warehouse behind the latter. */
describe("ingress /health and the operators' /ops/ready", function () {
  this.timeout(60_000);
  const key = generateSigningKey('kid-ready');
  let jwks: JwksServer;
  let ingress: RunningIngress;
  let w: LocalWarehouse;
  const closers: Array<() => unknown> = [];
  const auth = { authorization: 'Bearer s3cret-token-for-oncall' };

  before(async function () {
    this.timeout(60_000);
    const env = { ...(await isolatedEnv('opsready')), OPS_TOKENS: 'oncall=s3cret-token-for-oncall' };
    jwks = await startJwksServer([key]);
    w = await startLocalWarehouse();
    const logger = createLogger({ service: 'ops-test', level: 'silent' });
    const opened = await openWarehouse({ config: warehouseConfigFromEnv(w.env)!, logger, sizing: { min: 0, max: 2 } });
    closers.push(opened.close);
    const opsConfig = opsApiConfigFromEnv(env);
    const opsDeps = buildOpsDeps(env, { logger });
    closers.push(() => opsDeps.destroy());
    ingress = await startIngress(
      { ...env, BENCHLING_JWKS_URL: jwks.url },
      {},
      {
        ops: {
          router: createOpsRouter({ ...opsDeps, auth: { tokens: opsConfig.tokens }, logger }),
          auth: createOpsAuth({ tokens: opsConfig.tokens }),
        },
        integrationProbes: { warehouse: warehouseProbe(opened.warehouse, 1000) },
      },
    );
  });
  after(async function () {
    this.timeout(30_000);
    await ingress?.close();
    await jwks?.close();
    for (const c of closers) await c();
    await w?.stop();
  });

  it('answers plain /health without credentials, saying only that it is up', async () => {
    const res = await fetch(`${ingress.url}/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  it('refuses /ops/ready without an ops credential', async () => {
    expect((await fetch(`${ingress.url}/ops/ready`)).status).to.equal(401);
    expect((await fetch(`${ingress.url}/ops/ready`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
  });

  it("lists every integration's state, and shows the warehouse down while PostgreSQL is stopped", async () => {
    const up = await fetch(`${ingress.url}/ops/ready`, { headers: auth });
    expect(up.status).to.equal(200);
    const body = (await up.json()) as { ready: boolean; integrations: Record<string, { ok: boolean; error?: string }> };
    expect(Object.keys(body.integrations)).to.have.members([
      'dedupeTable',
      'executionsTable',
      'entriesTable',
      'jobsQueue',
      'deadLetterQueue',
      'benchlingSigningKeys',
      'warehouse',
    ]);
    expect(body.ready).to.equal(true);
    await w.postgres.stop();
    try {
      const down = (await (await fetch(`${ingress.url}/ops/ready`, { headers: auth })).json()) as typeof body;
      expect(down.ready).to.equal(false);
      expect(down.integrations.warehouse!.ok).to.equal(false);
      expect(down.integrations.warehouse!.error).to.be.a('string');
      expect(down.integrations.jobsQueue!.ok).to.equal(true);
    } finally {
      await w.postgres.start();
    }
  });
});
