import { expect } from 'chai';
import {
  BenchlingBaseUrlRejectedError,
  BenchlingClientPool,
  type BenchlingCredentials,
  BudgetRegistry,
  DEFAULT_BENCHLING_BASE_URL_PATTERN,
} from '../../src/benchling/index.ts';
import { captureLogger, fakeTime } from './helpers.ts';
import { ScriptedServer } from './scripted-server.ts';

const LOCAL = /^http:\/\/127\.0\.0\.1:\d+$/;

const entry = (id: string) => ({
  entry: { id, name: 'n', displayId: 'd', webURL: 'w', createdAt: '2025-01-01T00:00:00Z', modifiedAt: '2025-01-01T00:00:00Z' },
});

describe('BenchlingClientPool', () => {
  let server: ScriptedServer;
  let lookups: string[];
  const credentialsFor = (tenantId: string): BenchlingCredentials => {
    lookups.push(tenantId);
    return { clientId: `id-${tenantId}`, clientSecret: `secret-${tenantId}` };
  };

  beforeEach(async () => {
    server = await ScriptedServer.start();
    lookups = [];
  });
  afterEach(async () => {
    await server.close();
  });

  it('accepts only https Benchling tenant origins by default', () => {
    for (const ok of ['https://acme.benchling.com', 'https://acme-test.benchling.com']) expect(DEFAULT_BENCHLING_BASE_URL_PATTERN.test(ok), ok).to.equal(true);
    for (const bad of [
      'http://acme.benchling.com',
      'https://acme.benchling.com.evil.io',
      'https://evil.io/acme.benchling.com',
      'https://user@acme.benchling.com',
      'https://acme.benchling.com:8443',
      'https://a.b.benchling.com',
      'https://127.0.0.1:1234',
    ]) {
      expect(DEFAULT_BENCHLING_BASE_URL_PATTERN.test(bad), bad).to.equal(false);
    }
  });

  it('refuses a baseURL outside the allow-list before looking up credentials or sending anything', () => {
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger });
    expect(() => pool.get({ tenantId: 'ten_a', baseURL: server.url })).to.throw(BenchlingBaseUrlRejectedError).with.property('retryable', false);
    expect(lookups).to.deep.equal([]);
    expect(server.requests).to.deep.equal([]);
  });

  it('talks to a local Benchling when the allow-list is configured for it, sending that tenant’s credentials', async () => {
    server.script('GET', '/api/v2/entries/etr_1', { status: 200, body: entry('etr_1') });
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger, allowedBaseUrls: [LOCAL] });
    const got = await pool.get({ tenantId: 'ten_a', baseURL: `${server.url}/` }).getEntry('etr_1');
    expect(got.id).to.equal('etr_1');
    const [tokenReq] = server.requestsTo('POST', '/api/v2/token');
    expect(Buffer.from(String(tokenReq!.headers.authorization).slice(6), 'base64').toString()).to.equal('id-ten_a:secret-ten_a');
  });

  it('treats an allow-list pattern with the global flag the same on every call', () => {
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger, allowedBaseUrls: [/^http:\/\/127\.0\.0\.1:\d+$/g] });
    for (const tenantId of ['ten_a', 'ten_b', 'ten_c']) expect(() => pool.get({ tenantId, baseURL: server.url })).to.not.throw();
  });

  it('keeps one client per tenant, so credentials are looked up and a token fetched once', async () => {
    server.script('GET', '/api/v2/entries/etr_1', { status: 200, body: entry('etr_1') });
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger, allowedBaseUrls: [LOCAL] });
    const a1 = pool.get({ tenantId: 'ten_a', baseURL: server.url });
    const a2 = pool.get({ tenantId: 'ten_a', baseURL: server.url });
    const b = pool.get({ tenantId: 'ten_b', baseURL: server.url });
    expect(a1).to.equal(a2);
    expect(a1).to.not.equal(b);
    await a1.getEntry('etr_1');
    await a2.getEntry('etr_1');
    expect(lookups).to.deep.equal(['ten_a', 'ten_b']);
    expect(server.requestsTo('POST', '/api/v2/token')).to.have.length(1);
  });

  it('makes a tenant’s clients spend the tenant’s shared budget', async () => {
    const clock = fakeTime();
    const budgets = new BudgetRegistry({ now: clock.now, sleep: clock.sleep, random: () => 0 });
    server.script('GET', '/api/v2/entries/etr_1', { status: 200, body: entry('etr_1'), headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '4' } });
    const pool = new BenchlingClientPool({ credentialsFor, budgets, logger: captureLogger().logger, allowedBaseUrls: [LOCAL] });
    await pool.get({ tenantId: 'ten_a', baseURL: server.url }).getEntry('etr_1');
    expect(budgets.forTenant('ten_a').snapshot().blockedUntil).to.equal(clock.now() + 4000);
    expect(budgets.forTenant('ten_b').snapshot().blockedUntil).to.equal(0);
  });

  it('builds a fresh client after forget, e.g. when credentials were rotated', () => {
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger, allowedBaseUrls: [LOCAL] });
    const first = pool.get({ tenantId: 'ten_a', baseURL: server.url });
    pool.forget('ten_a');
    expect(pool.get({ tenantId: 'ten_a', baseURL: server.url })).to.not.equal(first);
    expect(lookups).to.deep.equal(['ten_a', 'ten_a']);
  });
});
