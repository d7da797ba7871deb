import { createPublicKey, verify } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expect } from 'chai';
import { buildWebhookPayload, generateSigningKey, startSimulator, WEBHOOK_TYPES, type Simulator } from '../src/index.ts';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
}

/** A receiver that records raw bodies, like our ingress must (signatures cover the raw bytes). */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const app = express();
  app.use(express.raw({ type: '*/*' }));
  app.post('/{*rest}', (req, res) => {
    received.push({ path: req.path, headers: req.headers, raw: (req.body as Buffer).toString('utf8') });
    res.status(202).json({ executionId: `exe_${received.length}` });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

type Jwk = { kty: string; crv: string; x: string; y: string; kid: string };

/** Verifies as the contract says: any `v…der` signature against any JWKS key. */
function verifies(r: Received, keys: Jwk[]): boolean {
  const signed = Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.raw}`, 'utf8');
  const sigs = String(r.headers['webhook-signature'])
    .split(' ')
    .map((s) => s.split(','))
    .filter(([v]) => v?.includes('der'))
    .map(([, sig]) => Buffer.from(sig!, 'base64'));
  return sigs.some((sig) =>
    keys.some((k) => verify('sha256', signed, { key: createPublicKey({ key: k, format: 'jwk' }), dsaEncoding: 'der' }, sig)),
  );
}

describe('webhooks from the simulator', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const jwks = async () => ((await (await fetch(sim.jwksUrl)).json()) as { keys: Jwk[] }).keys;

  beforeEach(async () => {
    sim = await startSimulator({ tenantId: 'ten_test', appId: 'app_test', appDefinitionId: 'appdef_test' });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await sim.close();
    await receiver.close();
  });

  it('signs the raw body so that the signature verifies against the JWKS key with node:crypto', async () => {
    const r = await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', entryId: 'etr_w1' });
    expect(r.status).to.equal(202);
    const got = receiver.received[0]!;
    expect(got.headers['webhook-signature']).to.match(/^v1bder,/);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).to.be.below(5);
    expect(got.headers['webhook-id']).to.equal(r.webhookId);
    expect(verifies(got, await jwks())).to.equal(true);
    const tampered = { ...got, raw: got.raw.replace('etr_w1', 'etr_w2') };
    expect(verifies(tampered, await jwks())).to.equal(false);
    expect(sim.state.jwksFetches).to.equal(2);
  });

  it('routes events to /event, lifecycle to /lifecycle and canvas to /canvas, or to the bare URL when stable', async () => {
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.updated.fields' });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.app.installed' });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.canvas.userInteracted' });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.canvas.created', routing: 'stable' });
    expect(receiver.received.map((x) => x.path)).to.deep.equal(['/hooks/event', '/hooks/lifecycle', '/hooks/canvas', '/hooks']);
  });

  it('builds the version "0" envelope with the message fields of every type in the contract', async () => {
    for (const type of WEBHOOK_TYPES) {
      await sim.sendWebhook({
        to: receiver.url,
        type,
        entryId: 'etr_w3',
        canvasId: 'cnvs_w3',
        buttonId: 'package_now',
        userId: 'ent_u1',
        featureId: 'quilt_entry',
      });
    }
    const bodies = receiver.received.map((x) => JSON.parse(x.raw));
    for (const [i, b] of bodies.entries()) {
      const type = WEBHOOK_TYPES[i]!;
      expect(b, type).to.deep.include({ version: '0', baseURL: sim.url, tenantId: 'ten_test', app: { id: 'app_test' } });
      expect(b.appDefinition, type).to.include({ id: 'appdef_test' });
      expect(b.appDefinition.versionNumber, type).to.be.a('string');
      expect(b.message.type, type).to.equal(type);
      expect(b.channel, type).to.equal(type.includes('.entry.') ? 'events' : 'app_signals');
    }
    const byType = Object.fromEntries(bodies.map((b) => [b.message.type, b.message]));
    expect(byType['v2.entry.created']).to.include({ resourceId: 'etr_w3' });
    expect(byType['v2.entry.created'].id).to.match(/^evt_/);
    expect(byType['v2.entry.created'].schema).to.have.property('id');
    expect(byType['v2.entry.updated.fields'].updates).to.be.an('array').that.is.not.empty;
    expect(byType['v2.canvas.initialized']).to.include({ featureId: 'quilt_entry', resourceId: 'etr_w3', userId: 'ent_u1' });
    expect(byType['v2.canvas.initialized']).to.not.have.property('canvasId');
    expect(byType['v2.canvas.created']).to.include({ canvasId: 'cnvs_w3', featureId: 'quilt_entry', userId: 'ent_u1' });
    expect(byType['v2-beta.canvas.created']).to.include({ canvasId: 'cnvs_w3' });
    expect(byType['v2.canvas.userInteracted']).to.include({
      buttonId: 'package_now',
      canvasId: 'cnvs_w3',
      featureId: 'quilt_entry',
      userId: 'ent_u1',
    });
    expect(sim.state.webhooksSent).to.have.length(WEBHOOK_TYPES.length);
  });

  it('keeps message.id stable when a delivery is resent with the same webhook id', async () => {
    const a = await sim.sendWebhook({
      to: receiver.url,
      type: 'v2.entry.created',
      webhookId: 'msg_dup',
      timestamp: Math.floor(Date.now() / 1000),
    });
    const b = await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', webhookId: 'msg_dup' });
    expect(a.webhookId).to.equal(b.webhookId);
    expect(JSON.parse(a.sentBody).message.id).to.equal(JSON.parse(b.sentBody).message.id);
    // A duplicate under a new delivery id (seen during app version promotions) keeps the event id only if told to.
    const c = await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created' });
    expect(JSON.parse(c.sentBody).message.id).to.not.equal(JSON.parse(a.sentBody).message.id);
    const d = await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', eventId: JSON.parse(a.sentBody).message.id });
    expect(JSON.parse(d.sentBody).message.id).to.equal(JSON.parse(a.sentBody).message.id);
  });

  it('sends a raw body, foreign keys or a forged signature when asked, so receivers can be tested for rejection', async () => {
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', body: '{"not":"json"' });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', keys: [generateSigningKey('stranger')] });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', signatureOverride: 'v1bder,AAAA' });
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created', timestamp: 1_000_000_000 });
    const [raw, foreign, forged, old] = receiver.received;
    expect(raw!.raw).to.equal('{"not":"json"');
    expect(verifies(raw!, await jwks())).to.equal(true);
    expect(verifies(foreign!, await jwks())).to.equal(false);
    expect(forged!.headers['webhook-signature']).to.equal('v1bder,AAAA');
    expect(old!.headers['webhook-timestamp']).to.equal('1000000000');
  });

  it('publishes both keys after a rotation and signs with the new one', async () => {
    const oldKid = sim.keys()[0]!.kid;
    const fresh = sim.rotateKey();
    expect(sim.keys().map((k) => k.kid)).to.deep.equal([fresh.kid, oldKid]);
    const published = await jwks();
    expect(published.map((k) => k.kid)).to.deep.equal([fresh.kid, oldKid]);
    await sim.sendWebhook({ to: receiver.url, type: 'v2.entry.created' });
    const got = receiver.received[0]!;
    expect(
      verifies(
        got,
        published.filter((k) => k.kid === fresh.kid),
      ),
    ).to.equal(true);
    expect(
      verifies(
        got,
        published.filter((k) => k.kid === oldKid),
      ),
    ).to.equal(false);

    sim.rotateKey({ keepOld: false });
    expect((await jwks()).map((k) => k.kid)).to.have.length(1);
  });

  it('sends on request over HTTP through POST /_sim/webhooks/send', async () => {
    const res = await fetch(`${sim.url}/_sim/webhooks/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: receiver.url, type: 'v2.canvas.userInteracted', canvasId: 'cnvs_http', buttonId: 'b1' }),
    });
    expect(res.status).to.equal(200);
    const result = (await res.json()) as { status: number; body: string; webhookId: string };
    expect(result.status).to.equal(202);
    expect(JSON.parse(result.body)).to.deep.equal({ executionId: 'exe_1' });
    const got = receiver.received[0]!;
    expect(got.path).to.equal('/hooks/canvas');
    expect(JSON.parse(got.raw).message).to.include({ canvasId: 'cnvs_http', buttonId: 'b1' });
    expect(verifies(got, await jwks())).to.equal(true);
  });

  it('serves the JWKS only for its app definition id and counts fetches', async () => {
    expect((await fetch(`${sim.url}/api/v1/apps/appdef_other/jwks`)).status).to.equal(404);
    await jwks();
    await jwks();
    expect(sim.state.jwksFetches).to.equal(2);
  });

  it('builds payloads without a simulator too, tolerating a null app definition id', () => {
    const p = buildWebhookPayload('v2.canvas.initialized', { appDefinitionId: null, entryId: 'etr_p' }) as {
      appDefinition: { id: string | null };
      message: Record<string, unknown>;
    };
    expect(p.appDefinition.id).to.equal(null);
    expect(p.message).to.include({ type: 'v2.canvas.initialized', resourceId: 'etr_p' });
    const unknown = buildWebhookPayload('v2.request.created', {}) as { channel: string; message: { type: string } };
    expect(unknown.channel).to.equal('events');
    expect(unknown.message.type).to.equal('v2.request.created');
  });
});
