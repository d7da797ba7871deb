import { expect } from 'chai';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, awsOptionsFromEnv, createLogger, resourceNamesFromEnv } from '@bp/shared';
import { isolatedEnv } from '@bp/local-stack/testing';
import { type PartnerJobMessage, PartnerJobMessageSchema } from '@bp/shared/partners/event';
import { LOCAL_PARTNER_SECRETS } from '@bp/shared/partners/local-partners';
import { partnerRegistryFromEnv } from '@bp/shared/partners/registry-from-env';
import { PartnerRegistry } from '@bp/shared/partners/registry';
import { buildOpsDeps, createWebhooksQueryRouter, opsApiConfigFromEnv, runCli } from '@bp/ops';
import { inspectionClients, type RunningIngress, startIngress } from './support/ingress.ts';
import { getItem } from './support/queue.ts';
import { icaNotification, newSecret, postPartner, signedPartner, standardEvent } from './support/partner-webhooks.ts';

/** Every partner job on the queue now, parsed with the worker's contract. */
async function drainPartnerJobs(aws: AwsClients, queueUrl: string): Promise<PartnerJobMessage[]> {
  const out: PartnerJobMessage[] = [];
  for (;;) {
    const res = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    if (!res.Messages?.length) return out;
    for (const m of res.Messages) out.push(PartnerJobMessageSchema.parse(JSON.parse(m.Body!)));
  }
}

