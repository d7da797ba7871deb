import { expect } from 'chai';
import { ConfigError } from '@bp/shared';
import { workerConfigFromEnv } from '../src/index.ts';

/** Start-up refusals: pure parsing, no servers needed. */
describe('worker configuration of the tenants it serves', () => {
  const base = { JOBS_QUEUE_URL: 'q', DLQ_URL: 'd', PACKAGE_BUCKET: 'b', BENCHLING_CLIENT_ID: 'i', BENCHLING_CLIENT_SECRET: 's' };

  it('gives the first tenant PACKAGE_PREFIX and every further one its own prefix', () => {
    const c = workerConfigFromEnv({
      ...base,
      PACKAGE_PREFIX: 'lab',
      BENCHLING_TENANTS: 'ten_a=https://a.benchling.com,ten_b=https://b.benchling.com=lab-b',
    });
    expect(c.benchling.tenants.map((t) => [t.tenantId, t.packagePrefix])).to.deep.equal([
      ['ten_a', 'lab'],
      ['ten_b', 'lab-b'],
    ]);
  });

  it('refuses to start without BENCHLING_TENANTS, with tenants sharing a prefix, or with the old pattern allow-list', () => {
    expect(() => workerConfigFromEnv(base)).to.throw(ConfigError, /BENCHLING_TENANTS/);
    expect(() =>
      workerConfigFromEnv({ ...base, BENCHLING_TENANTS: 'ten_a=https://a.benchling.com,ten_b=https://b.benchling.com=benchling' }),
    ).to.throw(ConfigError, /share the package prefix/);
    // An unanchored pattern let `https://acme.benchling.com.evil.example` through: patterns are refused outright.
    expect(() =>
      workerConfigFromEnv({
        ...base,
        BENCHLING_TENANTS: 'ten_a=https://acme.benchling.com',
        BENCHLING_ALLOWED_BASE_URLS: 'https://acme\\.benchling\\.com',
      }),
    ).to.throw(ConfigError, /BENCHLING_ALLOWED_BASE_URLS is no longer read/);
    expect(() => workerConfigFromEnv({ ...base, BENCHLING_TENANTS: 'ten_a=https://[a-z]+\\.benchling\\.com' })).to.throw(
      ConfigError,
      /exact https origin/,
    );
  });
});
