import { expect } from 'chai';
import { type Simulator, startSimulator, WEBHOOK_TYPES } from '@bp/benchling-sim';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type RunningIngress, startIngress } from './support/ingress.ts';

/** Deliveries built and signed by the Benchling simulator: an independent reading of the contract. */
describe('ingress: webhooks from the Benchling simulator', () => {
  let sim: Simulator;
  let ingress: RunningIngress;

  before(async function () {
    this.timeout(120_000);
    sim = await startSimulator();
    ingress = await startIngress({ ...(await isolatedEnv('simulator')), BENCHLING_JWKS_URL: sim.jwksUrl });
  });
  after(async () => {
    await ingress?.close();
    await sim?.close();
  });

  for (const routing of ['suffixed', 'stable'] as const) {
    it(`accepts every message type the app subscribes to, with ${routing} routing`, async () => {
      for (const type of WEBHOOK_TYPES) {
        const r = await sim.sendWebhook({
          to: ingress.url,
          type,
          routing,
          buttonId: 'update-package',
          canvasId: 'cnvs_sim',
          featureId: 'quilt_entry',
        });
        expect({ type, status: r.status }).to.deep.equal({ type, status: 202 });
      }
    });
  }

  it('answers a simulated redelivery with 200 and the original executionId', async () => {
    const first = await sim.sendWebhook({ to: ingress.url, type: 'v2.entry.created' });
    const again = await sim.sendWebhook({ to: ingress.url, type: 'v2.entry.created', webhookId: first.webhookId });
    expect(first.status).to.equal(202);
    expect(again.status).to.equal(200);
    expect(JSON.parse(again.body).executionId).to.equal(JSON.parse(first.body).executionId);
  });

  it('keeps accepting after the simulator rotates its key and drops the old one', async () => {
    sim.rotateKey({ keepOld: false });
    const r = await sim.sendWebhook({ to: ingress.url, type: 'v2.entry.updated.fields', updates: ['fields.Status'] });
    expect(r.status).to.equal(202);
  });
});
