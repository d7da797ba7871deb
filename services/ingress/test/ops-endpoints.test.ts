import { expect } from 'chai';
import { buildOpsDeps, createOpsAuth, createOpsRouter, opsApiConfigFromEnv } from '@bp/ops';
import { createLogger } from '@bp/shared';
import { PackagerMetrics } from '@bp/shared/metrics/index';
import { generateSigningKey } from '@bp/benchling-sim/signing';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type JwksServer, startJwksServer } from './support/jwks-server.ts';
import { type RunningIngress, startIngress } from './support/ingress.ts';
import { deliver, entryUpdated, signed } from './support/webhooks.ts';

describe('ops API and /metrics mounted on the ingress', () => {
  const key = generateSigningKey('kid-ops');
  let jwks: JwksServer;
  let ingress: RunningIngress;
  let destroy: () => void;

  before(async () => {
    const env = { ...(await isolatedEnv('opsmount')), OPS_TOKENS: 'oncall=s3cret-token-for-oncall' };
    jwks = await startJwksServer([key]);
    const opsConfig = opsApiConfigFromEnv(env);
    const logger = createLogger({ service: 'ops-test', level: 'silent' });
    const opsDeps = buildOpsDeps(env, { logger });
    destroy = () => opsDeps.destroy();
    ingress = await startIngress(
      { ...env, BENCHLING_JWKS_URL: jwks.url },
      {},
      {
        ops: {
          router: createOpsRouter({ ...opsDeps, auth: { tokens: opsConfig.tokens }, logger }),
          auth: createOpsAuth({ tokens: opsConfig.tokens }),
        },
        metrics: new PackagerMetrics(),
      },
    );
  });
  after(async () => {
    await ingress?.close();
    await jwks?.close();
    destroy?.();
  });

  it('answers 401 to ops calls and /metrics without a token or with a wrong one', async () => {
    for (const path of ['/ops/executions', '/metrics']) {
      expect((await fetch(`${ingress.url}${path}`)).status, path).to.equal(401);
      expect((await fetch(`${ingress.url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status, path).to.equal(401);
    }
  });

  it('lists the execution a webhook created, and counts the webhook in the Prometheus metrics', async () => {
    const d = signed([key], entryUpdated('etr_opsmount1'));
    const r = await deliver(ingress.url, d);
    expect(r.status).to.equal(202);
    const auth = { authorization: 'Bearer s3cret-token-for-oncall' };
    const list = await fetch(`${ingress.url}/ops/executions?status=QUEUED&since=1h`, { headers: auth });
    expect(list.status).to.equal(200);
    expect(JSON.stringify(await list.json())).to.include(String(r.json.executionId));
    const metrics = await fetch(`${ingress.url}/metrics`, { headers: auth });
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.match(/webhook[a-z_]*\{[^}]*outcome="accepted"[^}]*\} [1-9]/);
  });
});
