import { Duration, Stack, ArnFormat } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  jobsQueue: sqs.IQueue;
  deadLetters: sqs.IQueue;
  loadBalancer: elbv2.ApplicationLoadBalancer;
  cluster: ecs.ICluster;
  workerService: ecs.FargateService;
  /** Alarm when the oldest waiting job is older than this, seconds. */
  oldestMessageAlarmSeconds: number;
  /** Alarm when ingress answers this many 5xx within 5 minutes. */
  ingress5xxAlarmCount: number;
  alarmEmail: string | undefined;
  logRetention: logs.RetentionDays;
}

/**
 * What an operator must hear about: a job gave up (DLQ not empty), jobs are not being picked up
 * (oldest message age), Benchling is being refused (ingress 5xx: Benchling retries, but not
 * forever), and worker tasks that crash or never start. Every alarm notifies one SNS topic.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly dlqNotEmpty: cloudwatch.Alarm;
  readonly oldestMessageAge: cloudwatch.Alarm;
  readonly ingress5xx: cloudwatch.Alarm;
  readonly workerTaskFailures: cloudwatch.Alarm;
  /** Where the stopped-task events of failed workers are kept, with their stop reasons. */
  readonly taskFailureLog: logs.LogGroup;

  constructor(scope: Construct, id: string, p: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'benchling-packager alarms', enforceSSL: true });
    if (p.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(p.alarmEmail));
    const notify = new cwActions.SnsAction(this.topic);

    this.dlqNotEmpty = new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
      alarmDescription: 'A job exhausted its retries and sits in the DLQ: inspect and replay it with the ops CLI.',
      metric: p.deadLetters.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.oldestMessageAge = new cloudwatch.Alarm(this, 'OldestJobAge', {
      alarmDescription: `A job has waited more than ${p.oldestMessageAlarmSeconds} s: workers are down, stuck or at their maximum.`,
      metric: p.jobsQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: p.oldestMessageAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const fiveMinutes = { statistic: 'Sum', period: Duration.minutes(5) };
    this.ingress5xx = new cloudwatch.Alarm(this, 'Ingress5xx', {
      alarmDescription: 'The ingress (or its load balancer) answered Benchling with 5xx: queue or table unavailable, or no healthy task.',
      metric: new cloudwatch.MathExpression({
        label: 'Ingress 5xx (targets + load balancer)',
        expression: 'FILL(target5xx, 0) + FILL(elb5xx, 0)',
        usingMetrics: {
          target5xx: p.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, fiveMinutes),
          elb5xx: p.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, fiveMinutes),
        },
        period: Duration.minutes(5),
      }),
      threshold: p.ingress5xxAlarmCount,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // ECS publishes no "task failed" metric: an EventBridge rule matches worker tasks that stopped
    // with a non-zero exit or never started, logs the event (with its stop reason) and the alarm
    // counts the rule's invocations. A graceful scale-in exits 0 and does not match.
    this.taskFailureLog = new logs.LogGroup(this, 'WorkerTaskFailureEvents', { retention: p.logRetention });
    const rule = new events.Rule(this, 'WorkerTaskFailed', {
      description: 'Worker task stopped with a non-zero exit code or failed to start',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [p.cluster.clusterArn],
          group: [`service:${p.workerService.serviceName}`],
          lastStatus: ['STOPPED'],
          $or: [{ stopCode: ['TaskFailedToStart'] }, { containers: { exitCode: [{ 'anything-but': 0 }] } }],
        },
      },
    });
    const stack = Stack.of(this);
    // Native resource policy (the events-targets helper would add a Lambda-backed custom resource).
    new logs.CfnResourcePolicy(this, 'EventsMayWriteTaskFailures', {
      policyName: `${stack.stackName}-worker-task-failures`,
      policyDocument: stack.toJsonString(
        new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              principals: [new iam.ServicePrincipal('events.amazonaws.com')],
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.taskFailureLog.logGroupArn],
            }),
          ],
        }).toJSON(),
      ),
    });
    const logGroupTargetArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.taskFailureLog.logGroupName,
    });
    rule.addTarget({ bind: () => ({ arn: logGroupTargetArn }) });
    this.workerTaskFailures = new cloudwatch.Alarm(this, 'WorkerTaskFailures', {
      alarmDescription:
        'A worker task crashed, was killed, or could not start (image, secret or network). See the WorkerTaskFailureEvents log group.',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const alarm of [this.dlqNotEmpty, this.oldestMessageAge, this.ingress5xx, this.workerTaskFailures]) alarm.addAlarmAction(notify);
  }
}