describe('ingress: sequencing-partner webhooks (POST /webhooks/sequencing/:partnerId)', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let ingress: RunningIngress;
  let inspect: AwsClients;
  let registry: PartnerRegistry & { destroy(): void };
  let names: ReturnType<typeof resourceNamesFromEnv>;
  const pacbio = LOCAL_PARTNER_SECRETS.pacbio;

  before(async function () {
    this.timeout(120_000);
    env = {
      ...(await isolatedEnv('partners')),
      BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks',
      MAX_BODY_BYTES: String(64 * 1024),
      PARTNER_MAX_BODY_BYTES: String(64 * 1024),
    };
    names = resourceNamesFromEnv(env);
    inspect = inspectionClients(env);
    registry = partnerRegistryFromEnv(env, {
      doc: inspect.doc,
      tableName: names.partnersTable,
      aws: awsOptionsFromEnv(env, { requestTimeoutMs: 2000, maxAttempts: 2 }),
    });
    ingress = await startIngress(env, {}, { partners: registry });
    // Warm DynamoDB Local's transactions.
    await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], standardEvent('qc.complete', 'warmup')));
  });
  after(async () => {
    await ingress?.close();
    registry?.destroy();
    inspect?.destroy();
  });
  beforeEach(async () => {
    await drainPartnerJobs(inspect, names.jobsQueueUrl);
  });

  it('accepts signed standard events: 202 {eventId}, a job (normalised event, policy), a QUEUED execution (partner/type/run)', async () => {
    const d = signedPartner([pacbio], standardEvent('sequencing.complete', 'RUN-001'));
    const r = await postPartner(ingress.url, 'pacbio', d);
    expect(r.status, JSON.stringify(r.json)).to.equal(202);
    const eventId = r.json.eventId as string;
    expect(eventId).to.match(/^ex_/);
    expect(Object.keys(r.json)).to.deep.equal(['eventId']);

    const jobs = await drainPartnerJobs(inspect, names.jobsQueueUrl);
    expect(jobs).to.have.length(1);
    expect(jobs[0]).to.deep.include({ v: 1, kind: 'partner.sequencing.complete', executionId: eventId, partnerId: 'pacbio' });
    expect(jobs[0]!.trigger).to.deep.include({ webhookId: d.webhookId, type: 'sequencing.complete' });
    expect(jobs[0]!.event.run.id).to.equal('RUN-001');
    expect(jobs[0]!.event.files).to.deep.equal([
      { path: 'reads/S1_R1.fastq.gz', url: 'http://127.0.0.1:9999/runs/S1_R1.fastq.gz', size: 10 },
    ]);
    expect(jobs[0]!.policy).to.deep.include({ namespace: 'pacbio', maxRetries: 5 });

    const rec = await getItem(inspect, names.executionsTable, { executionId: eventId });
    expect(rec).to.deep.include({
      status: 'QUEUED',
      kind: 'partner.sequencing.complete',
      partnerId: 'pacbio',
      eventType: 'sequencing.complete',
      runId: 'RUN-001',
      tenantId: 'partner:pacbio',
      entryKey: 'partner:pacbio#-',
    });
  });

  it('answers a replayed webhook-id (re-signed later) with 200 and the same eventId, and enqueues exactly one job', async () => {
    const body = standardEvent('qc.complete', 'RUN-002', { data: { passed: true, qualityScore: 35, coverage: 30 } });
    const first = signedPartner([pacbio], body);
    const r1 = await postPartner(ingress.url, 'pacbio', first);
    const r2 = await postPartner(ingress.url, 'pacbio', first);
    const r3 = await postPartner(
      ingress.url,
      'pacbio',
      signedPartner([pacbio], body, { webhookId: first.webhookId, timestamp: first.timestamp + 30 }),
    );
    expect(r1.status).to.equal(202);
    for (const r of [r2, r3]) expect(r).to.deep.equal({ status: 200, json: { eventId: r1.json.eventId, duplicate: true } });
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(1);
  });

  it('keeps webhook-ids apart per partner: the same id from two partners is two events', async () => {
    const webhookId = `msg_shared_${Date.now()}`;
    const a = await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], standardEvent('qc.complete', 'RUN-S'), { webhookId }));
    const b = await postPartner(
      ingress.url,
      'ont',
      signedPartner([LOCAL_PARTNER_SECRETS.ont], standardEvent('qc.complete', 'RUN-S'), { webhookId }),
    );
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    expect(a.json.eventId).to.not.equal(b.json.eventId);
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(2);
  });

  it('accepts an ICA ICA_EXEC_002 notification from an ica partner and normalises it to analysis.complete', async () => {
    const r = await postPartner(
      ingress.url,
      'illumina',
      signedPartner([LOCAL_PARTNER_SECRETS.illumina], icaNotification('ICA_EXEC_002', 'ana_77')),
    );
    expect(r.status, JSON.stringify(r.json)).to.equal(202);
    const [job] = await drainPartnerJobs(inspect, names.jobsQueueUrl);
    expect(job).to.deep.include({ kind: 'partner.analysis.complete', partnerId: 'illumina', executionId: r.json.eventId });
    expect(job!.event).to.deep.include({ type: 'analysis.complete' });
    expect(job!.event.run).to.deep.equal({
      id: 'run-ana_77-dragen',
      startedAt: '2026-11-30T09:00:00Z',
      completedAt: '2026-11-30T10:15:00Z',
    });
    expect(job!.event.data).to.deep.include({ status: 'SUCCEEDED', pipeline: 'DRAGEN Germline' });
    expect((job!.event.data!.ica as Record<string, unknown>).eventCode).to.equal('ICA_EXEC_002');
    const failed = await postPartner(
      ingress.url,
      'illumina',
      signedPartner([LOCAL_PARTNER_SECRETS.illumina], icaNotification('ICA_EXEC_001', 'ana_78', { description: 'Analysis failed' })),
    );
    expect(failed.status).to.equal(202);
    const [err] = await drainPartnerJobs(inspect, names.jobsQueueUrl);
    expect(err!.event.type).to.equal('error.notification');
    expect(err!.event.data).to.deep.include({ severity: 'error', message: 'Analysis failed', code: 'ICA_EXEC_001' });
  });

  it('answers 404 for an unknown partner and 403 for an inactive one, enqueuing nothing', async () => {
    const body = standardEvent('qc.complete', 'RUN-404');
    expect((await postPartner(ingress.url, 'nobody', signedPartner([pacbio], body))).status).to.equal(404);
    expect((await postPartner(ingress.url, 'UPPER..bad', signedPartner([pacbio], body))).status).to.equal(404);
    await registry.setActive('pacbio', false);
    try {
      const r = await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], body));
      expect(r).to.deep.equal({ status: 403, json: { error: 'inactive_partner', partnerId: 'pacbio' } });
    } finally {
      await registry.setActive('pacbio', true);
    }
    expect((await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], body))).status).to.equal(202);
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(1);
  });

  it('answers 401 for a wrong secret, a stale or future timestamp and missing headers', async () => {
    const body = standardEvent('qc.complete', 'RUN-401');
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, { headers: Record<string, string>; body: string }]> = [
      ['bad_signature', signedPartner([newSecret()], body)],
      ['bad_signature', signedPartner([LOCAL_PARTNER_SECRETS.ont], body)],
      ['stale_timestamp', signedPartner([pacbio], body, { timestamp: now - 301 })],
      ['stale_timestamp', signedPartner([pacbio], body, { timestamp: now + 301 })],
      ['missing_headers', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }],
    ];
    for (const [reason, d] of cases) {
      const r = await postPartner(ingress.url, 'pacbio', d);
      expect(r, reason).to.deep.equal({ status: 401, json: { error: 'unauthorized', reason } });
    }
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
  });

  it('answers 422 naming an event type the partner does not send, or that nobody sends', async () => {
    const notOnt = await postPartner(
      ingress.url,
      'ont',
      signedPartner([LOCAL_PARTNER_SECRETS.ont], standardEvent('analysis.complete', 'RUN-422')),
    );
    expect(notOnt.status).to.equal(422);
    expect(notOnt.json).to.include({ error: 'unsupported_event_type', type: 'analysis.complete' });
    const unknown = await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], standardEvent('run.started', 'RUN-422')));
    expect(unknown.status).to.equal(422);
    expect(unknown.json).to.include({ type: 'run.started' });
    const ica = await postPartner(
      ingress.url,
      'illumina',
      signedPartner([LOCAL_PARTNER_SECRETS.illumina], icaNotification('ICA_DATA_100', 'ana_9')),
    );
    expect(ica.status).to.equal(422);
    expect(ica.json).to.include({ type: 'ICA_DATA_100' });
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
  });

  it('answers 400 naming the field: not JSON, a missing run id, a traversing path, a metadata-address URL', async () => {
    const cases: Array<[string, unknown]> = [
      ['(body)', '{"id": "x", '],
      ['run.id', { ...standardEvent('qc.complete', 'x'), run: {} }],
      ['files.0.path', standardEvent('sequencing.complete', 'R', { files: [{ path: '../../etc/passwd', url: 'http://127.0.0.1:9/a' }] })],
      [
        'files.0.url',
        standardEvent('sequencing.complete', 'R', { files: [{ path: 'a', url: 'http://169.254.169.254/latest/meta-data/' }] }),
      ],
      ['files.0.url', standardEvent('sequencing.complete', 'R', { files: [{ path: 'a', url: 'https://evil.example.com/a' }] })],
    ];
    for (const [field, body] of cases) {
      const r = await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], body));
      expect(r.status, `${field}: ${JSON.stringify(r.json)}`).to.equal(400);
      expect(r.json).to.include({ error: 'malformed', field });
    }
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
  });

  it('answers 413 for a body over PARTNER_MAX_BODY_BYTES', async () => {
    const body = standardEvent('qc.complete', 'RUN-413', { data: { blob: 'x'.repeat(70 * 1024) } });
    const r = await postPartner(ingress.url, 'pacbio', signedPartner([pacbio], body));
    expect(r.status).to.equal(413);
    expect(await drainPartnerJobs(inspect, names.jobsQueueUrl)).to.have.length(0);
  });

  it('rotates a secret with `pnpm ops partners rotate-secret`: both verify during it, the old one is refused after --finish', async () => {
    const id = `rot${Date.now().toString(36)}`;
    const [oldSecret, newSecretValue] = [newSecret(), newSecret()];
    const cli = async (args: string[]) => {
      let out = '';
      const code = await runCli(args, { env, stdout: (t) => (out += t), stderr: (t) => (out += t) });
      expect(code, out).to.equal(0);
      expect(out).to.not.include(oldSecret.slice(6)).and.not.include(newSecretValue.slice(6));
      return out;
    };
    await cli([
      'partners',
      'add',
      '--id',
      id,
      '--name',
      'Rotating lab',
      '--events',
      'qc.complete,sequencing.complete',
      '--secret',
      oldSecret,
      '--allow-url',
      '^https://data\\.lab\\.example/.*$',
    ]);
    const send = (secret: string) =>
      postPartner(ingress.url, id, signedPartner([secret], standardEvent('qc.complete', 'RUN-ROT', { files: undefined })));
    expect((await send(oldSecret)).status).to.equal(202);
    expect((await send(newSecretValue)).status).to.equal(401);

    await cli(['partners', 'rotate-secret', id, '--secret', newSecretValue]);
    expect((await send(oldSecret)).status, 'old during rotation').to.equal(202);
    expect((await send(newSecretValue)).status, 'new during rotation').to.equal(202);
    // A sender signing with both during the rotation passes too.
    expect(
      (
        await postPartner(
          ingress.url,
          id,
          signedPartner([oldSecret, newSecretValue], standardEvent('qc.complete', 'RUN-ROT', { files: undefined })),
        )
      ).status,
    ).to.equal(202);

    await cli(['partners', 'rotate-secret', id, '--finish']);
    expect((await send(oldSecret)).status, 'old after --finish').to.equal(401);
    expect((await send(newSecretValue)).status, 'new after --finish').to.equal(202);
  });

  it('stops verifying the previous secret once a configured overlap has passed', async () => {
    const id = `ovl${Date.now().toString(36)}`;
    const [a, b] = [newSecret(), newSecret()];
    await registry.add({ id, name: 'Overlap lab', eventTypes: ['qc.complete'], secret: a, allowUrls: ['^https://x\\.example/.*$'] });
    await registry.rotateSecret(id, b, { overlapSeconds: 1 });
    const send = (secret: string) =>
      postPartner(ingress.url, id, signedPartner([secret], standardEvent('qc.complete', 'RUN-OVL', { files: undefined })));
    expect((await send(a)).status).to.equal(202);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await send(a)).status).to.equal(401);
    expect((await send(b)).status).to.equal(202);
  });
});

