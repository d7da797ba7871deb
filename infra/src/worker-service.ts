import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SERVICE_COMMANDS } from './images.ts';
import type { Network } from './network.ts';

/** Where export ZIPs are spooled: a task-storage volume, since the root filesystem is read-only. */
export const WORKER_TMP = '/tmp';

export interface WorkerServiceProps {
  network: Network;
  cluster: ecs.ICluster;
  image: ecs.ContainerImage;
  /** Environment the worker config reads (services/worker/src/config.ts). */
  environment: Record<string, string>;
  /** JSON secret with `clientId` and `clientSecret`: injected as BENCHLING_CLIENT_ID / _SECRET. */
  benchlingSecret: secretsmanager.ISecret;
  logGroup: logs.ILogGroup;
  cpu: number;
  memoryMiB: number;
  ephemeralStorageGiB: number;
  shutdownGraceSeconds: number;
  arm64: boolean;
  statements: iam.PolicyStatement[];
  /** Port of /health/live and /health/ready (HEALTH_PORT): the container health check calls /health/live. */
  healthPort: number;
  /** PostgreSQL egress to the Benchling warehouse; absent: none. */
  warehouseEgress?: { cidrs: string[]; port: number };
}

/**
 * The worker fleet: Fargate tasks with no inbound traffic, a read-only root filesystem and a task
 * volume on /tmp for spooled exports. Desired count belongs to autoscaling (worker-scaling.ts), so
 * the template leaves it out and a deploy never resets it.
 */
export class WorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, p: WorkerServiceProps) {
    super(scope, id);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: p.cpu,
      memoryLimitMiB: p.memoryMiB,
      ephemeralStorageGiB: p.ephemeralStorageGiB,
      runtimePlatform: {
        cpuArchitecture: p.arm64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    for (const s of p.statements) this.taskDefinition.addToTaskRolePolicy(s);
    this.taskDefinition.addVolume({ name: 'scratch' });
    const container = this.taskDefinition.addContainer('worker', {
      image: p.image,
      command: SERVICE_COMMANDS.worker,
      environment: { ...p.environment, HEALTH_PORT: String(p.healthPort) },
      // Live: the event loop turns, every consumer slot runs, no job past its deadline (services/worker/src/health.ts).
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${p.healthPort}/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      secrets: {
        BENCHLING_CLIENT_ID: ecs.Secret.fromSecretsManager(p.benchlingSecret, 'clientId'),
        BENCHLING_CLIENT_SECRET: ecs.Secret.fromSecretsManager(p.benchlingSecret, 'clientSecret'),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: p.logGroup, streamPrefix: 'worker' }),
      readonlyRootFilesystem: true,
      // SIGTERM: stop receiving, finish or checkpoint within the grace, release leases, exit 0.
      stopTimeout: Duration.seconds(Math.min(120, p.shutdownGraceSeconds + 15)),
    });
    container.addMountPoints({ sourceVolume: 'scratch', containerPath: WORKER_TMP, readOnly: false });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: p.network.vpc,
      allowAllOutbound: false,
      description: p.warehouseEgress
        ? 'Workers: no inbound; out to Benchling and AWS APIs (HTTPS) and the Benchling warehouse (PostgreSQL)'
        : 'Workers: no inbound; out to Benchling and AWS APIs (HTTPS)',
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: Benchling tenants and AWS APIs');
    for (const cidr of p.warehouseEgress?.cidrs ?? []) {
      securityGroup.addEgressRule(
        cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(p.warehouseEgress!.port),
        `Benchling warehouse (PostgreSQL) at ${cidr}`,
      );
    }
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: p.cluster,
      taskDefinition: this.taskDefinition,
      vpcSubnets: p.network.taskSubnets,
      assignPublicIp: p.network.assignPublicIp,
      securityGroups: [securityGroup],
      // Old tasks drain (their scale-in protection holds them until their jobs end).
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });
  }
}
