import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import { createLogger, newExecutionId, newQueuedExecution, partnerTenantId } from '@bp/shared';
import { PARTNER_JOB_KINDS, type PartnerEventType } from '@bp/shared/partners/event';
import { createOpsRouter, createWebhooksQueryRouter, EXIT, type OpsDeps, parseOpsTokens, runCli } from '../src/index.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { drain, opsStack } from './support.ts';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(args, { env, stdout: (t) => (out += t), stderr: (t) => (out += t), user: 'test' });
  return { code, out };
}

/** A partner event's execution as the ingress creates it, then advanced through the store like a worker would. */
async function partnerEvent(
  deps: OpsDeps,
  partnerId: string,
  type: PartnerEventType,
  runId: string,
  to: 'received' | 'processing' | 'retrying' | 'completed' | 'failed',
): Promise<string> {
  const now = new Date();
  const id = newExecutionId(now);
  await deps.executions.create(
    newQueuedExecution({
      executionId: id,
      tenantId: partnerTenantId(partnerId),
      kind: PARTNER_JOB_KINDS[type],
      trigger: { webhookId: `msg_${id}`, type, receivedAt: now.toISOString() },
      now,
      partner: { partnerId, eventType: type, runId },
    }),
  );
  if (to === 'received') return id;
  await deps.executions.beginAttempt(id, { workerId: 'w1', leaseMs: 60_000 });
  if (to === 'processing') return id;
  if (to === 'retrying') {
    await deps.executions.recordRetry(id, 'w1', 'transfer', { class: 'SourceUnavailable', message: 'HTTP 503 from source' });
    return id;
  }
  if (to === 'completed') {
    await deps.executions.checkpoint(id, 'w1', 'publish', { packageName: `${partnerId}/${runId}`, topHash: 'a'.repeat(64) });
    await deps.executions.succeed(id, 'w1');
    return id;
  }
  await deps.executions.fail(id, 'w1', {
    step: 'transfer',
    class: 'SourceNotAllowed',
    message: 'files.0.url of "a.bam" is outside the allow-list',
    retryable: false,
    at: new Date().toISOString(),
  });
  return id;
}

