import { expect } from 'chai';
import { resourceNamed, resourcesOf, synth } from './support/synth.ts';

const IMAGE = { imageUri: 'public.ecr.aws/example/bp:1' };
const EXISTING = {
  vpcId: 'vpc-0e000000000000001',
  vpcAvailabilityZones: ['us-east-1a', 'us-east-1b'],
  vpcPublicSubnetIds: ['subnet-0a000000000000001', 'subnet-0a000000000000002'],
  vpcPrivateSubnetIds: ['subnet-0b000000000000001', 'subnet-0b000000000000002'],
};

/** What the CDK CLI caches in cdk.context.json after looking up a VPC with two public and two private subnets. */
function cachedVpc(vpcId: string) {
  const subnet = (id: string, az: string, cidr: string) => ({
    subnetId: id,
    availabilityZone: az,
    cidr,
    routeTableId: id.replace('subnet-', 'rtb-'),
  });
  return {
    vpcId,
    vpcCidrBlock: '10.20.0.0/16',
    ownerAccountId: '111122223333',
    availabilityZones: [],
    subnetGroups: [
      {
        name: 'Public',
        type: 'Public',
        subnets: [
          subnet('subnet-0c000000000000001', 'us-east-1a', '10.20.0.0/24'),
          subnet('subnet-0c000000000000002', 'us-east-1b', '10.20.1.0/24'),
        ],
      },
      {
        name: 'Private',
        type: 'Private',
        subnets: [
          subnet('subnet-0d000000000000001', 'us-east-1a', '10.20.8.0/22'),
          subnet('subnet-0d000000000000002', 'us-east-1b', '10.20.12.0/22'),
        ],
      },
    ],
  };
}

describe('deploying into an existing VPC, or a new one without NAT', function () {
  this.timeout(60_000);

  it('uses a VPC given by attributes without creating one or looking anything up', () => {
    const s = synth({ ...EXISTING, ...IMAGE });
    s.template.resourceCountIs('AWS::EC2::VPC', 0);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(s.assembly.manifest.missing ?? []).to.have.length(0);
    for (const name of ['IngressService', 'WorkerService']) {
      const [, svc] = resourceNamed(s.template, 'AWS::ECS::Service', name);
      expect(svc.NetworkConfiguration.AwsvpcConfiguration).to.deep.include({
        Subnets: ['subnet-0b000000000000001', 'subnet-0b000000000000002'],
        AssignPublicIp: 'DISABLED',
      });
    }
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Subnets: ['subnet-0a000000000000001', 'subnet-0a000000000000002'],
    });
    const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'IngressLoadBalancerSecurityGroup');
    expect(sg.VpcId).to.equal('vpc-0e000000000000001');
  });

  it('asks for a VPC lookup when only the id is given, and synthesises from the cached answer without credentials', () => {
    const first = synth({ vpcId: 'vpc-0f000000000000001', ...IMAGE });
    const missing = first.assembly.manifest.missing ?? [];
    expect(missing.map((m) => m.provider)).to.deep.equal(['vpc-provider']);
    const key = missing[0]!.key;
    expect(key).to.include('vpc-0f000000000000001');

    const second = synth({ vpcId: 'vpc-0f000000000000001', ...IMAGE }, { [key]: cachedVpc('vpc-0f000000000000001') });
    expect(second.assembly.manifest.missing ?? []).to.have.length(0);
    const [, svc] = resourceNamed(second.template, 'AWS::ECS::Service', 'WorkerService');
    expect(svc.NetworkConfiguration.AwsvpcConfiguration.Subnets).to.deep.equal(['subnet-0d000000000000001', 'subnet-0d000000000000002']);
    second.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Subnets: ['subnet-0c000000000000001', 'subnet-0c000000000000002'],
    });
  });

  it('puts tasks in public subnets with public IPs when the new VPC has no NAT gateway', () => {
    const s = synth({ natGateways: 0, ...IMAGE });
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const publicSubnets = resourcesOf(s.template, 'AWS::EC2::Subnet')
      .filter(([, p]) => p.MapPublicIpOnLaunch === true)
      .map(([id]) => id);
    expect(publicSubnets).to.have.length(2);
    for (const name of ['IngressService', 'WorkerService']) {
      const [, svc] = resourceNamed(s.template, 'AWS::ECS::Service', name);
      const cfg = svc.NetworkConfiguration.AwsvpcConfiguration;
      expect(cfg.AssignPublicIp).to.equal('ENABLED');
      expect(cfg.Subnets.map((x: { Ref: string }) => x.Ref).sort()).to.deep.equal(publicSubnets.sort());
    }
  });
});
