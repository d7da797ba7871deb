import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { type Logger, newExecutionId, newQueuedExecution } from '@bp/shared';
import { AlbOidcVerifier, createOpsRouter, type OpsDeps, type OpsRouterDeps, parseOpsTokens } from '../src/index.ts';
import { deadLetteredJob, opsStack } from './support.ts';

const ALB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ops/50dc6c495c0c9188';
const ALICE = 'alice-0123456789abcdef';

/** A logger that keeps what was logged, so tests can read the access log. */
function recordingLogger(): { logger: Logger; lines: Array<{ message: string } & Record<string, unknown>> } {
  const lines: Array<{ message: string } & Record<string, unknown>> = [];
  const log = (message: string, meta: Record<string, unknown> = {}) => lines.push({ message, ...meta });
  const logger = { info: log, warn: log, error: log, child: () => logger } as unknown as Logger;
  return { logger, lines };
}

/** Base64 the way the ALB writes its JWT parts: URL alphabet, `=` padding kept. */
const albB64 = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

/** An `x-amzn-oidc-data` JWT as the load balancer issues it (ES256, kid and signer in the header). */
function albToken(o: { key: KeyObject; kid: string; signer?: string; expiresIn?: number; email?: string }): string {
  const exp = Math.floor(Date.now() / 1000) + (o.expiresIn ?? 120);
  const header = {
    typ: 'JWT',
    kid: o.kid,
    alg: 'ES256',
    iss: 'https://idp.example.com',
    client: 'ops-client',
    signer: o.signer ?? ALB_ARN,
    exp,
  };
  const payload = { sub: '9f0c6d0e-user', email: o.email ?? 'ops@example.com', exp, iss: 'https://idp.example.com' };
  const input = `${albB64(Buffer.from(JSON.stringify(header)))}.${albB64(Buffer.from(JSON.stringify(payload)))}`;
  return `${input}.${albB64(sign('sha256', Buffer.from(input), { key: o.key, dsaEncoding: 'ieee-p1363' }))}`;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('ops HTTP API: authentication, rate limit and the ops calls over a real express app', function () {
  this.timeout(60_000);
  let deps: OpsDeps & { destroy(): void };
  let keyServer: { server: Server; url: string };
  let api: { server: Server; url: string };
  let log: ReturnType<typeof recordingLogger>;
  let keyFetches = 0;
  const albKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = '3b4f0d1e-8c2a-4c7e-9a51-0f6d2b7e4a10';

  function appWith(extra: Partial<OpsRouterDeps>): express.Application {
    const app = express();
    app.use(
      '/ops',
      createOpsRouter({
        ...deps,
        auth: {
          tokens: parseOpsTokens(`alice=${ALICE},ci-bot-secret-0000000`),
          oidc: new AlbOidcVerifier({ keyUrl: `${keyServer.url}/{kid}`, expectedSigner: ALB_ARN }),
        },
        logger: log.logger,
        ...extra,
      }),
    );
    return app;
  }

  before(async () => {
    ({ deps } = await opsStack('opsapi'));
    // Stands in for https://public-keys.auth.elb.{region}.amazonaws.com/{kid}: a PEM per key id.
    keyServer = await listen((req, res) => {
      keyFetches++;
      if (req.url !== `/${kid}`) {
        res.statusCode = 404;
        return res.end();
      }
      res.end(albKey.publicKey.export({ type: 'spki', format: 'pem' }));
    });
  });
  beforeEach(async () => {
    log = recordingLogger();
    const app = appWith({ rateLimitPerMinute: 1000 });
    api = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve({ server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }));
    });
  });
  afterEach(() => new Promise<void>((r) => api.server.close(() => r())));
  after(async () => {
    deps.destroy();
    await new Promise<void>((r) => keyServer.server.close(() => r()));
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { headers });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const oidc = (t: string) => ({ 'x-amzn-oidc-data': t });
  const lastCall = () => log.lines.filter((l) => l.message === 'ops call').at(-1)!;

  it('answers 401 without credentials and logs the call as anonymous', async () => {
    const res = await get('/ops/queues');
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect(await res.json()).to.deep.equal({ error: 'unauthorized' });
    expect(lastCall()).to.include({ who: 'anonymous', status: 401, path: '/ops/queues', refused: 'no credentials' });
  });

  it('answers 401 to a wrong bearer token, even one that shares a prefix with a real one', async () => {
    expect((await get('/ops/queues', bearer('wrong-token-0000000000'))).status).to.equal(401);
    expect((await get('/ops/queues', bearer(`${ALICE}x`))).status).to.equal(401);
    expect((await get('/ops/queues', bearer(ALICE.slice(0, -1)))).status).to.equal(401);
    expect(lastCall()).to.include({ who: 'anonymous', refused: 'unknown bearer token' });
  });

  it('answers 200 to a configured bearer token and logs who made the call', async () => {
    const res = await get('/ops/queues', bearer(ALICE));
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { queues: Array<{ queue: string }> };
    expect(body.queues.map((q) => q.queue)).to.deep.equal(['jobs', 'dlq']);
    expect(lastCall()).to.include({ who: 'token:alice', status: 200, method: 'GET' });
    expect((await get('/ops/queues', bearer('ci-bot-secret-0000000'))).status).to.equal(200);
    expect(lastCall()).to.include({ who: 'token:token-2' });
  });

  it('answers 200 to a valid load-balancer OIDC token (padded like the ALB writes it) and logs the user', async () => {
    const token = albToken({ key: albKey.privateKey, kid });
    expect(token.split('.').slice(0, 2).join('.')).to.include('=');
    const res = await get('/ops/executions', oidc(token));
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(lastCall()).to.include({ who: 'oidc:ops@example.com', status: 200 });
  });

  it('answers 401 to an expired OIDC token', async () => {
    const res = await get('/ops/executions', oidc(albToken({ key: albKey.privateKey, kid, expiresIn: -600 })));
    expect(res.status).to.equal(401);
    expect(String(lastCall().refused)).to.match(/ERR_JWT_EXPIRED/);
  });

  it('answers 401 to a forged OIDC token: right kid and claims, signed with another key', async () => {
    const res = await get('/ops/executions', oidc(albToken({ key: otherKey.privateKey, kid })));
    expect(res.status).to.equal(401);
    expect(String(lastCall().refused)).to.match(/signature/i);
  });

  it('answers 401 to a genuine token from another load balancer, and to an unknown kid', async () => {
    expect((await get('/ops/executions', oidc(albToken({ key: albKey.privateKey, kid, signer: `${ALB_ARN}-other` })))).status).to.equal(
      401,
    );
    expect(String(lastCall().refused)).to.match(/signer/);
    expect((await get('/ops/executions', oidc(albToken({ key: albKey.privateKey, kid: 'unknown-kid' })))).status).to.equal(401);
    expect(String(lastCall().refused)).to.match(/HTTP 404/);
  });

  it('fetches each load-balancer key once and reuses it', async () => {
    const before = keyFetches;
    for (let i = 0; i < 3; i++) expect((await get('/ops/queues', oidc(albToken({ key: albKey.privateKey, kid })))).status).to.equal(200);
    expect(keyFetches - before).to.equal(1);
  });

  const withApp = async (extra: Partial<OpsRouterDeps>, run: (url: string) => Promise<void>) => {
    const limited = await listen(appWith(extra));
    try {
      await run(limited.url);
    } finally {
      await new Promise<void>((r) => limited.server.close(() => r()));
    }
  };

  it("limits reads per caller with Retry-After, and one caller spending its budget does not spend another's", async () => {
    await withApp({ readsPerMinute: 3 }, async (url) => {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${url}/ops/queues`, { headers: bearer(ALICE) })).status);
      expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
      const limited = await fetch(`${url}/ops/queues`, { headers: bearer(ALICE) });
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
      expect(await limited.json()).to.deep.include({ error: 'rate_limited' });
      expect((await fetch(`${url}/ops/queues`, { headers: bearer('ci-bot-secret-0000000') })).status).to.equal(200);
    });
  });

  it('limits mutating calls per caller separately (10 a minute by default), reads still pass', async () => {
    await withApp({}, async (url) => {
      // Without a filter the replay is refused (400) at once: still a mutating call spent.
      const replay = () =>
        fetch(`${url}/ops/dlq/replay`, { method: 'POST', headers: { ...bearer(ALICE), 'content-type': 'application/json' }, body: '{}' });
      const statuses = [];
      for (let i = 0; i < 11; i++) statuses.push((await replay()).status);
      expect(statuses.slice(0, 10)).to.deep.equal(Array(10).fill(400));
      expect(statuses[10]).to.equal(429);
      expect((await fetch(`${url}/ops/queues`, { headers: bearer(ALICE) })).status).to.equal(200);
    });
  });

  it('throttles refused requests per client IP, so tokens cannot be guessed quickly', async () => {
    await withApp({ rateLimitPerMinute: 3 }, async (url) => {
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await fetch(`${url}/ops/queues`, { headers: bearer(`wrong-token-${i}-0000000000`) })).status);
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
      expect((await fetch(`${url}/ops/queues`)).status).to.equal(429);
    });
  });

  it('caches a failed key fetch and bounds the new key ids fetched a minute', async () => {
    const before = keyFetches;
    for (let i = 0; i < 3; i++)
      expect((await get('/ops/executions', oidc(albToken({ key: albKey.privateKey, kid: 'missing-kid' })))).status).to.equal(401);
    expect(keyFetches - before, 'one fetch for the same failing kid').to.equal(1);
    for (let i = 0; i < 30; i++)
      expect((await get('/ops/executions', oidc(albToken({ key: albKey.privateKey, kid: `made-up-${i}` })))).status).to.equal(401);
    expect(keyFetches - before, 'at most 10 new kids a minute').to.be.at.most(10);
  });

  it('never returns a presigned URL with its query (the signature) from an execution', async () => {
    const now = new Date();
    const executionId = newExecutionId(now);
    const trigger = { webhookId: `wh_${executionId}`, type: 'v2.entry.created', receivedAt: now.toISOString() };
    await deps.executions.create({
      ...newQueuedExecution({ executionId, tenantId: 'ten_ops', kind: 'entry.package', entryId: 'etr_presigned', trigger, now }),
      outputs: {
        'await-export': {
          downloadURL: 'https://exports.example.com/t/abc.zip?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA',
          readyAt: now.toISOString(),
          polls: 1,
        },
      },
    });
    const text = await (await get(`/ops/executions/${executionId}`, bearer(ALICE))).text();
    expect(text).to.include('https://exports.example.com/t/abc.zip');
    expect(text).not.to.match(/X-Amz-Signature|deadbeef|AKIA/);
  });

  it('answers a 500 with an error id only; the detail goes to the log under that id', async () => {
    const executions = Object.assign(Object.create(deps.executions) as OpsDeps['executions'], {
      get: () => Promise.reject(new Error('AccessDenied: arn:aws:iam::123456789012:role/secret-role')),
    });
    const broken: OpsDeps = { ...deps, executions };
    await withApp({ ...broken }, async (url) => {
      const res = await fetch(`${url}/ops/executions/ex_any`, { headers: bearer(ALICE) });
      expect(res.status).to.equal(500);
      const body = (await res.json()) as { error: string; errorId: string };
      expect(Object.keys(body).sort()).to.deep.equal(['error', 'errorId']);
      expect(JSON.stringify(body)).not.to.include('arn:');
      const logged = log.lines.find((l) => l.message === 'ops call failed' && l.errorId === body.errorId);
      expect(JSON.stringify(logged)).to.include('secret-role');
    });
  });

  it('serves executions, one execution, the DLQ, stats, and replays (dry run first) over HTTP', async () => {
    const id = await deadLetteredJob(deps, { entryId: 'etr_api', errorClass: 'BenchlingUnavailable', message: 'HTTP 503' });
    const h = bearer(ALICE);

    const list = (await (await get('/ops/executions?status=FAILED', h)).json()) as {
      executions: Array<{ executionId: string; lastError: string }>;
    };
    expect(list.executions.find((e) => e.executionId === id)?.lastError).to.equal('BenchlingUnavailable: HTTP 503');
    expect((await get(`/ops/executions/${id}`, h)).status).to.equal(200);
    expect((await get('/ops/executions/ex_nope', h)).status).to.equal(404);
    expect((await get('/ops/executions?status=NOPE', h)).status).to.equal(400);

    const dlq = (await (await get('/ops/dlq', h)).json()) as { messages: Array<{ executionId: string; lastError: { class: string } }> };
    expect(dlq.messages.find((m) => m.executionId === id)?.lastError.class).to.equal('BenchlingUnavailable');

    const stats = (await (await get('/ops/stats?since=1h', h)).json()) as {
      byStatus: Record<string, number>;
      byEventType: Record<string, { total: number }>;
      successRate: number;
      queues: Array<{ queue: string; visible: number }>;
    };
    expect(stats.byStatus.FAILED).to.be.at.least(1);
    expect(stats.byEventType['v2.entry.created']!.total).to.be.at.least(1);
    expect(stats.successRate).to.be.a('number');
    expect(stats.queues.find((q) => q.queue === 'dlq')!.visible).to.be.at.least(1);

    const post = (body: unknown) =>
      fetch(`${api.url}/ops/dlq/replay`, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({})).status, 'no filter').to.equal(400);
    const dry = (await (await post({ executionId: id, dryRun: true })).json()) as {
      dryRun: boolean;
      totals: { wouldMove: number; moved: number };
    };
    expect(dry).to.deep.include({ dryRun: true });
    expect(dry.totals).to.include({ wouldMove: 1, moved: 0 });
    expect((await deps.executions.get(id))!.status).to.equal('FAILED');
    const real = (await (await post({ executionId: id, rate: '20/s' })).json()) as {
      totals: { moved: number };
      events: Array<{ outcome: string }>;
    };
    expect(real.totals.moved).to.equal(1);
    expect((await deps.executions.get(id))!.status).to.equal('QUEUED');
    expect(lastCall()).to.include({ who: 'token:alice', method: 'POST', path: '/ops/dlq/replay', status: 200 });
    const reopened = await deps.executions.get(id);
    expect(reopened!.events.at(-1)!.detail).to.match(/by api:alice/);
  });
});
