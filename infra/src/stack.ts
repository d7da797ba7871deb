import { Aws, CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.ts';
import { PartnerAlarms } from './partner-alarms.ts';
import { type DeploymentConfig, heartbeatSeconds } from './config.ts';
import { serviceImage } from './images.ts';
import { IngressService } from './ingress-service.ts';
import { createNetwork } from './network.ts';
import { ingressStatements, workerStatements } from './permissions.ts';
import { jobQueues, packageBucket } from './storage.ts';
import { createTables } from './tables.ts';
import { WorkerScaling } from './worker-scaling.ts';
import { WORKER_HEALTH_PORT, WarehouseIntegration } from './warehouse.ts';
import { WORKER_TMP, WorkerService } from './worker-service.ts';

export interface BenchlingPackagerStackProps extends StackProps {
  config: DeploymentConfig;
  /** Repository root: the Docker build context when no prebuilt image is given. */
  repoRoot: string;
}

/**
 * benchling-packager in one stack: Benchling → HTTPS ALB (allow-listed) → ingress tasks → SQS jobs
 * queue (+ DLQ) → worker tasks autoscaled on backlog per task → S3 packages, DynamoDB state.
 */
export class BenchlingPackagerStack extends Stack {
  private readonly configuredAzs: string[] | undefined;

  /** The configured zones: CDK would otherwise look them up (and need credentials) for a concrete account. */
  override get availabilityZones(): string[] {
    if (!this.configuredAzs) return super.availabilityZones;
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Zones are named in the deployment config (vpcAvailabilityZones) so synthesis needs no AWS lookup',
    });
    return this.configuredAzs;
  }

  constructor(scope: Construct, id: string, props: BenchlingPackagerStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.configuredAzs = c.vpc.kind === 'lookup' ? undefined : c.vpc.availabilityZones;
    const arm64 = c.cpuArchitecture === 'ARM64';
    const logRetention = c.logRetentionDays as logs.RetentionDays;

    const network = createNetwork(this, c.vpc);
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: network.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const queues = jobQueues(this, { visibilityTimeoutSeconds: c.worker.visibilityTimeoutSeconds, maxReceiveCount: c.maxReceiveCount });
    const tables = createTables(this, c.tablePrefix, c.retainData);
    const bucket = packageBucket(this, { existingBucketName: c.existingBucketName, retain: c.retainData });
    const benchlingSecret = c.benchlingSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'BenchlingCredentials', c.benchlingSecretArn)
      : new secretsmanager.Secret(this, 'BenchlingCredentials', {
          description: 'Benchling app OAuth client: {"clientId","clientSecret"}. Replace the placeholder before installing the app.',
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ clientId: 'REPLACE_WITH_CLIENT_ID' }),
            generateStringKey: 'clientSecret',
            excludePunctuation: true,
          },
          removalPolicy: c.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        });

    const logGroup = (name: string) => new logs.LogGroup(this, name, { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const permissionTargets = {
      jobsQueue: queues.jobs,
      deadLetters: queues.deadLetters,
      packagerQueueArn: c.packagerQueueArn,
      tables,
      bucket,
      packagePrefixes: c.tenants.map((t) => t.packagePrefix),
      publishMode: c.publishMode,
      bucketKmsKeyArn: c.bucketKmsKeyArn,
      clusterName: cluster.clusterName,
      partnerSecretPrefix: `${c.tablePrefix}partners/`,
    };
    // Both services parse the same resource names (packages/shared/src/resources.ts).
    const sharedEnv = {
      AWS_REGION: Aws.REGION,
      JOBS_QUEUE_URL: queues.jobs.queueUrl,
      DLQ_URL: queues.deadLetters.queueUrl,
      TABLE_PREFIX: c.tablePrefix,
      PACKAGE_BUCKET: bucket.bucketName,
      LOG_LEVEL: c.logLevel,
    };

    // The warehouse, when configured: both services read its settings (the worker enriches packages, the ingress reports it on /ops/ready).
    const warehouse = c.warehouse
      ? new WarehouseIntegration(this, 'Warehouse', { settings: c.warehouse, retain: c.retainData })
      : undefined;

    const ingress = new IngressService(this, 'Ingress', {
      network,
      cluster,
      image: serviceImage(this, { target: 'ingress', imageUri: c.imageUri, repoRoot: props.repoRoot, arm64 }),
      // Partner secrets live in Secrets Manager (`<tablePrefix>partners/<id>/<ms>`), never in the table.
      // One load balancer in front: its X-Forwarded-For entry is the client's address (rate limits).
      environment: {
        ...sharedEnv,
        BENCHLING_APP_DEFINITION_ID: c.benchlingAppDefinitionId,
        PARTNER_SECRET_STORE: 'secretsmanager',
        TRUST_PROXY: '1',
        ...warehouse?.environment,
      },
      logGroup: logGroup('IngressLogs'),
      certificateArn: c.certificateArn,
      allowedCidrs: c.benchlingCidrs,
      partnerCidrs: c.partnerCidrs,
      desiredCount: c.ingressTasks,
      cpu: c.ingressCpu,
      memoryMiB: c.ingressMemoryMiB,
      arm64,
      statements: [...ingressStatements(this, permissionTargets), ...(warehouse ? [warehouse.readStatement()] : [])],
    });

    const worker = new WorkerService(this, 'Worker', {
      network,
      cluster,
      image: serviceImage(this, { target: 'worker', imageUri: c.imageUri, repoRoot: props.repoRoot, arm64 }),
      environment: {
        ...sharedEnv,
        ...(c.packagerQueueArn ? { PACKAGER_QUEUE_URL: queueUrlFromArn(c.packagerQueueArn) } : {}),
        WORKER_CONCURRENCY: String(c.worker.concurrency),
        VISIBILITY_TIMEOUT_SECONDS: String(c.worker.visibilityTimeoutSeconds),
        HEARTBEAT_SECONDS: String(heartbeatSeconds(c.worker.visibilityTimeoutSeconds)),
        SHUTDOWN_GRACE_SECONDS: String(c.worker.shutdownGraceSeconds),
        BENCHLING_TENANTS: c.tenants.map((t) => `${t.tenantId}=${t.baseURL}=${t.packagePrefix}`).join(','),
        QUILT_PUBLISH: c.publishMode,
        PACKAGE_PREFIX: c.packagePrefix,
        EXPORT_FORMAT: c.exportFormat,
        ...(c.catalogUrl ? { QUILT_CATALOG_URL: c.catalogUrl } : {}),
        ECS_TASK_PROTECTION: 'true',
        WORKER_TMP_DIR: `${WORKER_TMP}/benchling-packager`,
        ...warehouse?.environment,
      },
      benchlingSecret,
      logGroup: logGroup('WorkerLogs'),
      cpu: c.worker.cpu,
      memoryMiB: c.worker.memoryMiB,
      ephemeralStorageGiB: c.worker.ephemeralStorageGiB,
      shutdownGraceSeconds: c.worker.shutdownGraceSeconds,
      arm64,
      statements: [...workerStatements(this, permissionTargets), ...(warehouse ? [warehouse.readStatement()] : [])],
      healthPort: WORKER_HEALTH_PORT,
      ...(c.warehouse ? { warehouseEgress: { cidrs: c.warehouse.cidrs, port: c.warehouse.port } } : {}),
    });

    new WorkerScaling(this, 'WorkerScaling', {
      cluster,
      service: worker.service,
      jobsQueue: queues.jobs,
      minTasks: c.worker.minTasks,
      maxTasks: c.worker.maxTasks,
      backlogPerTaskTarget: c.worker.backlogPerTaskTarget,
    });

    const alarms = new Alarms(this, 'Alarms', {
      jobsQueue: queues.jobs,
      deadLetters: queues.deadLetters,
      loadBalancer: ingress.loadBalancer,
      cluster,
      workerService: worker.service,
      oldestMessageAlarmSeconds: c.oldestMessageAlarmSeconds,
      ingress5xxAlarmCount: c.ingress5xxAlarmCount,
      alarmEmail: c.alarmEmail,
      logRetention,
    });

    new PartnerAlarms(this, 'PartnerAlarms', { topic: alarms.topic });
    warehouse?.notify(alarms.topic);

    if (c.hostedZone && c.domainName) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: c.hostedZone.id,
        zoneName: c.hostedZone.name,
      });
      new route53.ARecord(this, 'WebhookRecord', {
        zone,
        recordName: c.domainName,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(ingress.loadBalancer)),
      });
    }

    const host = c.domainName ?? ingress.loadBalancer.loadBalancerDnsName;
    new CfnOutput(this, 'PartnerWebhookUrl', {
      value: `https://${host}/webhooks/sequencing/<partnerId>`,
      description: 'Give each sequencing partner this URL with its id',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: `https://${host}/`,
      description: 'Paste into the Benchling app: Developer Console → app → Webhook URL',
    });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: ingress.loadBalancer.loadBalancerDnsName,
      description: 'Point domainName here (CNAME or alias) if no hosted zone was given',
    });
    new CfnOutput(this, 'BenchlingSecretArn', {
      value: benchlingSecret.secretArn,
      description: 'Put {"clientId","clientSecret"} of the Benchling app here',
    });
    new CfnOutput(this, 'JobsQueueUrl', { value: queues.jobs.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: queues.deadLetters.queueUrl });
    new CfnOutput(this, 'PackageBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'TablePrefix', { value: c.tablePrefix });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'WorkerServiceName', { value: worker.service.serviceName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
    if (warehouse)
      new CfnOutput(this, 'WarehouseSecretArn', {
        value: warehouse.secret.secretArn,
        description: 'Put {"username","password"} of the Benchling warehouse user here',
      });
  }
}

/** `arn:aws:sqs:region:account:name` → `https://sqs.region.amazonaws.com/account/name`. */
export function queueUrlFromArn(arn: string): string {
  const m = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):(.+)$/.exec(arn);
  if (!m) throw new Error(`not an SQS queue ARN: ${arn}`);
  return `https://sqs.${m[1]}.amazonaws.com/${m[2]}/${m[3]}`;
}
