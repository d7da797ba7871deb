import { expect } from 'chai';
import { ConfigError } from '@bp/shared/errors';
import { startSimulator, type Simulator } from '../src/index.ts';
import { apiClient, basicAuth, fetchToken, sleep } from './helpers.ts';

describe('simulated OAuth and rate limits', function () {
  this.timeout(30_000);

  describe('POST /api/v2/token', () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ clientId: 'cid', clientSecret: 's3cret', tokenTtlSeconds: 2 });
    });
    after(() => sim.close());

    it('issues a bearer token for client credentials sent as HTTP Basic', async () => {
      const t = await fetchToken(sim, { id: 'cid', secret: 's3cret' });
      expect(t.status).to.equal(200);
      expect(t.body).to.include({ token_type: 'Bearer', expires_in: 2 });
      expect(t.body.access_token).to.be.a('string').with.length.above(20);
    });

    it('issues a bearer token for client credentials sent as form fields', async () => {
      const res = await fetch(`${sim.url}/api/v2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 's3cret' }),
      });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { access_token: string }).access_token).to.be.a('string');
    });

    it('answers 401 invalid_client to a wrong secret and to no credentials', async () => {
      const wrong = await fetchToken(sim, { id: 'cid', secret: 'nope' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error.type).to.equal('invalid_client');
      const none = await fetch(`${sim.url}/api/v2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(none.status).to.equal(401);
    });

    it('answers 400 to a missing or unsupported grant_type', async () => {
      const missing = await fetch(`${sim.url}/api/v2/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('cid', 's3cret') },
        body: new URLSearchParams({}),
      });
      expect(missing.status).to.equal(400);
      expect(((await missing.json()) as { error: { type: string } }).error.type).to.equal('invalid_request');
    });

    it('requires a valid bearer token on every other API route', async () => {
      for (const [method, path] of [
        ['GET', '/entries/etr_a'],
        ['POST', '/exports'],
        ['GET', '/tasks/x'],
        ['POST', '/app-canvases'],
        ['GET', '/app-sessions/x'],
      ] as const) {
        const none = await fetch(`${sim.url}/api/v2${path}`, { method });
        expect(none.status, `${method} ${path} without token`).to.equal(401);
        expect(((await none.json()) as { error: { type: string } }).error.type).to.equal('invalid_request_error');
        const bad = await apiClient(sim, 'not-a-token')(method, path);
        expect(bad.status, `${method} ${path} with a bad token`).to.equal(401);
      }
    });

    it('refuses a token once it has expired', async () => {
      const t = await fetchToken(sim, { id: 'cid', secret: 's3cret' });
      const call = apiClient(sim, t.body.access_token);
      expect((await call('GET', '/entries/etr_a')).status).to.equal(200);
      await sleep(2100);
      expect((await call('GET', '/entries/etr_a')).status).to.equal(401);
    });

    it('refuses every issued token after expireTokens()', async () => {
      const t = await fetchToken(sim, { id: 'cid', secret: 's3cret' });
      const call = apiClient(sim, t.body.access_token);
      expect((await call('GET', '/entries/etr_a')).status).to.equal(200);
      sim.expireTokens();
      expect((await call('GET', '/entries/etr_a')).status).to.equal(401);
      expect(sim.state.tokensIssued).to.be.at.least(3);
    });
  });

  describe('x-rate-limit headers and 429', () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ rateLimit: { limit: 5, windowSeconds: 3 } });
    });
    after(() => sim.close());

    it('counts down remaining requests per client and answers 429 over budget until the window resets', async () => {
      const t = await fetchToken(sim); // request 1 of the window
      expect(t.headers.get('x-rate-limit-limit')).to.equal('5');
      expect(t.headers.get('x-rate-limit-remaining')).to.equal('4');
      const call = apiClient(sim, t.body.access_token);
      const remaining: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await call('GET', `/entries/etr_rl${i}`);
        expect(r.status).to.equal(200);
        remaining.push(r.headers.get('x-rate-limit-remaining')!);
      }
      expect(remaining).to.deep.equal(['3', '2', '1', '0']);

      const over = await call('GET', '/entries/etr_rl9');
      expect(over.status).to.equal(429);
      expect(over.body.error).to.include({ message: 'Rate limit exceeded.', type: 'invalid_request_error' });
      const reset = Number(over.headers.get('x-rate-limit-reset'));
      expect(reset).to.be.within(1, 3);
      expect(sim.state.rateLimited).to.equal(1);
      expect(sim.state.statusCounts.get(429)).to.equal(1);

      await sleep(reset * 1000 + 100);
      const after = await call('GET', '/entries/etr_rl9');
      expect(after.status).to.equal(200);
      expect(after.headers.get('x-rate-limit-remaining')).to.equal('4');
    });

    it('keeps a separate budget per client id', async () => {
      const t = await fetchToken(sim);
      const call = apiClient(sim, t.body.access_token);
      for (let i = 0; i < 5; i++) await call('GET', '/entries/etr_x');
      expect((await call('GET', '/entries/etr_x')).status).to.equal(429);
      // Unauthenticated callers are another budget: they still get their 401, with headers.
      const anon = await fetch(`${sim.url}/api/v2/entries/etr_x`);
      expect(anon.status).to.equal(401);
      expect(anon.headers.get('x-rate-limit-remaining')).to.equal('4');
    });
  });

  describe('options', () => {
    it('refuses a bad option with an error naming it', async () => {
      let err: unknown;
      try {
        await startSimulator({ exportDelayMs: -1 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(/exportDelayMs/);
    });
  });
});
