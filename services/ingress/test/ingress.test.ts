import { expect } from 'chai';
import { type AwsClients, type JobMessage, resourceNamesFromEnv } from '@bp/shared';
import { generateSigningKey } from '@bp/benchling-sim/signing';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type JwksServer, startJwksServer } from './support/jwks-server.ts';
import { capturedLogs, inspectionClients, type RunningIngress, startIngress } from './support/ingress.ts';
import { drainJobs, enqueuedRecord, getItem } from './support/queue.ts';
import { dedupeKeyOf, deliver, entryUpdated, envelope, signed } from './support/webhooks.ts';

describe('ingress: verified webhooks become queued jobs', () => {
  const key = generateSigningKey('kid-1');
  let env: Record<string, string>;
  let jwks: JwksServer;
  let ingress: RunningIngress;
  let inspect: AwsClients;
  let names: ReturnType<typeof resourceNamesFromEnv>;

  before(async function () {
    this.timeout(120_000);
    env = await isolatedEnv('ingress');
    names = resourceNamesFromEnv(env);
    jwks = await startJwksServer([key]);
    ingress = await startIngress({ ...env, BENCHLING_JWKS_URL: jwks.url });
    inspect = inspectionClients(env);
    // DynamoDB Local's first transactions are slow (JVM warm-up): keep that out of the timings.
    await deliver(ingress.url, signed([key], entryUpdated()));
  });
  after(async () => {
    await ingress?.close();
    await jwks?.close();
    inspect?.destroy();
  });
  // Each test sees only the jobs it caused.
  beforeEach(async () => {
    await drainJobs(inspect, names.jobsQueueUrl);
  });

  it('answers 202 with an executionId, enqueues a v1 job that parses, and records a QUEUED execution', async () => {
    const d = signed([key], entryUpdated('etr_42'));
    const res = await deliver(ingress.url, d);
    expect(res.status).to.equal(202);
    expect(res.ms).to.be.below(3000);
    const executionId = res.json.executionId as string;
    expect(executionId).to.match(/^ex_/);

    const jobs = await drainJobs(inspect, names.jobsQueueUrl);
    expect(jobs).to.have.length(1);
    const job = jobs[0]!;
    expect(job).to.deep.include({
      v: 1,
      kind: 'entry.package',
      executionId,
      tenantId: 'ten_acme',
      baseURL: 'https://acme.benchling.com',
      appId: 'app_123',
      entryId: 'etr_42',
    });
    expect(job.trigger).to.deep.include({ webhookId: d.webhookId, type: 'v2.entry.updated.fields', updates: ['fields.Status'] });
    expect(job.trigger.eventId).to.match(/^evt_/);

    const execution = await getItem(inspect, names.executionsTable, { executionId });
    expect(execution).to.deep.include({ status: 'QUEUED', kind: 'entry.package', tenantId: 'ten_acme', entryKey: 'ten_acme#etr_42' });
    const dedupe = await enqueuedRecord(inspect, names.dedupeTable, dedupeKeyOf(d));
    expect(dedupe).to.deep.include({ executionId, state: 'ENQUEUED' });
    const ttlDays = ((dedupe!.expiresAt as number) - Date.now() / 1000) / 86_400;
    expect(ttlDays).to.be.within(6.99, 7.01);
  });

  it('answers a redelivery of the same webhook-id with 200 and the original executionId, enqueuing nothing more', async () => {
    const d = signed([key], entryUpdated());
    const first = await deliver(ingress.url, d);
    const again = await deliver(ingress.url, d);
    // Benchling's own resend is signed afresh (new timestamp), same webhook-id.
    const resend = await deliver(ingress.url, signed([key], d.body, { webhookId: d.webhookId }), '/');
    expect(first.status).to.equal(202);
    for (const r of [again, resend]) {
      expect(r.status).to.equal(200);
      expect(r.json).to.deep.equal({ executionId: first.json.executionId, duplicate: true });
    }
    expect(await drainJobs(inspect, names.jobsQueueUrl)).to.have.length(1);
  });

  it('answers the same event resent under a new webhook-id (as during a version promotion) as a duplicate', async () => {
    const body = entryUpdated('etr_resent');
    const first = await deliver(ingress.url, signed([key], body));
    const resent = await deliver(ingress.url, signed([key], body));
    expect(first.status).to.equal(202);
    expect(resent.status).to.equal(200);
    expect(resent.json).to.deep.equal({ executionId: first.json.executionId, duplicate: true });
    // Another event for the same entry is a change of its own.
    const next = await deliver(ingress.url, signed([key], entryUpdated('etr_resent')));
    expect(next.status).to.equal(202);
    expect(await drainJobs(inspect, names.jobsQueueUrl)).to.have.length(2);
  });

  it('routes by message.type whatever the path: bare URL, /lifecycle and /canvas', async () => {
    const init = signed(
      [key],
      envelope({ type: 'v2.canvas.initialized', featureId: 'quilt_entry', resourceId: 'etr_7', userId: 'ent_u1' }),
    );
    const installed = signed([key], envelope({ type: 'v2.app.installed' }));
    const button = signed(
      [key],
      envelope({
        type: 'v2.canvas.userInteracted',
        buttonId: 'update-package',
        canvasId: 'cnvs_1',
        featureId: 'quilt_entry',
        userId: 'ent_u1',
      }),
    );
    const created = signed(
      [key],
      envelope({ type: 'v2-beta.canvas.created', canvasId: 'cnvs_2', featureId: 'quilt_entry', userId: 'ent_u1', resourceId: 'etr_8' }),
    );
    // Lifecycle sent to /event and an entry event to /canvas: the path does not decide.
    const results = [
      await deliver(ingress.url, init, '/'),
      await deliver(ingress.url, installed, '/event'),
      await deliver(ingress.url, button, '/canvas'),
      await deliver(ingress.url, created, '/lifecycle'),
    ];
    expect(results.map((r) => r.status)).to.deep.equal([202, 202, 202, 202]);
    const jobs = new Map((await drainJobs(inspect, names.jobsQueueUrl)).map((j) => [j.trigger.webhookId, j]));
    expect(jobs.get(init.webhookId)).to.deep.include({ kind: 'canvas.init', entryId: 'etr_7' });
    expect(jobs.get(init.webhookId)!.trigger).to.deep.include({ featureId: 'quilt_entry', userId: 'ent_u1' });
    expect(jobs.get(installed.webhookId)).to.deep.include({ kind: 'app.lifecycle', appId: 'app_123' });
    expect(jobs.get(button.webhookId)).to.deep.include({ kind: 'entry.package', canvasId: 'cnvs_1' });
    expect(jobs.get(button.webhookId)!.trigger.buttonId).to.equal('update-package');
    expect(jobs.get(created.webhookId)).to.deep.include({ kind: 'entry.package', canvasId: 'cnvs_2', entryId: 'etr_8' });
  });

  it('acknowledges unknown types and unconfigured buttons with 200 ignored, counts them, and enqueues nothing', async () => {
    const unknown = await deliver(ingress.url, signed([key], envelope({ type: 'v2.request.created', id: 'evt_1', resourceId: 'req_1' })));
    const otherButton = await deliver(
      ingress.url,
      signed([key], envelope({ type: 'v2.canvas.userInteracted', buttonId: 'open-docs', canvasId: 'cnvs_1', featureId: 'f', userId: 'u' })),
      '/canvas',
    );
    expect(unknown.status).to.equal(200);
    expect(unknown.json).to.deep.equal({ ignored: 'unsupported_type', type: 'v2.request.created' });
    expect(otherButton.status).to.equal(200);
    expect(otherButton.json.ignored).to.equal('button_not_configured');
    expect(await drainJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
    const live = (await (await fetch(`${ingress.url}/health/live`)).json()) as { outcomes: Record<string, number> };
    expect(live.outcomes['ignored:v2.request.created']).to.be.at.least(1);
  });

  it('enqueues exactly one job when 20 copies of one webhook arrive at once, and no copy gets a 2xx with another id', async () => {
    const d = signed([key], entryUpdated('etr_race'));
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(ingress.url, d)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).to.have.length(1);
    for (const a of answers) {
      // 2xx only with the one id; anything else must be retryable (409/503 with Retry-After).
      expect([200, 202, 409, 503]).to.include(a.status);
      expect(a.ms).to.be.below(3000);
      if (a.status >= 400) expect(Number(a.headers.get('retry-after'))).to.be.at.least(1);
    }
    const ids = new Set(answers.filter((a) => a.status < 300).map((a) => a.json.executionId));
    expect(ids.size).to.equal(1);
    const jobs = await drainJobs(inspect, names.jobsQueueUrl);
    expect(jobs.map((j: JobMessage) => j.executionId)).to.deep.equal([...ids]);
  });

  describe('rejects what Benchling did not sign, with 401 and nothing enqueued', () => {
    const stranger = generateSigningKey('kid-stranger');
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => { body: string; headers: Record<string, string> }][] = [
      ['a missing webhook-id', () => withoutHeader(signed([key], entryUpdated()), 'webhook-id')],
      ['a missing webhook-timestamp', () => withoutHeader(signed([key], entryUpdated()), 'webhook-timestamp')],
      ['a missing webhook-signature', () => withoutHeader(signed([key], entryUpdated()), 'webhook-signature')],
      ['a signature by a key not in the JWKS', () => signed([stranger], entryUpdated())],
      ['a timestamp 301 s old', () => signed([key], entryUpdated(), { at: now() - 301 })],
      ['a timestamp 301 s in the future', () => signed([key], entryUpdated(), { at: now() + 301 })],
      ['a delivery recorded 10 minutes ago and replayed', () => signed([key], entryUpdated(), { at: now() - 600 })],
      [
        'the same JSON re-serialised (different bytes)',
        () => {
          const d = signed([key], entryUpdated());
          return { headers: d.headers, body: JSON.stringify(JSON.parse(d.body), null, 2) };
        },
      ],
      [
        'a signature made for another webhook-id',
        () => {
          const d = signed([key], entryUpdated());
          return { body: d.body, headers: { ...d.headers, 'webhook-id': `${d.webhookId}-other` } };
        },
      ],
      [
        'only non-DER signature entries',
        () => {
          const d = signed([key], entryUpdated());
          return {
            body: d.body,
            headers: { ...d.headers, 'webhook-signature': d.headers['webhook-signature']!.replace('v1bder,', 'v1,') },
          };
        },
      ],
    ];
    for (const [what, make] of cases) {
      it(`rejects ${what}`, async () => {
        const res = await deliver(ingress.url, make());
        expect(res.status).to.equal(401);
        expect(res.json.error).to.equal('unauthorized');
        expect(res.ms).to.be.below(3000);
      });
    }
    after(async () => {
      expect(await drainJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
    });
  });

  it('accepts a timestamp 299 s old (inside the tolerance)', async () => {
    const res = await deliver(ingress.url, signed([key], entryUpdated(), { at: Math.floor(Date.now() / 1000) - 299 }));
    expect(res.status).to.equal(202);
  });

  it('answers 400 naming the field for malformed payloads', async () => {
    const notJson = await deliver(ingress.url, signed([key], '{"version":"0",'));
    const noTenant = envelope({ type: 'v2.entry.created', id: 'evt_1', resourceId: 'etr_1' });
    delete noTenant.tenantId;
    const noTenantRes = await deliver(ingress.url, signed([key], noTenant));
    const noResource = await deliver(ingress.url, signed([key], envelope({ type: 'v2.entry.created', id: 'evt_1' })));
    expect(notJson.status).to.equal(400);
    expect(notJson.json.message).to.match(/not valid JSON/);
    expect(noTenantRes.status).to.equal(400);
    expect(noTenantRes.json).to.deep.include({ field: 'tenantId' });
    expect(noResource.status).to.equal(400);
    expect(noResource.json).to.deep.include({ field: 'message.resourceId' });
    expect(noResource.json.message).to.match(/message\.resourceId is required/);
    expect(await drainJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
  });

  it('answers 400 for an id too long to store, and keeps only the first 100 changed fields of a huge update list', async () => {
    // A signed but absurd resource id (3,000 characters) could never be stored: DynamoDB refuses a
    // key over 2,048 bytes, and an "unavailable" 503 would be retried for ever. Ids over 256 characters
    // (Benchling's are about 30) are malformed: final.
    const long = await deliver(
      ingress.url,
      signed([key], envelope({ type: 'v2.entry.created', id: 'evt_long', resourceId: `etr_${'x'.repeat(3000)}` })),
    );
    expect(long.status).to.equal(400);
    expect(long.json).to.deep.include({ field: 'entryId' });
    // 3,000 changed fields (as many as fit the 64 KiB body limit): the change is packaged all the
    // same; the list is for information.
    const many = entryUpdated('etr_many_updates');
    (many.message as Record<string, unknown>).updates = Array.from({ length: 3000 }, (_, i) => `fields.F${i}`);
    const res = await deliver(ingress.url, signed([key], many));
    expect(res.status).to.equal(202);
    const [job] = await drainJobs(inspect, names.jobsQueueUrl);
    expect(job!.trigger.updates).to.have.length(100);
    expect(job!.trigger.updates![99]).to.equal('fields.F99');
  });

  it('tolerates unknown fields and a null appDefinition.id', async () => {
    const body: Record<string, unknown> = { ...entryUpdated(), appDefinition: { id: null }, futureField: { nested: true } };
    (body.message as Record<string, unknown>).brandNew = 1;
    expect((await deliver(ingress.url, signed([key], body))).status).to.equal(202);
  });

  it('answers 413 for a body over the limit', async () => {
    const big = envelope({ type: 'v2.entry.created', id: 'evt_1', resourceId: 'etr_1', padding: 'x'.repeat(ingress.config.maxBodyBytes) });
    const res = await deliver(ingress.url, signed([key], big));
    expect(res.status).to.equal(413);
    expect(res.json.error).to.equal('too_large');
  });

  it('logs one JSON line per request with webhookId and executionId, and never the signature or the body', async () => {
    const marker = `secret-marker-${Date.now()}`;
    const body = entryUpdated();
    (body.message as Record<string, unknown>).note = marker;
    const d = signed([key], body);
    const res = await deliver(ingress.url, d);
    const lines = capturedLogs.filter((l) => l.webhookId === d.webhookId && l.message === 'webhook');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.deep.include({
      message: 'webhook',
      outcome: 'accepted',
      status: 202,
      executionId: res.json.executionId,
      type: 'v2.entry.updated.fields',
    });
    expect(lines[0]!.ms).to.be.a('number');
    const all = JSON.stringify(capturedLogs);
    expect(all).not.to.include(marker);
    expect(all).not.to.include(d.headers['webhook-signature']!.split(',')[1]!.slice(0, 40));
    for (const l of capturedLogs.filter((x) => x.message === 'webhook')) expect(l).to.have.property('webhookId');
  });
});

describe('ingress: signing key rotation', () => {
  const key = generateSigningKey('kid-1');
  let jwks: JwksServer;
  let ingress: RunningIngress;

  before(async function () {
    this.timeout(120_000);
    const env = await isolatedEnv('rotation');
    jwks = await startJwksServer([key]);
    // A fresh cache: no on-demand refresh has happened yet, as in a long-running ingress.
    ingress = await startIngress({ ...env, BENCHLING_JWKS_URL: jwks.url });
  });
  after(async () => {
    await ingress?.close();
    await jwks?.close();
  });

  it('accepts webhooks signed by a rotated key after exactly one JWKS refresh', async () => {
    const next = generateSigningKey('kid-2');
    jwks.setKeys([next]);
    const before = jwks.fetches;
    const first = await deliver(ingress.url, signed([next], entryUpdated()));
    expect(first.status).to.equal(202);
    expect(jwks.fetches).to.equal(before + 1);
    const second = await deliver(ingress.url, signed([next], entryUpdated()));
    expect(second.status).to.equal(202);
    // Forged traffic right after cannot make the ingress hammer the JWKS endpoint.
    const forged = await Promise.all(
      Array.from({ length: 5 }, () => deliver(ingress.url, signed([generateSigningKey('x')], entryUpdated()))),
    );
    expect(forged.map((f) => f.status)).to.deep.equal([401, 401, 401, 401, 401]);
    expect(jwks.fetches).to.equal(before + 1);
    // The old key is gone from the JWKS, so it no longer verifies.
    expect((await deliver(ingress.url, signed([key], entryUpdated()))).status).to.equal(401);
  });
});

function withoutHeader(
  d: { body: string; headers: Record<string, string> },
  name: string,
): { body: string; headers: Record<string, string> } {
  const headers = { ...d.headers };
  delete headers[name];
  return { body: d.body, headers };
}
