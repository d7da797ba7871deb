import { expect } from 'chai';
import { ConfigError } from '@bp/shared';
import { ingressConfigFromEnv } from '../src/config.ts';

describe('ingress configuration', () => {
  const base = { JOBS_QUEUE_URL: 'http://q/jobs', DLQ_URL: 'http://q/dlq', PACKAGE_BUCKET: 'b' };

  it('derives the JWKS URL from the app definition id and applies the documented defaults', () => {
    const c = ingressConfigFromEnv({ ...base, BENCHLING_APP_DEFINITION_ID: 'appdef_abc' });
    expect(c.jwksUrl).to.equal('https://apps.benchling.com/api/v1/apps/appdef_abc/jwks');
    expect(c).to.deep.include({
      port: 8080,
      toleranceSeconds: 300,
      maxBodyBytes: 64 * 1024,
      updateButtonIds: ['update-package'],
      dedupeTtlDays: 7,
    });
    expect(c).to.deep.include({ bodyTimeoutMs: 3000, maxConnections: 512, trustProxy: 0, readyCacheMs: 1500 });
    expect(c.aws).to.deep.include({ requestTimeoutMs: 700, maxAttempts: 2 });
    expect(c.names).to.deep.include({ jobsQueueUrl: 'http://q/jobs', dedupeTable: 'bp-dedupe', executionsTable: 'bp-executions' });
  });

  it('reads overrides, including a list of update buttons', () => {
    const c = ingressConfigFromEnv({
      ...base,
      BENCHLING_JWKS_URL: 'http://127.0.0.1:9/jwks',
      PORT: '9000',
      UPDATE_BUTTON_IDS: 'update-package, repackage ,',
      WEBHOOK_TOLERANCE_SECONDS: '120',
      DEDUPE_TTL_DAYS: '30',
      TABLE_PREFIX: 'x-',
      TRUST_PROXY: '1',
    });
    expect(c.trustProxy).to.equal(1);
    expect(c).to.deep.include({
      jwksUrl: 'http://127.0.0.1:9/jwks',
      port: 9000,
      updateButtonIds: ['update-package', 'repackage'],
      toleranceSeconds: 120,
      dedupeTtlDays: 30,
    });
    expect(c.names.dedupeTable).to.equal('x-dedupe');
  });

  it('refuses to start without a way to find the signing keys, naming the variable', () => {
    expect(() => ingressConfigFromEnv(base)).to.throw(ConfigError, 'BENCHLING_APP_DEFINITION_ID');
  });

  it('refuses budgets that could not answer within Benchling’s 3 seconds', () => {
    expect(() => ingressConfigFromEnv({ ...base, BENCHLING_APP_DEFINITION_ID: 'a', REQUEST_BUDGET_MS: '2600' })).to.throw(
      ConfigError,
      /3 s/,
    );
    expect(() => ingressConfigFromEnv({ ...base, BENCHLING_APP_DEFINITION_ID: 'a', JWKS_REQUEST_WAIT_MS: '2000' })).to.throw(
      ConfigError,
      'JWKS_REQUEST_WAIT_MS',
    );
  });
});
