import { expect } from 'chai';
import {
  BenchlingClientPool,
  type BenchlingCredentials,
  BenchlingTenantRejectedError,
  BudgetRegistry,
  TenantDirectory,
} from '../../src/benchling/index.ts';
import { captureLogger, fakeTime } from './helpers.ts';
import { ScriptedServer } from './scripted-server.ts';

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

  /** The tenants ten_a, ten_b and ten_c, all served by the scripted server. */
  const local = () =>
    new TenantDirectory(['ten_a', 'ten_b', 'ten_c'].map((tenantId, i) => ({ tenantId, baseURL: server.url, packagePrefix: `p${i}` })));

  it('refuses an unserved tenant, or a served one at another base URL, before looking up credentials or sending anything', () => {
    const tenants = new TenantDirectory([{ tenantId: 'ten_a', baseURL: 'https://acme.benchling.com', packagePrefix: 'benchling' }]);
    const pool = new BenchlingClientPool({ credentialsFor, budgets: new BudgetRegistry(), logger: captureLogger().logger, tenants });
    for (const t of [
      { tenantId: 'ten_a', baseURL: server.url },
      { tenantId: 'ten_a', baseURL: 'https://acme.benchling.com.evil.example' },
      { tenantId: 'ten_a', baseURL: 'https://evil.example/acme.benchling.com' },
      { tenantId: 'ten_a', baseURL: 'https://user@acme.benchling.com' },
      { tenantId: 'ten_a', baseURL: 'http://acme.benchling.com' },
      { tenantId: 'ten_z', baseURL: 'https://acme.benchling.com' },
    ]) {
      expect(() => pool.get(t), JSON.stringify(t))
        .to.throw(BenchlingTenantRejectedError)
        .with.property('retryable', false);
    }
    expect(pool.get({ tenantId: 'ten_a', baseURL: 'https://acme.benchling.com/' })).to.be.an('object');
    expect(lookups).to.deep.equal(['ten_a']);
    expect(server.requests).to.deep.equal([]);
  });

  it('talks to a local Benchling when it is a configured tenant, sending that tenant’s credentials', async () => {
    server.script('GET', '/api/v2/entries/etr_1', { status: 200, body: entry('etr_1') });
    const pool = new BenchlingClientPool({
      credentialsFor,
      budgets: new BudgetRegistry(),
      logger: captureLogger().logger,
      tenants: local(),
    });
    const got = await pool.get({ tenantId: 'ten_a', baseURL: `${server.url}/` }).getEntry('etr_1');
    expect(got.id).to.equal('etr_1');
    const [tokenReq] = server.requestsTo('POST', '/api/v2/token');
    expect(Buffer.from(String(tokenReq!.headers.authorization).slice(6), 'base64').toString()).to.equal('id-ten_a:secret-ten_a');
  });

  it('keeps one client per tenant, so credentials are looked up and a token fetched once', async () => {
    server.script('GET', '/api/v2/entries/etr_1', { status: 200, body: entry('etr_1') });
    const pool = new BenchlingClientPool({
      credentialsFor,
      budgets: new BudgetRegistry(),
      logger: captureLogger().logger,
      tenants: local(),
    });
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
    server.script('GET', '/api/v2/entries/etr_1', {
      status: 200,
      body: entry('etr_1'),
      headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '4' },
    });
    const pool = new BenchlingClientPool({ credentialsFor, budgets, logger: captureLogger().logger, tenants: local() });
    await pool.get({ tenantId: 'ten_a', baseURL: server.url }).getEntry('etr_1');
    expect(budgets.forTenant('ten_a').snapshot().blockedUntil).to.equal(clock.now() + 4000);
    expect(budgets.forTenant('ten_b').snapshot().blockedUntil).to.equal(0);
  });

  it('builds a fresh client after forget, e.g. when credentials were rotated', () => {
    const pool = new BenchlingClientPool({
      credentialsFor,
      budgets: new BudgetRegistry(),
      logger: captureLogger().logger,
      tenants: local(),
    });
    const first = pool.get({ tenantId: 'ten_a', baseURL: server.url });
    pool.forget('ten_a');
    expect(pool.get({ tenantId: 'ten_a', baseURL: server.url })).to.not.equal(first);
    expect(lookups).to.deep.equal(['ten_a', 'ten_a']);
  });
});
