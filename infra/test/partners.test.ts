import { expect } from 'chai';
import { ingressConfigFromEnv } from '../../services/ingress/src/config.ts';
import { partnerSecretStoreFromEnv } from '@bp/shared/partners/registry-from-env';
import { PARTNER_ERROR_METRIC, PARTNER_FAILED_METRIC } from '../src/partner-alarms.ts';
import { type CfnProps, resourceNamed, resourcesOf, synth } from './support/synth.ts';

type Props = CfnProps;

describe('sequencing partners in the stack', function () {
  this.timeout(120_000);
  const s = synth({ partnerCidrs: ['192.0.2.0/24', '203.0.113.0/24'], imageUri: 'public.ecr.aws/example/bp:1' });
  const env = (task: Props) => Object.fromEntries(task.ContainerDefinitions[0].Environment.map((e: Props) => [e.Name, e.Value]));

  it('creates the partners table keyed by partnerId, and the ingress derives its name from TABLE_PREFIX', () => {
    const [, table] = resourcesOf(s.template, 'AWS::DynamoDB::Table').find(([, p]) => String(p.TableName).endsWith('partners'))!;
    expect(table.KeySchema).to.deep.equal([{ AttributeName: 'partnerId', KeyType: 'HASH' }]);
    expect(table.PointInTimeRecoverySpecification).to.deep.equal({ PointInTimeRecoveryEnabled: true });
    const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'IngressTask');
    const config = ingressConfigFromEnv(env(task));
    expect(config.names.partnersTable).to.equal(table.TableName);
  });

  it('keeps partner secrets in Secrets Manager: the ingress is told so and may read only <prefix>partners/* secrets', () => {
    const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'IngressTask');
    expect(partnerSecretStoreFromEnv(env(task))).to.equal('secretsmanager');
    const policies = resourcesOf(s.template, 'AWS::IAM::Policy').flatMap(([, p]) => p.PolicyDocument.Statement as Props[]);
    const secrets = policies.find((st) => st.Sid === 'PartnerSecrets')!;
    expect(secrets.Action).to.equal('secretsmanager:GetSecretValue');
    expect(JSON.stringify(secrets.Resource)).to.include(`:secret:${s.config.tablePrefix}partners/*`);
    const registry = policies.find((st) => st.Sid === 'PartnerRegistryRead')!;
    expect(registry.Action).to.deep.equal(['dynamodb:GetItem', 'dynamodb:Scan']);
    // The worker never reads the registry or the secrets: the job carries the policy it needs.
    const [workerRoleId] = resourceNamed(s.template, 'AWS::IAM::Role', 'WorkerTaskTaskRole');
    const workerStatements = resourcesOf(s.template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Roles).includes(workerRoleId))
      .flatMap(([, p]) => p.PolicyDocument.Statement as Props[]);
    expect(JSON.stringify(workerStatements)).to.not.include('secretsmanager:GetSecretValue').and.not.include('partners');
  });

  it("admits the partners' CIDRs on 443 beside Benchling's (once each), and routes POST /webhooks/sequencing/* to the ingress", () => {
    const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'IngressLoadBalancerSecurityGroup');
    expect(sg.SecurityGroupIngress.map((r: Props) => [r.CidrIp, r.FromPort])).to.deep.equal([
      ['203.0.113.0/24', 443],
      ['198.51.100.7/32', 443],
      ['192.0.2.0/24', 443],
    ]);
    const [, rule] = resourceNamed(s.template, 'AWS::ElasticLoadBalancingV2::ListenerRule', 'IngressLoadBalancerHttpsPartnerWebhooks');
    expect(rule.Conditions).to.deep.include({ Field: 'path-pattern', PathPatternConfig: { Values: ['/webhooks/sequencing/*'] } });
    expect(rule.Conditions).to.deep.include({ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } });
    const [tgId] = resourceNamed(s.template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'IngressLoadBalancerHttpsIngressGroup');
    expect(rule.Actions).to.deep.equal([{ Type: 'forward', TargetGroupArn: { Ref: tgId } }]);
  });

  it('refuses a malformed partner CIDR, naming the key', () => {
    expect(() => synth({ partnerCidrs: ['10.0.0.0/33'], imageUri: 'x' })).to.throw(/partnerCidrs/);
  });

  it('alarms to the topic on partner error notifications or failed partner events from the worker', () => {
    const [, alarm] = resourceNamed(s.template, 'AWS::CloudWatch::Alarm', 'PartnerAlarmsPartnerErrors');
    const metrics = (alarm.Metrics as Props[])
      .filter((m) => m.MetricStat)
      .map((m) => [m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Namespace, m.MetricStat.Metric.Dimensions]);
    expect(metrics).to.deep.equal([
      [PARTNER_ERROR_METRIC, 'BenchlingPackager', [{ Name: 'Service', Value: 'worker' }]],
      [PARTNER_FAILED_METRIC, 'BenchlingPackager', [{ Name: 'Service', Value: 'worker' }]],
    ]);
    expect(alarm).to.deep.include({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const [topicId] = resourceNamed(s.template, 'AWS::SNS::Topic', 'Alarms');
    expect(alarm.AlarmActions).to.deep.equal([{ Ref: topicId }]);
  });
});
