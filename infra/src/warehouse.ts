import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { WarehouseSettings } from './config.ts';

/** Health-check and readiness port of the worker container (HEALTH_PORT). */
export const WORKER_HEALTH_PORT = 8081;

/**
 * The Benchling warehouse connection: its credentials in Secrets Manager (`{"username","password"}`,
 * read by the services at start-up, so a rotated password reaches new connections), the
 * environment both services read, and the alarm that pages when the warehouse refuses access:
 * that needs a DBA, retrying will not fix it.
 */
export class WarehouseIntegration extends Construct {
  readonly secret: secretsmanager.ISecret;
  readonly environment: Record<string, string>;
  readonly accessDenied: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, p: { settings: WarehouseSettings; retain: boolean }) {
    super(scope, id);
    const s = p.settings;
    this.secret = s.secretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Credentials', s.secretArn)
      : new secretsmanager.Secret(this, 'Credentials', {
          description:
            'Benchling warehouse credentials: {"username","password"} from Benchling\'s ' +
            'warehouse-credentials settings. Replace the placeholder.',
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ username: 'REPLACE_WITH_WAREHOUSE_USERNAME' }),
            generateStringKey: 'password',
            excludePunctuation: true,
          },
          removalPolicy: p.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        });
    this.environment = {
      WAREHOUSE_HOST: s.host,
      WAREHOUSE_PORT: String(s.port),
      WAREHOUSE_DATABASE: s.database,
      WAREHOUSE_SECRET_ARN: this.secret.secretArn,
      WAREHOUSE_SSL: s.ssl,
      ...(s.schema ? { WAREHOUSE_SCHEMA: s.schema } : {}),
    };
    this.accessDenied = new cloudwatch.Alarm(this, 'AccessDenied', {
      alarmDescription:
        'The Benchling warehouse refused access (permission or credentials): ' +
        "jobs fail until a DBA restores the read-only user's grants or the secret is updated.",
      metric: new cloudwatch.Metric({
        namespace: 'BenchlingPackager',
        metricName: 'WarehouseFailures',
        dimensionsMap: { Service: 'worker', Kind: 'access_denied' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** The access-denied alarm notifies the stack's alarm topic (created after the services). */
  notify(topic: sns.ITopic): void {
    this.accessDenied.addAlarmAction(new cwActions.SnsAction(topic));
  }

  /** Read access to the credentials secret, for a task role. */
  readStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ReadWarehouseSecret',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [this.secret.secretArn],
    });
  }
}
