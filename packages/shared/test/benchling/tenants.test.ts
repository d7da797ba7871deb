import { expect } from 'chai';
import { ConfigError } from '../../src/errors.ts';
import { baseUrlOrigin, BenchlingTenantRejectedError, parseTenants, TenantDirectory } from '../../src/benchling/tenants.ts';

describe('BENCHLING_TENANTS', () => {
  it('parses tenantId=baseURL[=packagePrefix]; the first tenant takes PACKAGE_PREFIX', () => {
    expect(parseTenants(' ten_a=https://a.benchling.com/ , ten_b=https://b.benchling.com=lab-b', 'benchling')).to.deep.equal([
      { tenantId: 'ten_a', baseURL: 'https://a.benchling.com', packagePrefix: 'benchling' },
      { tenantId: 'ten_b', baseURL: 'https://b.benchling.com', packagePrefix: 'lab-b' },
    ]);
  });

  it('refuses at start what would let tenants share packages, or credentials go elsewhere', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /names no tenant/],
      ['ten_a=https://a.benchling.com,ten_b=https://b.benchling.com', /ten_b must name its own package prefix/],
      ['ten_a=https://a.benchling.com,ten_b=https://b.benchling.com=benchling', /share the package prefix "benchling"/],
      ['ten_a=https://a.benchling.com=x,ten_a=https://b.benchling.com=y', /listed twice/],
      ['ten_a=https://a.benchling.com=x,ten_b=https://a.benchling.com=y', /share the base URL/],
      ['ten_a=^https://[a-z0-9-]+\\.benchling\\.com$', /exact https origin/],
      ['ten_a=https://*.benchling.com', /exact https origin/],
      ['ten_a=http://acme.benchling.com', /exact https origin/],
      ['ten_a=https://acme.benchling.com/api', /exact https origin/],
      ['ten_a=https://u:p@acme.benchling.com', /exact https origin/],
      ['ten_a=https://acme.benchling.com=bad/prefix', /Quilt namespace/],
      ['ten a=https://acme.benchling.com', /tenant id/],
      ['ten_a', /not tenantId=baseURL/],
    ];
    for (const [spec, why] of bad) {
      expect(() => parseTenants(spec, 'benchling'), spec).to.throw(ConfigError, why);
    }
  });

  it('accepts plain http only for a loopback simulator', () => {
    expect(baseUrlOrigin('http://127.0.0.1:8090')).to.equal('http://127.0.0.1:8090');
    expect(baseUrlOrigin('http://10.0.0.1:8090')).to.equal(undefined);
  });

  it('admits a job only for a listed tenant at exactly its base URL: no look-alike host passes', () => {
    const dir = new TenantDirectory(parseTenants('ten_a=https://acme.benchling.com', 'benchling'));
    expect(dir.check('ten_a', 'https://acme.benchling.com/').packagePrefix).to.equal('benchling');
    for (const [tenantId, url] of [
      ['ten_a', 'https://acme.benchling.com.evil.example'],
      ['ten_a', 'https://evil.example/acme.benchling.com'],
      ['ten_a', 'https://acme.benchling.com/../x'],
      ['ten_a', 'https://ACME.benchling.com:443/?x'],
      ['ten_b', 'https://acme.benchling.com'],
    ]) {
      expect(() => dir.check(tenantId!, url!), `${tenantId} ${url}`).to.throw(BenchlingTenantRejectedError);
    }
  });
});
