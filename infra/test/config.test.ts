import { expect } from 'chai';
import { ConfigError } from '@bp/shared/errors';
import { deploymentConfigFrom } from '../src/config.ts';
import { BASE_CONTEXT } from './support/synth.ts';

const parse = (overrides: Record<string, unknown>, defaults = {}) => {
  const ctx = { ...BASE_CONTEXT, ...overrides };
  return deploymentConfigFrom((k) => ctx[k], defaults);
};

function expectConfigError(fn: () => unknown, key: RegExp): void {
  expect(fn).to.throw(ConfigError, key);
}

describe('deployment config from CDK context', () => {
  it('refuses to synthesise without the Benchling allow-list, certificate or app definition, naming the key', () => {
    expectConfigError(() => parse({ benchlingCidrs: undefined }), /benchlingCidrs/);
    expectConfigError(() => parse({ certificateArn: undefined }), /certificateArn/);
    expectConfigError(() => parse({ benchlingAppDefinitionId: undefined }), /benchlingAppDefinitionId/);
  });

  it('serves exactly the tenants listed, each with its own prefix, and refuses patterns and shared prefixes', () => {
    expectConfigError(() => parse({ benchlingTenants: undefined }), /benchlingTenants/);
    expect(parse({ benchlingTenants: 'ten_a=https://a.benchling.com/, ten_b=https://b.benchling.com=lab-b' }).tenants).to.deep.equal([
      { tenantId: 'ten_a', baseURL: 'https://a.benchling.com', packagePrefix: 'benchling' },
      { tenantId: 'ten_b', baseURL: 'https://b.benchling.com', packagePrefix: 'lab-b' },
    ]);
    expectConfigError(
      () => parse({ benchlingTenants: ['ten_a=https://a.benchling.com', 'ten_b=https://b.benchling.com'] }),
      /ten_b must name its own package prefix/,
    );
    expectConfigError(
      () => parse({ benchlingTenants: ['ten_a=https://a.benchling.com=lab', 'ten_b=https://b.benchling.com=lab'] }),
      /share the package prefix/,
    );
    expectConfigError(() => parse({ benchlingTenants: ['ten_a=^https://[a-z0-9-]+\\.benchling\\.com$'] }), /exact https origin/);
    expectConfigError(() => parse({ allowedBaseUrls: '^https://acme\\.benchling\\.com' }), /allowedBaseUrls is no longer read/);
  });

  it('needs account and region from context or from the CDK CLI, so no lookup ever guesses them', () => {
    expectConfigError(() => parse({ account: undefined }), /account/);
    expect(parse({ account: undefined, region: undefined }, { account: '999988887777', region: 'eu-west-1' })).to.include({
      account: '999988887777',
      region: 'eu-west-1',
    });
    expect(parse({}, { account: '999988887777' }).account, 'context wins').to.equal('111122223333');
  });

  it('reads lists from `-c key=a,b` strings and from JSON arrays alike', () => {
    expect(parse({ benchlingCidrs: '203.0.113.0/24, 2001:db8::/32' }).benchlingCidrs).to.deep.equal(['203.0.113.0/24', '2001:db8::/32']);
    expect(parse({ workerMaxTasks: '7' }).worker.maxTasks).to.equal(7);
  });

  it('rejects malformed CIDRs, lopsided subnet lists and contradictory choices', () => {
    expectConfigError(() => parse({ benchlingCidrs: ['203.0.113.0'] }), /benchlingCidrs/);
    expectConfigError(() => parse({ benchlingCidrs: ['203.0.113.0/33'] }), /benchlingCidrs/);
    expectConfigError(
      () =>
        parse({
          vpcId: 'vpc-1',
          vpcAvailabilityZones: ['us-east-1a', 'us-east-1b'],
          vpcPublicSubnetIds: ['subnet-1'],
          vpcPrivateSubnetIds: ['subnet-2', 'subnet-3'],
        }),
      /vpcPublicSubnetIds/,
    );
    expectConfigError(() => parse({ quiltPublish: 'queue' }), /packagerQueueArn/);
    expectConfigError(() => parse({ workerMinTasks: 5, workerMaxTasks: 2 }), /workerMaxTasks/);
    expectConfigError(() => parse({ shutdownGraceSeconds: 200 }), /shutdownGraceSeconds/);
    expectConfigError(() => parse({ hostedZoneId: 'Z123' }), /hostedZone/);
    expectConfigError(() => parse({ logRetentionDays: 31 }), /logRetentionDays/);
  });

  it('chooses the VPC from what is given: new, by attributes, or by lookup', () => {
    expect(parse({}).vpc).to.deep.equal({ kind: 'new', availabilityZones: ['us-east-1a', 'us-east-1b'], natGateways: 1 });
    expect(parse({ vpcId: 'vpc-1' }).vpc).to.deep.equal({ kind: 'lookup', vpcId: 'vpc-1' });
    expect(
      parse({
        vpcId: 'vpc-1',
        vpcAvailabilityZones: 'us-east-1a,us-east-1c',
        vpcPublicSubnetIds: 'subnet-a,subnet-b',
        vpcPrivateSubnetIds: 'subnet-c,subnet-d',
      }).vpc,
    ).to.deep.include({
      kind: 'attributes',
      privateSubnetIds: ['subnet-c', 'subnet-d'],
    });
  });

  it('defaults the backlog target to the worker concurrency and the table prefix to the stack name', () => {
    const c = parse({ workerConcurrency: 6 });
    expect(c.worker.backlogPerTaskTarget).to.equal(6);
    expect(c.tablePrefix).to.equal('bptest-');
  });
});
