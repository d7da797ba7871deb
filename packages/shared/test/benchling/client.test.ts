import { expect } from 'chai';
import {
  BenchlingClient,
  BenchlingInvalidResponseError,
  BenchlingNetworkError,
  BenchlingNotFoundError,
  BenchlingRateLimitError,
  BenchlingServerError,
  BenchlingUnauthorizedError,
  isBenchlingApiError,
  TenantBudget,
} from '../../src/benchling/index.ts';
import { isRetryable, TransientError } from '../../src/errors.ts';
import { captureLogger, fakeTime } from './helpers.ts';
import { ScriptedServer } from './scripted-server.ts';

const ENTRY_PATH = '/api/v2/entries/etr_1';
const TOKEN_PATH = '/api/v2/token';
const SECRET = 'client-secret-value';

const entryBody = {
  entry: {
    id: 'etr_1',
    name: 'Growth assay',
    displayId: 'EXP-1',
    webURL: 'https://acme.benchling.com/acme/f/lib_1/etr_1/edit',
    createdAt: '2025-01-01T00:00:00Z',
    modifiedAt: '2025-01-02T00:00:00Z',
    fields: { Strain: { value: 'BL21', displayValue: 'BL21', type: 'text', isMulti: false } },
    futureField: { nested: true },
  },
};

function ok(body: unknown = entryBody, headers: Record<string, string> = {}) {
  return { status: 200, body, headers };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error,
  );
}

