import { expect } from 'chai';
import { deploymentConfigFrom } from '../src/config.ts';
import { workerConfigFromEnv } from '../../services/worker/src/config.ts';
import { type CfnProps, BASE_CONTEXT, refOf, resourceNamed, resourcesOf, synth } from './support/synth.ts';

type Props = CfnProps;

const WAREHOUSE = {
  warehouseHost: 'postgres-warehouse.acme.benchling.com',
  warehouseSchema: 'acme_registry',
  warehouseCidrs: ['198.51.100.0/24'],
};

function env(task: Props): Record<string, unknown> {
  return Object.fromEntries(task.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}

function egressOf(sg: Props): Array<[string | undefined, number, number, string]> {
  return (sg.SecurityGroupEgress ?? []).map((r: Props) => [r.CidrIp ?? r.CidrIpv6, r.FromPort, r.ToPort, r.IpProtocol]);
}

describe('the CDK stack: warehouse, egress and worker health check', function () {
  this.timeout(60_000);

  it('without a warehouse: no warehouse settings, secret or alarm, and workers may only speak HTTPS out', () => {
    const s = synth();
    const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
    expect(Object.keys(env(task)).filter((k) => k.startsWith('WAREHOUSE_'))).to.deep.equal([]);
    expect(resourcesOf(s.template, 'AWS::CloudWatch::Alarm').filter(([id]) => id.includes('Warehouse'))).to.deep.equal([]);
    const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'WorkerSecurityGroup');
    expect(egressOf(sg)).to.deep.equal([['0.0.0.0/0', 443, 443, 'tcp']]);
  });

  it('checks worker liveness through /health/live on HEALTH_PORT', () => {
    const s = synth();
    const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
    const c = task.ContainerDefinitions[0];
    expect(env(task).HEALTH_PORT).to.equal('8081');
    expect(c.HealthCheck.Command.join(' ')).to.include('http://127.0.0.1:8081/health/live');
    expect(c.HealthCheck).to.include({ Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 60 });
    // The worker's own parser accepts what the stack sets.
    expect(
      workerConfigFromEnv({
        ...env(task),
        JOBS_QUEUE_URL: 'q',
        DLQ_URL: 'd',
        PACKAGE_BUCKET: 'b',
        BENCHLING_CLIENT_ID: 'x',
        BENCHLING_CLIENT_SECRET: 'y',
      } as Record<string, string>).healthPort,
    ).to.equal(8081);
  });

  it('with a warehouse: address and schema for both services, a secret they may read, egress to 5432 at its CIDRs, a DBA alarm', () => {
    const s = synth(WAREHOUSE);
    const [secretId] = resourceNamed(s.template, 'AWS::SecretsManager::Secret', 'WarehouseCredentials');
    for (const name of ['WorkerTask', 'IngressTask']) {
      const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', name);
      const e = env(task);
      expect(e, name).to.deep.include({
        WAREHOUSE_HOST: WAREHOUSE.warehouseHost,
        WAREHOUSE_PORT: '5432',
        WAREHOUSE_DATABASE: 'warehouse',
        WAREHOUSE_SCHEMA: 'acme_registry',
        WAREHOUSE_SSL: 'require',
      });
      expect(refOf(e.WAREHOUSE_SECRET_ARN), name).to.equal(secretId);
      const roles = resourcesOf(s.template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith(`${name}TaskRoleDefaultPolicy`));
      const statements = roles.flatMap(([, p]) => p.PolicyDocument.Statement as Props[]);
      const read = statements.find((st) => st.Sid === 'ReadWarehouseSecret');
      expect(read, name).to.deep.include({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow' });
      expect(refOf(read!.Resource)).to.equal(secretId);
    }
    const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'WorkerSecurityGroup');
    expect(egressOf(sg)).to.have.deep.members([
      ['0.0.0.0/0', 443, 443, 'tcp'],
      ['198.51.100.0/24', 5432, 5432, 'tcp'],
    ]);
    const [, alarm] = resourceNamed(s.template, 'AWS::CloudWatch::Alarm', 'WarehouseAccessDenied');
    expect(alarm).to.deep.include({
      Namespace: 'BenchlingPackager',
      MetricName: 'WarehouseFailures',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.Dimensions).to.have.deep.members([
      { Name: 'Service', Value: 'worker' },
      { Name: 'Kind', Value: 'access_denied' },
    ]);
    const [topicId] = resourceNamed(s.template, 'AWS::SNS::Topic', 'AlarmsTopic');
    expect(alarm.AlarmActions.map(refOf)).to.deep.equal([topicId]);
  });

  it('uses an existing secret when given one, and refuses warehouse settings without a host', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:benchling-warehouse-AbCdEf';
    const s = synth({ ...WAREHOUSE, warehouseSecretArn: arn, warehousePort: 6543 });
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 1); // the Benchling app's only
    const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
    expect(env(task)).to.deep.include({ WAREHOUSE_SECRET_ARN: arn, WAREHOUSE_PORT: '6543' });
    const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'WorkerSecurityGroup');
    expect(egressOf(sg)).to.deep.include(['198.51.100.0/24', 6543, 6543, 'tcp']);
    const ctx: Record<string, unknown> = { ...BASE_CONTEXT, warehouseDatabase: 'warehouse' };
    expect(() => deploymentConfigFrom((k) => ctx[k])).to.throw(/warehouseDatabase needs warehouseHost/);
  });
});
