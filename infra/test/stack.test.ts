import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Match } from 'aws-cdk-lib/assertions';
import { tableDefinitions } from '@bp/shared/resources';
import { ingressConfigFromEnv } from '../../services/ingress/src/config.ts';
import { workerConfigFromEnv } from '../../services/worker/src/config.ts';
import { type CfnProps, refOf, resourceNamed, resourcesOf, synth } from './support/synth.ts';

type Props = CfnProps;

/** Container environment with CloudFormation tokens replaced by stand-ins, plus its secrets. */
function containerEnv(taskDef: Props): Record<string, string> {
  const c = taskDef.ContainerDefinitions[0];
  const env: Record<string, string> = {};
  for (const e of c.Environment as { Name: string; Value: unknown }[]) {
    env[e.Name] = typeof e.Value === 'string' ? e.Value : e.Name === 'AWS_REGION' ? 'us-east-1' : `token:${JSON.stringify(e.Value)}`;
  }
  for (const s of (c.Secrets ?? []) as { Name: string }[]) env[s.Name] = `secret:${s.Name}`;
  return env;
}

describe('the CDK stack (synthesised once, template assertions)', function () {
  this.timeout(60_000);
  let s: ReturnType<typeof synth>;
  before(() => {
    s = synth();
  });

  describe('network', () => {
    it('creates a VPC over the configured zones, with one NAT gateway and free S3 and DynamoDB gateway endpoints', () => {
      s.template.resourceCountIs('AWS::EC2::VPC', 1);
      s.template.resourceCountIs('AWS::EC2::NatGateway', 1);
      const subnets = resourcesOf(s.template, 'AWS::EC2::Subnet').map(([, p]) => p.AvailabilityZone);
      expect([...new Set(subnets)].sort()).to.deep.equal(['us-east-1a', 'us-east-1b']);
      const endpoints = resourcesOf(s.template, 'AWS::EC2::VPCEndpoint').map(([, p]) => JSON.stringify(p.ServiceName));
      expect(endpoints.some((e) => e.includes('.s3'))).to.equal(true);
      expect(endpoints.some((e) => e.includes('.dynamodb'))).to.equal(true);
      expect(s.assembly.manifest.missing ?? [], 'no context lookups').to.have.length(0);
    });
  });

  describe('ingress', () => {
    it('puts an internet-facing load balancer in front, with HTTPS on 443 as its only listener, using the given certificate', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'application' });
      const listeners = resourcesOf(s.template, 'AWS::ElasticLoadBalancingV2::Listener');
      expect(listeners).to.have.length(1);
      expect(listeners[0]![1]).to.deep.include({ Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' });
      expect(listeners[0]![1].Certificates).to.deep.equal([{ CertificateArn: s.config.certificateArn }]);
    });

    it('admits only the Benchling CIDRs, only on 443, and nothing from 0.0.0.0/0', () => {
      const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'IngressLoadBalancerSecurityGroup');
      expect(sg.SecurityGroupIngress.map((r: Props) => [r.CidrIp, r.FromPort, r.ToPort, r.IpProtocol])).to.deep.equal([
        ['203.0.113.0/24', 443, 443, 'tcp'],
        ['198.51.100.7/32', 443, 443, 'tcp'],
      ]);
      for (const [, p] of resourcesOf(s.template, 'AWS::EC2::SecurityGroup')) {
        for (const rule of p.SecurityGroupIngress ?? []) expect(rule.CidrIp).to.not.equal('0.0.0.0/0');
      }
      for (const [, p] of resourcesOf(s.template, 'AWS::EC2::SecurityGroupIngress')) expect(p.CidrIp).to.equal(undefined);
    });

    it('lets only the load balancer reach the ingress tasks, on the container port', () => {
      const [lbSgId] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'IngressLoadBalancerSecurityGroup');
      const [svcSgId, svcSg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'IngressServiceSecurityGroup');
      expect(svcSg.SecurityGroupIngress ?? []).to.have.length(0);
      const rules = resourcesOf(s.template, 'AWS::EC2::SecurityGroupIngress').map(([, p]) => p);
      expect(rules).to.have.length(1);
      expect(rules[0]).to.deep.include({ FromPort: 8080, ToPort: 8080, IpProtocol: 'tcp' });
      expect(refOf(rules[0]!.GroupId)).to.equal(svcSgId);
      expect(refOf(rules[0]!.SourceSecurityGroupId)).to.equal(lbSgId);
    });

    it('health-checks targets on /health/ready and runs the ingress container on the port its config reads', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        HealthCheckPath: '/health/ready',
        Port: 8080,
        Protocol: 'HTTP',
        TargetType: 'ip',
        Matcher: { HttpCode: '200' },
      });
      const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'IngressTask');
      const config = ingressConfigFromEnv(containerEnv(task));
      expect(task.ContainerDefinitions[0].PortMappings).to.deep.equal([{ ContainerPort: config.port, Protocol: 'tcp' }]);
      expect(config.port).to.equal(8080);
      expect(config.appDefinitionId).to.equal('appdef_test123');
      expect(config.names.dedupeTable).to.equal('bptest-dedupe');
      expect(config.trustProxy, 'believes the load balancer, one hop').to.equal(1);
      expect(task.ContainerDefinitions[0]).to.deep.include({ ReadonlyRootFilesystem: true, Essential: true });
      expect(task.ContainerDefinitions[0].HealthCheck.Command.join(' ')).to.include('/health/live');
    });
  });

  describe('worker', () => {
    it('gives the worker an environment its own config parser accepts, agreeing with the queue and tables', () => {
      const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
      const config = workerConfigFromEnv(containerEnv(task));
      const [, jobs] = resourceNamed(s.template, 'AWS::SQS::Queue', 'JobsQueue');
      expect(config.visibilityTimeoutSeconds).to.equal(jobs.VisibilityTimeout);
      expect(config.heartbeatSeconds * 3, 'three heartbeats fit in one visibility timeout').to.be.at.most(jobs.VisibilityTimeout);
      expect(config.concurrency).to.equal(4);
      expect(config.taskProtection).to.equal(true);
      expect(config.benchling.clientSecret).to.equal('secret:BENCHLING_CLIENT_SECRET');
      const tableNames = resourcesOf(s.template, 'AWS::DynamoDB::Table')
        .map(([, p]) => p.TableName)
        .sort();
      expect(
        [
          config.names.dedupeTable,
          config.names.entriesTable,
          config.names.executionsTable,
          config.names.installationsTable,
          config.names.partnersTable,
        ].sort(),
      ).to.deep.equal(tableNames);
      expect(
        config.tmpDir.startsWith(`${task.ContainerDefinitions[0].MountPoints[0].ContainerPath}/`),
        'spool dir on the task volume',
      ).to.equal(true);
    });

    it('injects the Benchling OAuth client from Secrets Manager as container secrets, never as plain environment', () => {
      const [secretId] = resourceNamed(s.template, 'AWS::SecretsManager::Secret', 'BenchlingCredentials');
      const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
      const c = task.ContainerDefinitions[0];
      expect(c.Secrets).to.deep.equal([
        { Name: 'BENCHLING_CLIENT_ID', ValueFrom: { 'Fn::Join': ['', [{ Ref: secretId }, ':clientId::']] } },
        { Name: 'BENCHLING_CLIENT_SECRET', ValueFrom: { 'Fn::Join': ['', [{ Ref: secretId }, ':clientSecret::']] } },
      ]);
      expect(c.Environment.map((e: Props) => e.Name)).to.not.include.members(['BENCHLING_CLIENT_ID', 'BENCHLING_CLIENT_SECRET']);
    });

    it('runs workers with a read-only root, a scratch volume, enough disk for exports and a stop timeout past the drain grace', () => {
      const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', 'WorkerTask');
      const c = task.ContainerDefinitions[0];
      expect(c.ReadonlyRootFilesystem).to.equal(true);
      expect(task.EphemeralStorage).to.deep.equal({ SizeInGiB: 50 });
      const grace = Number(c.Environment.find((e: Props) => e.Name === 'SHUTDOWN_GRACE_SECONDS').Value);
      expect(c.StopTimeout).to.be.greaterThan(grace).and.at.most(120);
      const [, svc] = resourceNamed(s.template, 'AWS::ECS::Service', 'WorkerService');
      expect(svc.DesiredCount, 'autoscaling owns the desired count').to.equal(undefined);
      expect(svc.LoadBalancers).to.equal(undefined);
      const [, sg] = resourceNamed(s.template, 'AWS::EC2::SecurityGroup', 'WorkerSecurityGroup');
      expect(sg.SecurityGroupIngress ?? []).to.have.length(0);
    });
  });

  describe('queues', () => {
    it('redrives jobs to the DLQ after maxReceiveCount, keeps dead letters 14 days, and encrypts both queues', () => {
      const [dlqId, dlq] = resourceNamed(s.template, 'AWS::SQS::Queue', 'DeadLetterQueue');
      const [, jobs] = resourceNamed(s.template, 'AWS::SQS::Queue', 'JobsQueue');
      expect(jobs.RedrivePolicy).to.deep.equal({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
      expect(dlq.MessageRetentionPeriod).to.equal(14 * 24 * 3600);
      expect(dlq.MessageRetentionPeriod, 'dead letters outlive the jobs queue retention').to.be.greaterThan(jobs.MessageRetentionPeriod);
      expect(jobs.VisibilityTimeout).to.equal(60);
      expect(jobs.ReceiveMessageWaitTimeSeconds).to.equal(20);
      for (const q of [jobs, dlq]) expect(q.SqsManagedSseEnabled).to.equal(true);
    });
  });

  describe('tables', () => {
    it('builds the five tables from tableDefinitions(): same keys and indexes, on-demand, PITR, TTL on expiresAt', () => {
      const defs = tableDefinitions({
        dedupeTable: 'bptest-dedupe',
        executionsTable: 'bptest-executions',
        entriesTable: 'bptest-entries',
        installationsTable: 'bptest-installations',
        partnersTable: 'bptest-partners',
      });
      const tables = new Map(resourcesOf(s.template, 'AWS::DynamoDB::Table').map(([, p]) => [p.TableName as string, p]));
      expect([...tables.keys()].sort()).to.deep.equal(defs.map((d) => d.TableName).sort());
      for (const d of defs) {
        const t = tables.get(d.TableName!)!;
        expect(t.BillingMode).to.equal('PAY_PER_REQUEST');
        expect(t.PointInTimeRecoverySpecification).to.deep.equal({ PointInTimeRecoveryEnabled: true });
        expect(t.TimeToLiveSpecification).to.deep.equal({ AttributeName: 'expiresAt', Enabled: true });
        expect(t.KeySchema).to.deep.equal(d.KeySchema);
        expect(t.AttributeDefinitions).to.deep.equal(d.AttributeDefinitions);
        expect(t.GlobalSecondaryIndexes ?? []).to.deep.equal(d.GlobalSecondaryIndexes ?? []);
      }
      expect(tables.get('bptest-executions')!.GlobalSecondaryIndexes.map((g: Props) => g.IndexName)).to.deep.equal(['byEntry', 'byStatus']);
    });

    it('keeps tables, bucket and secret when the stack is deleted', () => {
      for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret']) {
        for (const r of Object.values(s.template.findResources(type))) expect((r as Props).DeletionPolicy, type).to.equal('Retain');
      }
    });
  });

  describe('bucket', () => {
    it('is versioned, encrypted, blocks all public access and refuses plain HTTP', () => {
      const [bucketId, b] = resourceNamed(s.template, 'AWS::S3::Bucket', 'PackageBucket');
      expect(b.VersioningConfiguration).to.deep.equal({ Status: 'Enabled' });
      expect(b.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).to.equal('AES256');
      expect(b.PublicAccessBlockConfiguration).to.deep.equal({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });
  });

  describe('logs', () => {
    it('sends both services to their own log groups with the configured retention', () => {
      for (const name of ['Ingress', 'Worker']) {
        const [groupId, group] = resourceNamed(s.template, 'AWS::Logs::LogGroup', `${name}Logs`);
        expect(group.RetentionInDays).to.equal(30);
        const [, task] = resourceNamed(s.template, 'AWS::ECS::TaskDefinition', `${name}Task`);
        const logConfig = task.ContainerDefinitions[0].LogConfiguration;
        expect(logConfig.LogDriver).to.equal('awslogs');
        expect(refOf(logConfig.Options['awslogs-group'])).to.equal(groupId);
      }
    });
  });

  describe('alarms', () => {
    const alarmNamed = (prefix: string) => resourceNamed(s.template, 'AWS::CloudWatch::Alarm', prefix)[1];
    const topicRef = () => ({ Ref: resourceNamed(s.template, 'AWS::SNS::Topic', 'AlarmsTopic')[0] });

    it('alarms as soon as the DLQ holds one message', () => {
      const [dlqId] = resourceNamed(s.template, 'AWS::SQS::Queue', 'DeadLetterQueue');
      const a = alarmNamed('AlarmsDeadLetterQueueNotEmpty');
      expect(a).to.deep.include({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(a.Dimensions).to.deep.equal([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
      expect(a.AlarmActions).to.deep.equal([topicRef()]);
    });

    it('alarms on the age of the oldest waiting job', () => {
      const [jobsId] = resourceNamed(s.template, 'AWS::SQS::Queue', 'JobsQueue');
      const a = alarmNamed('AlarmsOldestJobAge');
      expect(a).to.deep.include({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 1800 });
      expect(a.Dimensions).to.deep.equal([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [jobsId, 'QueueName'] } }]);
      expect(a.AlarmActions).to.deep.equal([topicRef()]);
    });

    it('alarms on ingress 5xx from the tasks and from the load balancer itself', () => {
      const a = alarmNamed('AlarmsIngress5xx');
      const names = a.Metrics.filter((m: Props) => m.MetricStat)
        .map((m: Props) => m.MetricStat.Metric.MetricName)
        .sort();
      expect(names).to.deep.equal(['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count']);
      expect(a.Threshold).to.equal(5);
      expect(a.AlarmActions).to.deep.equal([topicRef()]);
    });

    it('alarms when a worker task stops with a non-zero exit or fails to start', () => {
      const [ruleId, rule] = resourceNamed(s.template, 'AWS::Events::Rule', 'AlarmsWorkerTaskFailed');
      const [workerSvcId] = resourceNamed(s.template, 'AWS::ECS::Service', 'WorkerService');
      expect(rule.EventPattern).to.deep.include({ source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] });
      expect(rule.EventPattern.detail.lastStatus).to.deep.equal(['STOPPED']);
      expect(JSON.stringify(rule.EventPattern.detail.group)).to.include(workerSvcId);
      expect(rule.EventPattern.detail.$or).to.deep.equal([
        { stopCode: ['TaskFailedToStart'] },
        { containers: { exitCode: [{ 'anything-but': 0 }] } },
      ]);
      const a = alarmNamed('AlarmsWorkerTaskFailures');
      expect(a).to.deep.include({ Namespace: 'AWS/Events', MetricName: 'TriggeredRules', Threshold: 1 });
      expect(a.Dimensions).to.deep.equal([{ Name: 'RuleName', Value: { Ref: ruleId } }]);
      expect(rule.Targets).to.have.length(1);
      s.template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
      s.template.resourceCountIs('AWS::Lambda::Function', 0);
    });

    it('emails the configured address', () => {
      s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    });
  });

  describe('validation', () => {
    it("passes CDK's CloudFormation schema validation with no findings", () => {
      const report = JSON.parse(readFileSync(path.join(s.assembly.directory, 'validation-report.json'), 'utf8')) as {
        pluginReports: { violations?: { ruleName: string; description: string }[] }[];
      };
      const findings = report.pluginReports.flatMap((r) => r.violations ?? []).map((v) => `${v.ruleName}: ${v.description}`);
      expect(findings).to.deep.equal([]);
    });
  });

  describe('outputs', () => {
    it('prints the webhook URL to paste into Benchling, and where the credentials go', () => {
      const outputs = s.template.findOutputs('*');
      expect(outputs.WebhookUrl!.Value).to.equal('https://hooks.example.com/');
      expect(outputs).to.include.keys('BenchlingSecretArn', 'LoadBalancerDnsName', 'DeadLetterQueueUrl', 'AlarmTopicArn');
    });
  });
});
