import { expect } from 'chai';
import { startSimulator, type Simulator } from '../src/index.ts';
import { loadOpenApi, validateAgainstOpenApi, type OpenApiValidator } from '../src/openapi.ts';
import { apiClient, awaitTask, basicAuth, fetchToken, tempZipDir } from './helpers.ts';

describe("the simulator's responses and our requests match Benchling's OpenAPI", function () {
  this.timeout(60_000);
  let spec: OpenApiValidator;
  let sim: Simulator;
  let call: ReturnType<typeof apiClient>;
  const zips = tempZipDir('openapi');

  /** Asserts conformance, printing every problem on failure. */
  const conforms = (schema: string, value: unknown) =>
    expect(spec.errorsFor(schema, value), `${schema}: ${JSON.stringify(value)}`).to.deep.equal([]);

  before(async () => {
    spec = loadOpenApi();
    sim = await startSimulator({ exportDelayMs: 300, zipDir: zips.dir, rateLimit: { limit: 10_000, windowSeconds: 30 } });
    const t = await fetchToken(sim);
    conforms('TokenResponse', t.body);
    call = apiClient(sim, t.body.access_token);
  });
  after(async () => {
    await sim.close();
    zips.remove();
  });

  describe('the validator itself', () => {
    it('rejects values that break the schema, so a pass means something', () => {
      expect(spec.errorsFor('EntryById', { entry: { fields: { Name: { value: 'x', type: 'not-a-field-type' } } } })).to.not.be.empty;
      expect(spec.errorsFor('ExportsAsyncTask', { status: 'DONE' })).to.not.be.empty;
      expect(spec.errorsFor('AppCanvasCreate', { appId: 'a', featureId: 'f', resourceId: 'r', blocks: [], surprise: true })).to.not.be
        .empty;
      expect(
        spec.errorsFor('AppCanvasCreate', { appId: 'a', featureId: 'f', resourceId: 'r', blocks: [{ type: 'BUTTON', text: 'no id' }] }),
      ).to.not.be.empty;
      expect(spec.errorsFor('AppSessionUpdate', { messages: [{ content: 'ab' }] })).to.not.be.empty;
    });

    it('throws a PermanentError naming the schema from validateAgainstOpenApi', () => {
      expect(() => validateAgainstOpenApi('ExportItemRequest', { id: 'etr_1', format: 'docx' })).to.throw(/ExportItemRequest[\s\S]*format/);
      expect(() => validateAgainstOpenApi('ExportItemRequest', { id: 'etr_1', format: 'html' })).to.not.throw();
    });
  });

  describe('responses', () => {
    it('token errors are OAuth error bodies', async () => {
      const res = await fetch(`${sim.url}/api/v2/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('sim-client', 'wrong'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).to.equal(401);
      conforms('OAuthUnauthorizedError', await res.json());
      const bad = await fetch(`${sim.url}/api/v2/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('sim-client', 'sim-secret') },
        body: new URLSearchParams({ grant_type: 'password' }),
      });
      expect(bad.status).to.equal(400);
      conforms('OAuthBadRequestError', await bad.json());
    });

    it('an entry is an EntryById, with its error a NotFoundError', async () => {
      for (const id of ['etr_conform1', 'etr_conform2', 'etr_other9']) {
        const r = await call('GET', `/entries/${id}`);
        expect(r.status).to.equal(200);
        conforms('EntryById', r.body);
      }
      const missing = await call('GET', '/entries/etr_missing_x');
      expect(missing.status).to.equal(404);
      conforms('NotFoundError', missing.body);
      expect(missing.body.error.invalidId).to.equal('etr_missing_x');
    });

    it('an export answers an AsyncTaskLink and its task is an ExportsAsyncTask when RUNNING and SUCCEEDED', async () => {
      const started = await call('POST', '/exports', { id: 'etr_conform1', format: 'pdf' });
      expect(started.status).to.equal(202);
      conforms('AsyncTaskLink', started.body);
      const running = await call('GET', `/tasks/${started.body.taskId}`);
      expect(running.body.status).to.equal('RUNNING');
      conforms('ExportsAsyncTask', running.body);
      const done = await awaitTask(call, started.body.taskId);
      expect(done.body.status).to.equal('SUCCEEDED');
      conforms('ExportsAsyncTask', done.body);
    });

    it('a failed export task is an ExportsAsyncTask with a message', async () => {
      const started = await call('POST', '/exports', { id: 'etr_fail_conform' });
      const failed = await awaitTask(call, started.body.taskId);
      expect(failed.body.status).to.equal('FAILED');
      expect(failed.body.message).to.be.a('string').and.not.empty;
      conforms('ExportsAsyncTask', failed.body);
    });

    it('a bad export request is refused with a BadRequestError', async () => {
      const r = await call('POST', '/exports', { id: 'etr_conform1', format: 'docx' });
      expect(r.status).to.equal(400);
      conforms('BadRequestError', r.body);
    });

    it('canvases are AppCanvas on create, patch and get', async () => {
      const created = await call('POST', '/app-canvases', {
        appId: sim.options.appId,
        featureId: 'quilt_entry',
        resourceId: 'etr_conform1',
        blocks: [
          { type: 'MARKDOWN', value: 'Packaging…' },
          { type: 'BUTTON', id: 'package_now', text: 'Package', enabled: false },
        ],
        enabled: true,
      });
      expect(created.status).to.equal(201);
      conforms('AppCanvas', created.body);
      const patched = await call('PATCH', `/app-canvases/${created.body.id}`, {
        blocks: [{ type: 'SECTION', id: 's1', children: [{ type: 'MARKDOWN', value: '[Open](https://x)' }] }],
      });
      expect(patched.status).to.equal(200);
      conforms('AppCanvas', patched.body);
      const got = await call('GET', `/app-canvases/${created.body.id}`);
      conforms('AppCanvas', got.body);
    });

    it('app sessions are AppSession on create and patch', async () => {
      const created = await call('POST', '/app-sessions', {
        appId: sim.options.appId,
        name: 'Packaging entry',
        timeoutSeconds: 600,
        messages: [{ content: 'Queued', style: 'INFO' }],
      });
      expect(created.status).to.equal(201);
      conforms('AppSession', created.body);
      const patched = await call('PATCH', `/app-sessions/${created.body.id}`, {
        messages: [{ content: 'Done', style: 'SUCCESS' }],
        status: 'SUCCEEDED',
      });
      expect(patched.status).to.equal(200);
      conforms('AppSession', patched.body);
      const invalid = await call('PATCH', `/app-sessions/${created.body.id}`, { messages: [{ content: 'x' }] });
      conforms('BadRequestError', invalid.body);
    });

    it('a 429 carries an error body of the same shape', async () => {
      const tight = await startSimulator({ rateLimit: { limit: 1, windowSeconds: 30 }, zipDir: zips.dir });
      try {
        const t = await fetchToken(tight);
        const c = apiClient(tight, t.body.access_token);
        const r = await c('GET', '/entries/etr_conform1');
        expect(r.status).to.equal(429);
        conforms('BadRequestError', r.body);
        expect(r.body.error.message).to.equal('Rate limit exceeded.');
      } finally {
        await tight.close();
      }
    });
  });

  // What our real worker sends is checked in test/e2e/openapi-requests.test.ts, captured by the simulator.
  describe('requests', () => {
    it('the simulator accepts exactly what the OpenAPI accepts for the fields it checks', async () => {
      // appId is not a property of AppCanvasUpdate: both the schema and the simulator refuse it.
      const body = { appId: 'app_sim', blocks: [] };
      expect(spec.errorsFor('AppCanvasUpdate', body)).to.not.be.empty;
      const created = await call('POST', '/app-canvases', {
        appId: sim.options.appId,
        featureId: 'f',
        resourceId: 'etr_conform1',
        blocks: [],
      });
      const r = await call('PATCH', `/app-canvases/${created.body.id}`, body);
      expect(r.status).to.equal(400);
    });
  });
});
