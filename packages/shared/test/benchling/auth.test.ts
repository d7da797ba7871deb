import { expect } from 'chai';
import { BenchlingServerError, BenchlingUnauthorizedError, refreshMarginMs, TokenProvider } from '../../src/benchling/index.ts';
import { ScriptedServer } from './scripted-server.ts';
import { fakeTime } from './helpers.ts';

const TOKEN = '/api/v2/token';

describe('Benchling TokenProvider', () => {
  let server: ScriptedServer;
  beforeEach(async () => {
    server = await ScriptedServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  it('asks for a client-credentials token with HTTP Basic auth and a form body', async () => {
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'my-client', clientSecret: 's3cr3t:with-colon' });
    expect(await tokens.getToken()).to.equal('token-1');
    const [req] = server.requestsTo('POST', TOKEN);
    expect(req!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    expect(new URLSearchParams(req!.body).get('grant_type')).to.equal('client_credentials');
    const basic = Buffer.from(String(req!.headers.authorization).replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(basic).to.equal('my-client:s3cr3t:with-colon');
  });

  it('serves the cached token until the refresh margin before expiry, then fetches a new one', async () => {
    const clock = fakeTime();
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'c', clientSecret: 's', now: clock.now });
    expect(await tokens.getToken()).to.equal('token-1');
    // expires_in 900 s → margin 60 s → refresh at 840 s.
    clock.advance(839_000);
    expect(await tokens.getToken()).to.equal('token-1');
    expect(server.requestsTo('POST', TOKEN)).to.have.length(1);
    clock.advance(1_000);
    expect(await tokens.getToken()).to.equal('token-2');
    expect(server.requestsTo('POST', TOKEN)).to.have.length(2);
  });

  it('computes the refresh margin as 10 % of the lifetime kept within 1 s and 60 s', () => {
    expect(refreshMarginMs(900)).to.equal(60_000);
    expect(refreshMarginMs(300)).to.equal(30_000);
    expect(refreshMarginMs(5)).to.equal(1_000);
  });

  it('shares one in-flight token request among concurrent callers', async () => {
    server.script('POST', TOKEN, (_req, n) => ({
      status: 200,
      body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 900 },
    }));
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'c', clientSecret: 's' });
    const got = await Promise.all(Array.from({ length: 25 }, () => tokens.getToken()));
    expect(new Set(got)).to.deep.equal(new Set(['token-1']));
    expect(server.requestsTo('POST', TOKEN)).to.have.length(1);
  });

  it('refreshes once when many callers invalidate the same rejected token', async () => {
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'c', clientSecret: 's' });
    const stale = await tokens.getToken();
    tokens.invalidate(stale);
    const fresh = await tokens.getToken();
    // Late 401s for the old token must not throw away the new one.
    tokens.invalidate(stale);
    tokens.invalidate(stale);
    expect(await tokens.getToken()).to.equal(fresh);
    expect(fresh).to.equal('token-2');
    expect(server.requestsTo('POST', TOKEN)).to.have.length(2);
  });

  it('reports rejected client credentials as a permanent BenchlingUnauthorized error', async () => {
    server.script('POST', TOKEN, { status: 401, body: { error: 'invalid_client' } });
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'c', clientSecret: 'wrong' });
    const err = await tokens.getToken().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BenchlingUnauthorizedError);
    expect((err as BenchlingUnauthorizedError).code).to.equal('BenchlingUnauthorized');
    expect((err as BenchlingUnauthorizedError).retryable).to.equal(false);
    expect((err as Error).message).to.not.contain('wrong');
  });

  it('reports a 503 from the token endpoint as retryable and tries again on the next call', async () => {
    server.script('POST', TOKEN, { status: 503, body: {} }, { status: 200, body: { access_token: 'after-outage', expires_in: 900 } });
    const tokens = new TokenProvider({ baseURL: server.url, clientId: 'c', clientSecret: 's' });
    const err = await tokens.getToken().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BenchlingServerError);
    expect((err as BenchlingServerError).retryable).to.equal(true);
    expect(await tokens.getToken()).to.equal('after-outage');
  });
});
