import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** EMF metrics of the worker (namespace BenchlingPackager, dimension Service=worker) the partner alarm watches. */
export const PARTNER_ERROR_METRIC = 'PartnerErrorNotifications';
export const PARTNER_FAILED_METRIC = 'PartnerEventsFailed';
export const METRICS_NAMESPACE = 'BenchlingPackager';

/**
 * Partner errors: a partner sent `error.notification` (its run or analysis failed), or a partner
 * event ended failed (bad source, hash mismatch, retries spent). Either needs a person: the lab's
 * data will not arrive by itself.
 */
export class PartnerAlarms extends Construct {
  readonly partnerErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, p: { topic: sns.ITopic }) {
    super(scope, id);
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { Service: 'worker' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.partnerErrors = new cloudwatch.Alarm(this, 'PartnerErrors', {
      alarmDescription:
        'A sequencing partner reported an error, or a partner event failed. ' +
        '`pnpm ops events list --status failed` and the worker log say which.',
      metric: new cloudwatch.MathExpression({
        label: 'Partner error notifications + failed partner events',
        expression: 'FILL(errors, 0) + FILL(failed, 0)',
        usingMetrics: { errors: metric(PARTNER_ERROR_METRIC), failed: metric(PARTNER_FAILED_METRIC) },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.partnerErrors.addAlarmAction(new cwActions.SnsAction(p.topic));
  }
}