describe('BenchlingClient against a scripted Benchling', () => {
  let server: ScriptedServer;
  let log: ReturnType<typeof captureLogger>;

  function clientFor(opts: { budget?: TenantBudget; retries?: number; requestTimeoutMs?: number } = {}) {
    return new BenchlingClient({
      baseURL: server.url,
      clientId: 'client-id',
      clientSecret: SECRET,
      budget: opts.budget ?? new TenantBudget(),
      logger: log.logger,
      requestTimeoutMs: opts.requestTimeoutMs ?? 2000,
      retry: { retries: opts.retries ?? 4, minTimeoutMs: 5, maxTimeoutMs: 20 },
    });
  }
  const retryWarnings = () => log.lines().filter((l) => l.level === 'warn' && l.message === 'Benchling request failed, retrying');

  beforeEach(async () => {
    server = await ScriptedServer.start();
    log = captureLogger();
  });
  afterEach(async () => {
    await server.close();
  });

  it('gets an entry with a bearer token and keeps fields it does not know', async () => {
    server.script('GET', ENTRY_PATH, ok());
    const entry = await clientFor().getEntry('etr_1');
    expect(entry.displayId).to.equal('EXP-1');
    expect(entry.fields?.Strain?.value).to.equal('BL21');
    expect(entry.futureField).to.deep.equal({ nested: true });
    const [req] = server.requestsTo('GET', ENTRY_PATH);
    expect(req!.headers.authorization).to.equal('Bearer token-1');
  });

  it('refreshes the token once on a 401 and retries the request with the new token', async () => {
    server.script('GET', ENTRY_PATH, { status: 401, body: { error: { message: 'expired' } } }, ok());
    const entry = await clientFor().getEntry('etr_1');
    expect(entry.id).to.equal('etr_1');
    expect(server.requestsTo('POST', TOKEN_PATH)).to.have.length(2);
    expect(server.requestsTo('GET', ENTRY_PATH).map((r) => r.headers.authorization)).to.deep.equal(['Bearer token-1', 'Bearer token-2']);
  });

  it('gives up with a permanent BenchlingUnauthorized when the fresh token is rejected too', async () => {
    server.script('GET', ENTRY_PATH, { status: 401, body: { error: { type: 'invalid_request_error', message: 'no access' } } });
    const err = await failure(clientFor().getEntry('etr_1'));
    expect(err).to.be.instanceOf(BenchlingUnauthorizedError);
    expect(isRetryable(err)).to.equal(false);
    expect(server.requestsTo('POST', TOKEN_PATH)).to.have.length(2);
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(2);
  });

  it('shares one token request among concurrent calls', async () => {
    server.script('GET', ENTRY_PATH, ok());
    const client = clientFor();
    await Promise.all(Array.from({ length: 10 }, () => client.getEntry('etr_1')));
    expect(server.requestsTo('POST', TOKEN_PATH)).to.have.length(1);
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(10);
  });

  it('waits for x-rate-limit-reset after a 429 and then succeeds', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    server.script(
      'GET',
      ENTRY_PATH,
      { status: 429, body: { error: { message: 'Rate limit exceeded.' } }, headers: { 'x-rate-limit-reset': '1' } },
      ok(),
    );
    const entry = await clientFor({ budget }).getEntry('etr_1');
    expect(entry.id).to.equal('etr_1');
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(2);
    expect(clock.slept.reduce((a, b) => a + b, 0)).to.be.at.least(1000);
    const [warning] = retryWarnings();
    expect(warning).to.include({ status: 429, attempt: 1, code: 'BenchlingRateLimited', retryAfterMs: 1000 });
  });

  it('holds the next call when a response reports 0 requests remaining', async () => {
    const clock = fakeTime();
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    server.script('GET', ENTRY_PATH, ok(entryBody, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '2' }), ok());
    const client = clientFor({ budget });
    await client.getEntry('etr_1');
    expect(clock.slept).to.deep.equal([]);
    await client.getEntry('etr_1');
    expect(clock.slept).to.deep.equal([2000]);
  });

  it('retries 500s and succeeds on the third attempt, logging each retry with status and attempt', async () => {
    server.script('GET', ENTRY_PATH, { status: 500, body: { error: { message: 'boom' } } }, { status: 500, body: {} }, ok());
    const entry = await clientFor().getEntry('etr_1');
    expect(entry.id).to.equal('etr_1');
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(3);
    expect(retryWarnings().map((l) => [l.status, l.attempt])).to.deep.equal([
      [500, 1],
      [500, 2],
    ]);
  });

  it('throws the typed retryable error itself once retries are exhausted', async () => {
    server.script('GET', ENTRY_PATH, { status: 503, body: { error: { message: 'maintenance' } }, headers: { 'x-request-id': 'req-42' } });
    const err = await failure(clientFor({ retries: 2 }).getEntry('etr_1'));
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(3);
    expect(err).to.be.instanceOf(BenchlingServerError);
    expect(err).to.be.instanceOf(TransientError);
    expect(isRetryable(err)).to.equal(true);
    expect(err).to.include({ code: 'BenchlingUnavailable', status: 503, method: 'GET', path: '/entries/etr_1', requestId: 'req-42' });
  });

  it('keeps retryAfterMs on a 429 that outlasts the retries, for the queue to honour', async () => {
    const clock = fakeTime();
    server.script('POST', '/api/v2/exports', {
      status: 429,
      body: { error: { message: 'Rate limit exceeded.' } },
      headers: { 'x-rate-limit-reset': '7' },
    });
    const budget = new TenantBudget({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    const err = await failure(clientFor({ budget, retries: 1 }).startExport('etr_1'));
    expect(err).to.be.instanceOf(BenchlingRateLimitError);
    expect((err as BenchlingRateLimitError).retryAfterMs).to.equal(7000);
    expect(server.requestsTo('POST', '/api/v2/exports')).to.have.length(2);
  });

  it('abandons a request that hangs past the timeout and retries it', async () => {
    server.script('GET', ENTRY_PATH, 'hang');
    const started = Date.now();
    const err = await failure(clientFor({ retries: 1, requestTimeoutMs: 150 }).getEntry('etr_1'));
    expect(err).to.be.instanceOf(BenchlingNetworkError);
    expect((err as BenchlingNetworkError).code).to.equal('BenchlingTimeout');
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(2);
    expect(Date.now() - started).to.be.below(1500);
  });

  it('retries when the connection is refused and reports a network error', async () => {
    const dead = await ScriptedServer.start();
    const url = dead.url;
    await dead.close();
    const client = new BenchlingClient({
      baseURL: url,
      clientId: 'c',
      clientSecret: SECRET,
      budget: new TenantBudget(),
      logger: log.logger,
      retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 },
    });
    const err = await failure(client.getEntry('etr_1'));
    expect(err).to.be.instanceOf(BenchlingNetworkError);
    expect((err as BenchlingNetworkError).code).to.equal('BenchlingNetwork');
    expect(retryWarnings()).to.have.length(2);
  });

  it('does not retry a 404 and carries Benchling’s error details', async () => {
    server.script('GET', '/api/v2/entries/etr_missing', {
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          message: 'Entry not found.',
          userMessage: 'Could not find etr_missing',
          invalidId: 'etr_missing',
        },
      },
    });
    const err = await failure(clientFor().getEntry('etr_missing'));
    expect(err).to.be.instanceOf(BenchlingNotFoundError);
    expect(err).to.include({ code: 'BenchlingNotFound', status: 404, retryable: false });
    expect((err as BenchlingNotFoundError).benchling).to.deep.equal({
      type: 'invalid_request_error',
      message: 'Entry not found.',
      userMessage: 'Could not find etr_missing',
      invalidId: 'etr_missing',
    });
    expect(server.requestsTo('GET', '/api/v2/entries/etr_missing')).to.have.length(1);
    expect(retryWarnings()).to.have.length(0);
  });

  for (const [status, code] of [
    [400, 'BenchlingBadRequest'],
    [403, 'BenchlingForbidden'],
    [409, 'BenchlingConflict'],
    [422, 'BenchlingUnprocessable'],
  ] as const) {
    it(`fails at once with ${code} on a ${status}`, async () => {
      server.script('PATCH', '/api/v2/app-canvases/cnvs_1', { status, body: { error: { message: 'nope' } } });
      const err = await failure(clientFor().updateCanvas('cnvs_1', { enabled: false }));
      expect(isBenchlingApiError(err)).to.equal(true);
      expect(err).to.include({ code, status, retryable: false });
      expect(server.requestsTo('PATCH', '/api/v2/app-canvases/cnvs_1')).to.have.length(1);
    });
  }

  it('rejects a 200 whose body lacks what the API documents, without retrying', async () => {
    server.script('GET', ENTRY_PATH, ok({ entry: { id: 'etr_1' } }));
    const err = await failure(clientFor().getEntry('etr_1'));
    expect(err).to.be.instanceOf(BenchlingInvalidResponseError);
    expect(err.message).to.contain('entry.name');
    expect(server.requestsTo('GET', ENTRY_PATH)).to.have.length(1);
  });

  it('starts an export with the entry id and format and returns the task id from the 202', async () => {
    server.script('POST', '/api/v2/exports', { status: 202, body: { taskId: 'task-1' } });
    const client = clientFor();
    expect(await client.startExport('etr_1')).to.equal('task-1');
    expect(await client.startExport('etr_1', 'html')).to.equal('task-1');
    const bodies = server.requestsTo('POST', '/api/v2/exports').map((r) => [r.headers['content-type'], JSON.parse(r.body)]);
    expect(bodies).to.deep.equal([
      ['application/json', { id: 'etr_1', format: 'pdf' }],
      ['application/json', { id: 'etr_1', format: 'html' }],
    ]);
  });

  it('reads a task as running, succeeded with its download URL, or failed with its message', async () => {
    server.script(
      'GET',
      '/api/v2/tasks/task-1',
      ok({ status: 'RUNNING' }),
      ok({ status: 'SUCCEEDED', response: { downloadURL: 'https://s3.example/export.zip?X-Amz-Signature=abc' } }),
      ok({ status: 'FAILED', message: 'Export failed', errors: [{ reason: 'too big' }] }),
    );
    const client = clientFor();
    expect(await client.getTask('task-1')).to.deep.equal({ status: 'RUNNING' });
    expect(await client.getTask('task-1')).to.deep.equal({
      status: 'SUCCEEDED',
      downloadURL: 'https://s3.example/export.zip?X-Amz-Signature=abc',
    });
    expect(await client.getTask('task-1')).to.deep.equal({ status: 'FAILED', message: 'Export failed', errors: [{ reason: 'too big' }] });
  });

  it('creates, patches and reads a canvas', async () => {
    const blocks = [
      { type: 'MARKDOWN' as const, id: 'status', value: 'Packaging…' },
      { type: 'BUTTON' as const, id: 'update', text: 'Update package', enabled: false },
    ];
    server.script('POST', '/api/v2/app-canvases', (req) => ({ status: 201, body: { id: 'cnvs_1', ...JSON.parse(req.body) } }));
    server.script('PATCH', '/api/v2/app-canvases/cnvs_1', (req) => ({ status: 200, body: { id: 'cnvs_1', ...JSON.parse(req.body) } }));
    server.script(
      'GET',
      '/api/v2/app-canvases/cnvs_1',
      ok({ id: 'cnvs_1', featureId: 'quilt_entry', resourceId: 'etr_1', blocks, enabled: true }),
    );
    const client = clientFor();
    const created = await client.createCanvas({ appId: 'app_1', featureId: 'quilt_entry', resourceId: 'etr_1', blocks, enabled: true });
    expect(created.id).to.equal('cnvs_1');
    expect(JSON.parse(server.requestsTo('POST', '/api/v2/app-canvases')[0]!.body)).to.deep.equal({
      appId: 'app_1',
      featureId: 'quilt_entry',
      resourceId: 'etr_1',
      blocks,
      enabled: true,
    });
    const patched = await client.updateCanvas('cnvs_1', { sessionId: 'sesn_1' });
    expect(patched.sessionId).to.equal('sesn_1');
    expect((await client.getCanvas('cnvs_1')).blocks).to.deep.equal(blocks);
  });

  it('creates an app session and updates it with messages and a final status', async () => {
    server.script('POST', '/api/v2/app-sessions', (req) => ({
      status: 201,
      body: { id: 'sesn_1', status: 'RUNNING', ...JSON.parse(req.body) },
    }));
    server.script('PATCH', '/api/v2/app-sessions/sesn_1', (req) => ({ status: 200, body: { id: 'sesn_1', ...JSON.parse(req.body) } }));
    const client = clientFor();
    const session = await client.createAppSession({ appId: 'app_1', name: 'Quilt packaging', timeoutSeconds: 3600 });
    expect(session).to.include({ id: 'sesn_1', status: 'RUNNING' });
    const done = await client.updateAppSession('sesn_1', {
      messages: [{ content: 'Package published', style: 'SUCCESS' }],
      status: 'SUCCEEDED',
    });
    expect(done.status).to.equal('SUCCEEDED');
    expect(JSON.parse(server.requestsTo('PATCH', '/api/v2/app-sessions/sesn_1')[0]!.body)).to.deep.equal({
      messages: [{ content: 'Package published', style: 'SUCCESS' }],
      status: 'SUCCEEDED',
    });
  });

  it('never writes the client secret or a token to logs or errors', async () => {
    server.script('GET', ENTRY_PATH, { status: 401, body: {} }, { status: 500, body: {} });
    const err = await failure(clientFor({ retries: 2 }).getEntry('etr_1'));
    expect(retryWarnings()).to.have.length(2);
    const everything = log.raw() + JSON.stringify(err) + err.message + JSON.stringify((err as BenchlingServerError).details);
    for (const secret of [SECRET, 'token-1', 'token-2', Buffer.from(`client-id:${SECRET}`).toString('base64')]) {
      expect(everything).to.not.contain(secret);
    }
  });
});
