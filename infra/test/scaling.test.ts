import { expect } from 'chai';
import { type CfnProps, resourceNamed, resourcesOf, synth } from './support/synth.ts';

type Props = CfnProps;

describe('worker autoscaling on backlog per task', function () {
  this.timeout(60_000);
  let s: ReturnType<typeof synth>;
  before(() => {
    s = synth();
  });

  function backlogPolicy(t = s.template): Props {
    const policies = resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter(
      ([, p]) => p.PolicyType === 'TargetTrackingScaling',
    );
    expect(policies, 'exactly one target tracking policy').to.have.length(1);
    return policies[0]![1];
  }

  it('scales the worker service between the configured minimum and maximum', () => {
    const [, target] = resourceNamed(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'WorkerScalingTarget');
    const [workerId] = resourceNamed(s.template, 'AWS::ECS::Service', 'WorkerService');
    expect(target).to.deep.include({
      MinCapacity: 1,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
    expect(JSON.stringify(target.ResourceId)).to.include(workerId);
    expect(JSON.stringify(target.RoleARN)).to.include('AWSServiceRoleForApplicationAutoScaling_ECSService');
  });

  it('tracks visible jobs ÷ running worker tasks (metric math), aiming at the configured backlog per task', () => {
    const [jobsId] = resourceNamed(s.template, 'AWS::SQS::Queue', 'JobsQueue');
    const [workerId] = resourceNamed(s.template, 'AWS::ECS::Service', 'WorkerService');
    const [clusterId] = resourceNamed(s.template, 'AWS::ECS::Cluster', 'Cluster');
    const cfg = backlogPolicy().TargetTrackingScalingPolicyConfiguration;
    expect(cfg.TargetValue).to.equal(4);
    expect(cfg.PredefinedMetricSpecification, 'not CPU or memory').to.equal(undefined);
    const metrics: Props[] = cfg.CustomizedMetricSpecification.Metrics;
    const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
    const result = metrics.filter((m) => m.ReturnData);
    expect(result).to.have.length(1);
    const m = /^(\w+) \/ (\w+)$/.exec(result[0]!.Expression);
    expect(m, result[0]!.Expression).to.not.equal(null);
    const [numerator, denominator] = [byId[m![1]!]!.MetricStat, byId[m![2]!]!.MetricStat];
    expect(numerator.Metric).to.deep.include({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
    expect(numerator.Metric.Dimensions).to.deep.equal([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [jobsId, 'QueueName'] } }]);
    expect(denominator.Metric).to.deep.include({ Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount' });
    expect(denominator.Metric.Dimensions).to.deep.equal([
      { Name: 'ClusterName', Value: { Ref: clusterId } },
      { Name: 'ServiceName', Value: { 'Fn::GetAtt': [workerId, 'Name'] } },
    ]);
  });

  it('enables Container Insights, which publishes the running-task count the ratio divides by', () => {
    s.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('starts the first task from zero with a step policy when jobs wait and no task runs', () => {
    const steps = resourcesOf(s.template, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter(([, p]) => p.PolicyType === 'StepScaling');
    expect(steps).to.have.length(1);
    const [stepId, step] = steps[0]!;
    expect(step.StepScalingPolicyConfiguration).to.deep.include({ AdjustmentType: 'ChangeInCapacity' });
    expect(step.StepScalingPolicyConfiguration.StepAdjustments).to.deep.equal([{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }]);
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) => JSON.stringify(a.AlarmActions) === JSON.stringify([{ Ref: stepId }]),
    );
    expect(alarms).to.have.length(1);
    const alarm = alarms[0]![1];
    expect(alarm).to.deep.include({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const expr = alarm.Metrics.find((x: Props) => x.ReturnData).Expression as string;
    expect(expr)
      .to.match(/FILL\(tasks, 0\) < 1/)
      .and.match(/visible > 0/);
    const names = alarm.Metrics.filter((x: Props) => x.MetricStat)
      .map((x: Props) => x.MetricStat.Metric.MetricName)
      .sort();
    expect(names).to.deep.equal(['ApproximateNumberOfMessagesVisible', 'RunningTaskCount']);
  });

  it('follows the configured minimum, maximum and backlog target', () => {
    const v = synth({ workerMinTasks: 0, workerMaxTasks: 25, backlogPerTask: 8, imageUri: 'public.ecr.aws/example/bp:1' });
    const [, target] = resourceNamed(v.template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'WorkerScalingTarget');
    expect(target).to.deep.include({ MinCapacity: 0, MaxCapacity: 25 });
    expect(backlogPolicy(v.template).TargetTrackingScalingPolicyConfiguration.TargetValue).to.equal(8);
  });
});