describe('ingress: partner webhooks when DynamoDB or SQS is unavailable', function () {
  this.timeout(60_000);
  let env: Record<string, string>;

  before(async function () {
    this.timeout(120_000);
    env = { ...(await isolatedEnv('partners503')), BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks', AWS_MAX_ATTEMPTS: '1' };
  });

  for (const [what, override] of [
    ['DynamoDB', { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' }],
    ['SQS', { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1' }],
  ] as const) {
    it(`answers 503 with Retry-After when ${what} cannot be reached, and leaves no records behind`, async () => {
      const broken = { ...env, ...override };
      const inspect = inspectionClients(env);
      const brokenClients = inspectionClients(broken);
      const registry = partnerRegistryFromEnv(broken, {
        doc: brokenClients.doc,
        tableName: resourceNamesFromEnv(env).partnersTable,
        aws: awsOptionsFromEnv(broken, { requestTimeoutMs: 700, maxAttempts: 1 }),
      });
      const ingress = await startIngress(broken, {}, { partners: registry });
      try {
        const d = signedPartner([LOCAL_PARTNER_SECRETS.pacbio], standardEvent('qc.complete', 'RUN-503'));
        const res = await fetch(`${ingress.url}/webhooks/sequencing/pacbio`, { method: 'POST', headers: d.headers, body: d.body });
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after')).to.equal('5');
        expect(await getItem(inspect, resourceNamesFromEnv(env).dedupeTable, { webhookId: `partner#pacbio#${d.webhookId}` })).to.equal(
          undefined,
        );
      } finally {
        await ingress.close();
        brokenClients.destroy();
        inspect.destroy();
      }
    });
  }
});

describe('ingress: a secret store that does not answer', function () {
  this.timeout(60_000);

  it('answers 503 within the request budget instead of waiting for it', async () => {
    const env = {
      ...(await isolatedEnv('partnerssm')),
      BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks',
      REQUEST_BUDGET_MS: '400',
      JWKS_REQUEST_WAIT_MS: '100',
    };
    const inspect = inspectionClients(env);
    // Secrets Manager stand-in whose reads never come back (no emulator runs locally).
    const stalled = {
      put: async () => 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x',
      get: () => new Promise<string>(() => undefined),
    };
    const registry = new PartnerRegistry({ doc: inspect.doc, tableName: resourceNamesFromEnv(env).partnersTable, vault: stalled });
    const secret = newSecret();
    await registry.add({ id: 'stalled', name: 'Stalled', eventTypes: ['qc.complete'], secret, allowUrls: ['^https://x\\.example/.*$'] });
    const ingress = await startIngress(env, {}, { partners: registry });
    try {
      const started = Date.now();
      const r = await postPartner(
        ingress.url,
        'stalled',
        signedPartner([secret], standardEvent('qc.complete', 'RUN-SM', { files: undefined })),
      );
      expect(r).to.deep.equal({ status: 503, json: { error: 'unavailable', code: 'PartnerSecretUnavailable' } });
      expect(Date.now() - started).to.be.below(2000);
    } finally {
      await ingress.close();
      inspect.destroy();
    }
  });
});

describe('ingress: the partner events API under /webhooks reflects what partners sent', function () {
  this.timeout(60_000);
  let ingress: RunningIngress;
  let destroy: () => void;
  const token = 'webhooks-api-token-0123456789';

  before(async function () {
    this.timeout(120_000);
    const env = { ...(await isolatedEnv('partnersapi')), BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks', OPS_TOKENS: `oncall=${token}` };
    const logger = createLogger({ service: 'partners-api-test', level: 'silent' });
    const opsDeps = buildOpsDeps(env, { logger });
    destroy = () => opsDeps.destroy();
    const tokens = opsApiConfigFromEnv(env).tokens;
    ingress = await startIngress(
      env,
      {},
      { partners: opsDeps.partners!, webhooksQuery: createWebhooksQueryRouter({ ...opsDeps, auth: { tokens }, logger }) },
    );
  });
  after(async () => {
    await ingress?.close();
    destroy?.();
  });

  it('needs the ops credentials, then lists exactly the events sent, as received, with stats to match', async () => {
    expect((await fetch(`${ingress.url}/webhooks/events`)).status).to.equal(401);
    const sent: string[] = [];
    for (const [partner, secret, type] of [
      ['pacbio', LOCAL_PARTNER_SECRETS.pacbio, 'qc.complete'],
      ['pacbio', LOCAL_PARTNER_SECRETS.pacbio, 'sequencing.complete'],
      ['ont', LOCAL_PARTNER_SECRETS.ont, 'qc.complete'],
    ] as const) {
      const r = await postPartner(ingress.url, partner, signedPartner([secret], standardEvent(type, `RUN-${type}`)));
      expect(r.status).to.equal(202);
      sent.push(r.json.eventId as string);
    }
    // Refused deliveries leave no event behind.
    expect((await postPartner(ingress.url, 'pacbio', signedPartner([newSecret()], standardEvent('qc.complete', 'RUN-X')))).status).to.equal(
      401,
    );
    const get = async (path: string) =>
      (await (await fetch(`${ingress.url}/webhooks${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<
        string,
        unknown
      >;
    const events = (await get('/events?limit=100')).events as Array<Record<string, unknown>>;
    expect(events.map((e) => e.eventId).sort()).to.deep.equal([...sent].sort());
    expect(events.every((e) => e.status === 'received' && e.retries === 0)).to.equal(true);
    const pacbio = (await get('/partners/pacbio/events')).events as Array<Record<string, unknown>>;
    expect(pacbio.map((e) => e.type).sort()).to.deep.equal(['qc.complete', 'sequencing.complete']);
    const stats = (await get('/stats')) as {
      total: number;
      byPartner: Record<string, { total: number }>;
      byType: Record<string, { total: number }>;
    };
    expect(stats.total).to.equal(3);
    expect([stats.byPartner.pacbio!.total, stats.byPartner.ont!.total, stats.byPartner.illumina!.total]).to.deep.equal([2, 1, 0]);
    expect(stats.byType['qc.complete']!.total).to.equal(2);
    const one = await get(`/events/${sent[2]}`);
    expect(one).to.deep.include({ eventId: sent[2], partnerId: 'ont', type: 'qc.complete', runId: 'RUN-qc.complete', status: 'received' });
  });
});