describe('ops: partners registry commands, partner events and the /webhooks query API', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let deps: OpsDeps & { destroy(): void };
  let server: Server;
  let url: string;
  const token = 'partner-test-token-0123456789';
  const auth = { authorization: `Bearer ${token}` };
  const ids: Record<string, string> = {};

  before(async () => {
    ({ env, deps } = await opsStack('partnersops'));
    const logger = createLogger({ service: 'ops-partners-test', level: 'silent' });
    const app = express();
    app.use('/ops', createOpsRouter({ ...deps, auth: { tokens: parseOpsTokens(`test=${token}`) }, logger }));
    app.use('/webhooks', createWebhooksQueryRouter({ ...deps, auth: { tokens: parseOpsTokens(`test=${token}`) }, logger }));
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    deps?.destroy();
  });

  it('adds, lists, shows, updates, deactivates and activates a partner; no output ever holds the secret', async () => {
    const s = secret();
    const add = await cli(
      [
        'partners',
        'add',
        '--id',
        'labone',
        '--name',
        'Lab One',
        '--events',
        'sequencing.complete,qc.complete',
        '--secret',
        s,
        '--allow-url',
        '^https://data\\.labone\\.example/.*$',
        '--allow-url',
        's3://labone-runs/out/',
        '--format',
        'standard',
        '--max-retries',
        '3',
      ],
      env,
    );
    expect(add.code, add.out).to.equal(EXIT.ok);
    const outputs = [add.out];
    for (const args of [
      ['partners', 'list'],
      ['partners', 'show', 'labone'],
      ['--json', 'partners', 'show', 'labone'],
      ['--json', 'partners', 'list'],
    ]) {
      const r = await cli(args, env);
      expect(r.code, r.out).to.equal(EXIT.ok);
      outputs.push(r.out);
    }
    const shown = JSON.parse(outputs[3]!) as Record<string, unknown>;
    expect(shown).to.deep.include({
      partnerId: 'labone',
      name: 'Lab One',
      active: true,
      format: 'standard',
      maxRetries: 3,
      namespace: 'labone',
      eventTypes: ['sequencing.complete', 'qc.complete'],
    });
    expect(shown).to.deep.include({
      allowedUrlPatterns: ['^https://data\\.labone\\.example/.*$'],
      allowedS3Prefixes: ['s3://labone-runs/out/'],
    });
    expect((shown.secrets as { current: { store: string } }).current.store).to.equal('table');
    expect(outputs[1]).to.include('labone').and.include('illumina').and.include('pacbio');

    expect((await cli(['partners', 'update', 'labone', '--events', 'qc.complete', '--max-retries', '0'], env)).code).to.equal(EXIT.ok);
    expect((await cli(['partners', 'deactivate', 'labone'], env)).code).to.equal(EXIT.ok);
    let p = (await deps.partners!.get('labone'))!;
    expect(p).to.deep.include({ active: false, eventTypes: ['qc.complete'], maxRetries: 0 });
    expect(p.allowedS3Prefixes).to.deep.equal(['s3://labone-runs/out/']);
    expect((await cli(['partners', 'activate', 'labone'], env)).code).to.equal(EXIT.ok);
    const s2 = secret();
    const rot = await cli(['partners', 'rotate-secret', 'labone', '--secret', s2], env);
    expect(rot.out).to.include('both secrets verify');
    outputs.push(rot.out, (await cli(['--json', 'partners', 'show', 'labone'], env)).out);
    p = (await deps.partners!.get('labone'))!;
    expect(p.active).to.equal(true);
    expect(p.secrets.previous?.value).to.equal(s);
    expect(p.secrets.current.value).to.equal(s2);
    outputs.push((await cli(['partners', 'rotate-secret', 'labone', '--finish'], env)).out);
    expect((await deps.partners!.get('labone'))!.secrets.previous).to.equal(undefined);
    for (const o of outputs) {
      expect(o).to.not.include(s.slice(6, 30));
      expect(o).to.not.include(s2.slice(6, 30));
    }
  });

  it('refuses bad partner input with exit 2 naming the problem, and an unknown partner with exit 3', async () => {
    const base = [
      'partners',
      'add',
      '--id',
      'labtwo',
      '--name',
      'Two',
      '--events',
      'qc.complete',
      '--secret',
      secret(),
      '--allow-url',
      '^https://x\\.example/.*$',
    ];
    const swap = (flag: string, value: string) => base.map((v, i) => (base[i - 1] === flag ? value : v));
    const cases: Array<[string[], RegExp]> = [
      [swap('--allow-url', 'https://x.example/.*'), /anchored/],
      [swap('--allow-url', '^(unclosed$'), /valid regular expression/],
      [swap('--events', 'qc.complete,run.started'), /unknown event type run\.started/],
      [swap('--secret', 'whsec_c2hvcnQ='), /24.64 bytes/],
      [swap('--id', '../etc'), /partner id/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, r.out).to.equal(EXIT.usage);
      expect(r.out).to.match(message);
    }
    expect((await cli(['partners', 'show', 'nobody'], env)).code).to.equal(EXIT.notFound);
    expect((await cli(['partners', 'rotate-secret', 'pacbio'], env)).code).to.equal(EXIT.usage);
  });

  it('manages partners under /ops/partners with the same rules, never returning a secret', async () => {
    const s = secret();
    const post = (path: string, body: unknown) =>
      fetch(`${url}/ops${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await fetch(`${url}/ops/partners`)).status).to.equal(401);
    const created = await post('/partners', {
      id: 'apilab',
      name: 'API lab',
      events: ['qc.complete'],
      secret: s,
      allowUrls: ['^https://api\\.example/.*$'],
      format: 'ica',
    });
    expect(created.status, await created.clone().text()).to.equal(201);
    const texts = [await created.text()];
    expect(
      (await post('/partners', { id: 'apilab', name: 'again', events: ['qc.complete'], secret: s, allowUrls: ['^https://a/$'] })).status,
    ).to.equal(400);
    expect((await post('/partners/apilab/deactivate', {})).status).to.equal(200);
    expect((await post('/partners/apilab/rotate-secret', { secret: secret() })).status).to.equal(200);
    const patched = await fetch(`${url}/ops/partners/apilab`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ maxRetries: 7 }),
    });
    expect(patched.status).to.equal(200);
    texts.push(
      await patched.text(),
      await (await fetch(`${url}/ops/partners/apilab`, { headers: auth })).text(),
      await (await fetch(`${url}/webhooks/partners`, { headers: auth })).text(),
    );
    expect(JSON.parse(texts[2]!)).to.deep.include({ partnerId: 'apilab', active: false, maxRetries: 7, format: 'ica' });
    for (const t of texts) expect(t).to.not.include(s.slice(6, 30)).and.not.include('"value"');
    expect((await fetch(`${url}/ops/partners/nobody`, { headers: auth })).status).to.equal(404);
  });

  it('lists events, shows one and computes stats exactly from the execution records, with mapped statuses', async () => {
    await deps.partners!.add({
      id: 'statlab',
      name: 'Stats lab',
      eventTypes: ['sequencing.complete', 'qc.complete'],
      secret: secret(),
      allowUrls: ['^https://s\\.example/.*$'],
      maxRetries: 4,
    });
    ids.received = await partnerEvent(deps, 'statlab', 'sequencing.complete', 'R1', 'received');
    ids.processing = await partnerEvent(deps, 'statlab', 'sequencing.complete', 'R2', 'processing');
    ids.retrying = await partnerEvent(deps, 'statlab', 'qc.complete', 'R3', 'retrying');
    ids.completed = await partnerEvent(deps, 'statlab', 'sequencing.complete', 'R4', 'completed');
    ids.completed2 = await partnerEvent(deps, 'statlab', 'qc.complete', 'R4', 'completed');
    ids.failed = await partnerEvent(deps, 'statlab', 'sequencing.complete', 'R5', 'failed');
    ids.other = await partnerEvent(deps, 'ont', 'qc.complete', 'O1', 'completed');

    const get = async (path: string) => {
      const r = await fetch(`${url}/webhooks${path}`, { headers: auth });
      expect(r.status, path).to.equal(200);
      return (await r.json()) as Record<string, unknown>;
    };
    expect((await fetch(`${url}/webhooks/events`)).status).to.equal(401);

    const stats = (await get('/stats?since=1h')) as unknown as import('../src/index.ts').PartnerEventStats;
    expect(stats.byPartner.statlab).to.deep.equal({
      total: 6,
      byStatus: { received: 1, processing: 1, retrying: 1, completed: 2, failed: 1, superseded: 0 },
      successRate: 2 / 3,
      retries: 0,
    });
    expect(stats.byPartner.ont!.total).to.equal(1);
    expect(stats.total).to.equal(7);
    expect(stats.byType['qc.complete']!.total).to.equal(3);
    expect(stats.byStatus).to.deep.include({ completed: 3, failed: 1 });
    expect(stats.processingMs.count).to.equal(3);
    expect(stats.queues.map((q) => q.queue)).to.deep.equal(['jobs', 'dlq']);

    const failed = (await get('/events?status=failed&partner=statlab')).events as Array<Record<string, unknown>>;
    expect(failed.map((e) => e.eventId)).to.deep.equal([ids.failed]);
    expect(failed[0]).to.deep.include({ status: 'failed', partnerId: 'statlab', type: 'sequencing.complete', runId: 'R5', maxRetries: 4 });
    const qc = (await get('/partners/statlab/events?type=qc.complete')).events as Array<Record<string, unknown>>;
    expect(qc.map((e) => e.eventId).sort()).to.deep.equal([ids.retrying, ids.completed2].sort());
    const all = (await get('/events?limit=100')).events as Array<Record<string, unknown>>;
    expect(all).to.have.length(7);
    expect(Object.fromEntries(all.filter((e) => e.partnerId === 'statlab').map((e) => [e.runId, e.status]))).to.deep.include({
      R1: 'received',
      R2: 'processing',
      R3: 'retrying',
      R5: 'failed',
    });

    const done = await get(`/events/${ids.completed}`);
    expect(done).to.deep.include({ status: 'completed', retries: 0, attempts: 1, runId: 'R4' });
    expect(done.package).to.deep.include({ name: 'statlab/R4', topHash: 'a'.repeat(64) });
    expect(done.processedAt).to.be.a('string');
    const retrying = await get(`/events/${ids.retrying}`);
    expect(retrying).to.deep.include({ status: 'retrying' });
    expect(retrying.error).to.deep.include({ class: 'SourceUnavailable', step: 'transfer' });
    expect((await fetch(`${url}/webhooks/events/ex_nothing`, { headers: auth })).status).to.equal(404);
    expect((await fetch(`${url}/webhooks/events?status=bogus`, { headers: auth })).status).to.equal(400);

    // The CLI reads the same.
    const list = await cli(['--json', 'events', 'list', '--partner', 'statlab', '--status', 'completed'], env);
    expect((JSON.parse(list.out) as Array<{ eventId: string }>).map((e) => e.eventId).sort()).to.deep.equal(
      [ids.completed, ids.completed2].sort(),
    );
    const show = await cli(['events', 'show', ids.failed!], env);
    expect(show.out).to.include('SourceNotAllowed').and.include('failed');
    const cliStats = await cli(['--json', 'partners', 'stats', '--partner', 'statlab'], env);
    expect((JSON.parse(cliStats.out) as { total: number }).total).to.equal(6);
    expect((await cli(['partners', 'stats'], env)).out).to.include('statlab');
  });
});

describe('ops dlq: a dead-lettered partner event is peeked and replayed like any other job', function () {
  this.timeout(60_000);
  let env: Record<string, string>;
  let deps: OpsDeps & { destroy(): void };

  before(async () => {
    ({ env, deps } = await opsStack('partnerdlq'));
  });
  after(() => deps?.destroy());

  it('reopens the failed event and sends its job back to the jobs queue', async () => {
    const id = await partnerEvent(deps, 'pacbio', 'sequencing.complete', 'RUN-DLQ', 'failed');
    const job = {
      v: 1,
      kind: 'partner.sequencing.complete',
      executionId: id,
      partnerId: 'pacbio',
      trigger: { webhookId: `msg_${id}`, type: 'sequencing.complete', receivedAt: new Date().toISOString() },
      event: { id: 'evt_1', type: 'sequencing.complete', timestamp: new Date().toISOString(), run: { id: 'RUN-DLQ' } },
      policy: { allowedUrlPatterns: ['^https://x/.*$'], allowedS3Prefixes: [], namespace: 'pacbio', maxRetries: 5, timeoutSeconds: 900 },
    };
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.names.dlqUrl, MessageBody: JSON.stringify(job) }));

    const peek = await cli(['--json', 'dlq', 'peek'], env);
    const peeked = (JSON.parse(peek.out) as Array<Record<string, unknown>>).find((p) => p.executionId === id)!;
    expect(peeked).to.deep.include({ kind: 'partner.sequencing.complete', tenantId: 'partner:pacbio', executionStatus: 'FAILED' });

    const replay = await cli(['--json', 'dlq', 'replay', '--execution', id, '--rate', '50/s'], env);
    expect(replay.code, replay.out).to.equal(EXIT.ok);
    expect((JSON.parse(replay.out.slice(replay.out.indexOf('{'))) as { totals: { moved: number } }).totals.moved).to.equal(1);
    expect((await deps.executions.get(id))!.status).to.equal('QUEUED');
    const bodies = await drain(deps.sqs, deps.names.jobsQueueUrl);
    expect(bodies.map((b) => (JSON.parse(b) as { executionId: string }).executionId)).to.deep.equal([id]);
  });
});
