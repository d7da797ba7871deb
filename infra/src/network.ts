import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { VpcChoice } from './config.ts';

/** The VPC and where tasks go in it. */
export interface Network {
  vpc: ec2.IVpc;
  /** Subnets for the Fargate tasks. */
  taskSubnets: ec2.SubnetSelection;
  /** Tasks in public subnets need a public IP to reach Benchling and AWS (no NAT). */
  assignPublicIp: boolean;
}

/**
 * A new VPC (public subnets for the load balancer, private ones with NAT for tasks, free gateway
 * endpoints so S3 and DynamoDB traffic skips the NAT's per-GB charge), or an existing one: from
 * attributes (no lookup) or by lookup (cached in cdk.context.json after the first synth).
 */
export function createNetwork(scope: Construct, choice: VpcChoice): Network {
  if (choice.kind === 'attributes') {
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
      vpcId: choice.vpcId,
      availabilityZones: choice.availabilityZones,
      publicSubnetIds: choice.publicSubnetIds,
      privateSubnetIds: choice.privateSubnetIds,
    });
    return { vpc, taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, assignPublicIp: false };
  }
  if (choice.kind === 'lookup') {
    const vpc = ec2.Vpc.fromLookup(scope, 'Vpc', { vpcId: choice.vpcId });
    return { vpc, taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, assignPublicIp: false };
  }
  const withNat = choice.natGateways > 0;
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    availabilityZones: choice.availabilityZones,
    natGateways: choice.natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      ...(withNat ? [{ name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 }] : []),
    ],
  });
  vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  return withNat
    ? { vpc, taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, assignPublicIp: false }
    : { vpc, taskSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true };
}
