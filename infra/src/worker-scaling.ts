import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkerScalingProps {
  cluster: ecs.ICluster;
  service: ecs.FargateService;
  jobsQueue: sqs.IQueue;
  minTasks: number;
  maxTasks: number;
  /** Visible jobs per running task to aim for. */
  backlogPerTaskTarget: number;
}

/** Id of the metric-math result the target tracking policy follows. */
export const BACKLOG_PER_TASK = 'backlogPerTask';

/**
 * Scales workers on backlog per task, not CPU: a worker waiting on Benchling or streaming to S3
 * uses little CPU while a queue grows. Target tracking follows
 * `visible jobs ÷ running tasks` (SQS ApproximateNumberOfMessagesVisible over Container Insights
 * RunningTaskCount, as metric math in the L1 policy). With zero tasks that ratio has no value, so a
 * step policy takes the service from 0 to 1 when jobs wait and nothing runs. Scale-in never stops
 * a task mid-job: workers hold ECS task protection while they have jobs.
 */
export class WorkerScaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  readonly backlogPolicy: appscaling.CfnScalingPolicy;
  readonly fromZeroPolicy: appscaling.StepScalingPolicy;

  constructor(scope: Construct, id: string, p: WorkerScalingProps) {
    super(scope, id);
    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      resourceId: `service/${p.cluster.clusterName}/${p.service.serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      // ECS scaling uses its service-linked role; a role of our own would be unused.
      role: iam.Role.fromRoleArn(
        this,
        'ServiceLinkedRole',
        Stack.of(this).formatArn({
          region: '',
          service: 'iam',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
      minCapacity: p.minTasks,
      maxCapacity: p.maxTasks,
    });

    const queueDims = [{ name: 'QueueName', value: p.jobsQueue.queueName }];
    const serviceDims = [
      { name: 'ClusterName', value: p.cluster.clusterName },
      { name: 'ServiceName', value: p.service.serviceName },
    ];
    this.backlogPolicy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: 'worker-backlog-per-task',
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: p.backlogPerTaskTarget,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'visible',
              label: 'Jobs waiting',
              metricStat: {
                metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: queueDims },
                stat: 'Sum',
              },
              returnData: false,
            },
            {
              id: 'tasks',
              label: 'Running worker tasks',
              metricStat: {
                metric: { namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensions: serviceDims },
                stat: 'Average',
              },
              returnData: false,
            },
            { id: BACKLOG_PER_TASK, label: 'Jobs waiting per running worker task', expression: 'visible / tasks', returnData: true },
          ],
        },
      },
    });

    // Alarms when jobs wait and no task runs (FILL: Container Insights may send nothing for zero tasks).
    const startFromZero = new cloudwatch.MathExpression({
      label: 'Jobs waiting with no worker running',
      expression: 'IF(FILL(tasks, 0) < 1 AND visible > 0, 1, 0)',
      usingMetrics: {
        visible: p.jobsQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Sum', period: Duration.minutes(1) }),
        tasks: new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensionsMap: { ClusterName: p.cluster.clusterName, ServiceName: p.service.serviceName },
          statistic: 'Average',
          period: Duration.minutes(1),
        }),
      },
      period: Duration.minutes(1),
    });
    this.fromZeroPolicy = this.target.scaleOnMetric('FromZero', {
      metric: startFromZero,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: 0 },
        { lower: 1, change: 1 },
      ],
      evaluationPeriods: 1,
      cooldown: Duration.seconds(60),
    });
  }
}
