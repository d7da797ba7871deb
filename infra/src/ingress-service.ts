import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SERVICE_COMMANDS } from './images.ts';
import type { Network } from './network.ts';

export const INGRESS_PORT = 8080;
/** The load balancer's target health check: every dependency of an accept answers. */
export const READY_PATH = '/health/ready';

export interface IngressServiceProps {
  network: Network;
  cluster: ecs.ICluster;
  image: ecs.ContainerImage;
  /** Environment the ingress config reads (services/ingress/src/config.ts). */
  environment: Record<string, string>;
  logGroup: logs.ILogGroup;
  /** ACM certificate ARN for the HTTPS listener. */
  certificateArn: string;
  /** Only these CIDRs may open connections to the listener (Benchling's webhook egress). */
  allowedCidrs: string[];
  /** Sequencing partners' sources, also admitted (their route is POST /webhooks/sequencing/*). */
  partnerCidrs: string[];
  /** Tasks, fixed. */
  desiredCount: number;
  cpu: number;
  memoryMiB: number;
  arm64: boolean;
  /** Least-privilege statements for the task role. */
  statements: iam.PolicyStatement[];
}

/**
 * The webhook receiver: an internet-facing ALB whose only listener is HTTPS on 443 and whose
 * security group admits Benchling's CIDRs and nothing else, forwarding to Fargate tasks that the
 * ALB checks on `/health/ready`.
 */
export class IngressService extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, p: IngressServiceProps) {
    super(scope, id);
    const { vpc } = p.network;
    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      allowAllOutbound: false,
      description: 'Benchling webhook sources to the HTTPS listener only',
    });
    for (const cidr of p.allowedCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      lbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(443), `Benchling webhooks from ${cidr}`);
    }
    for (const cidr of p.partnerCidrs.filter((c) => !p.allowedCidrs.includes(c))) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      lbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(443), `Sequencing-partner webhooks from ${cidr}`);
    }
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: lbSecurityGroup,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      idleTimeout: Duration.seconds(60),
    });
    const listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(p.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      // `open: true` would add 0.0.0.0/0: the allow-list above is the only way in.
      open: false,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: p.cpu,
      memoryLimitMiB: p.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: p.arm64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    for (const s of p.statements) this.taskDefinition.addToTaskRolePolicy(s);
    this.taskDefinition.addContainer('ingress', {
      image: p.image,
      command: SERVICE_COMMANDS.ingress,
      environment: { ...p.environment, PORT: String(INGRESS_PORT) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: p.logGroup, streamPrefix: 'ingress' }),
      portMappings: [{ containerPort: INGRESS_PORT, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      // SIGTERM lets in-flight webhooks finish (each is bounded to ~2.5 s) before exit.
      stopTimeout: Duration.seconds(15),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${INGRESS_PORT}/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(20),
        retries: 3,
      },
    });

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      allowAllOutbound: true,
      description: 'Ingress tasks: from the load balancer only; out to AWS APIs and the Benchling JWKS',
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: p.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: p.desiredCount,
      vpcSubnets: p.network.taskSubnets,
      assignPublicIp: p.network.assignPublicIp,
      securityGroups: [serviceSecurityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
    });
    this.targetGroup = listener.addTargets('Ingress', {
      port: INGRESS_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      // Webhook requests finish within ~3 s; no need to wait the default 300 s on deploys.
      deregistrationDelay: Duration.seconds(15),
      healthCheck: {
        path: READY_PATH,
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
        healthyHttpCodes: '200',
      },
    });
    // The partner route, explicit on the listener (same tasks): partners' POSTs are recognisable in
    // the load balancer's rule metrics and logs, and the rule is where a partner-only limit would go.
    listener.addAction('PartnerWebhooks', {
      priority: PARTNER_RULE_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns([PARTNER_PATH_PATTERN]), elbv2.ListenerCondition.httpRequestMethods(['POST'])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });
  }
}

export const PARTNER_PATH_PATTERN = '/webhooks/sequencing/*';
export const PARTNER_RULE_PRIORITY = 10;
