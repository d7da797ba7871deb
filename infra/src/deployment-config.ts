import type { TenantConfig } from '@bp/shared/benchling/tenants';

/**
 * Everything a deployment chooses, parsed once from CDK context (`-c key=value`, or a JSON file
 * named by `-c config=path`). Keys are the context keys below; each error names its key.
 */

/** Where the services run: a VPC this stack creates, or an existing one. */
export type VpcChoice =
  /**
   * A new VPC over `availabilityZones`: public subnets for the load balancer; tasks in private subnets behind NAT (public ones when
   * natGateways is 0).
   */
  | { kind: 'new'; availabilityZones: string[]; natGateways: number }
  /** An existing VPC described in full (`vpcId` + AZs + subnet ids): no lookup, synthesises without credentials. */
  | { kind: 'attributes'; vpcId: string; availabilityZones: string[]; publicSubnetIds: string[]; privateSubnetIds: string[] }
  /** An existing VPC found by id: needs credentials once, then `cdk.context.json` caches the answer. */
  | { kind: 'lookup'; vpcId: string };

export interface WorkerSettings {
  /** Fewest worker tasks (`workerMinTasks`); 0 lets the fleet sleep when idle. Default 1. */
  minTasks: number;
  /** Most worker tasks (`workerMaxTasks`). Default 10. */
  maxTasks: number;
  /** Jobs one task runs at once (`workerConcurrency`, WORKER_CONCURRENCY). Default 4. */
  concurrency: number;
  /** Visible jobs per running task the scaling policy aims for (`backlogPerTask`). Default the concurrency. */
  backlogPerTaskTarget: number;
  /** Fargate CPU units (`workerCpu`). Default 1024. */
  cpu: number;
  /** Fargate memory, MiB (`workerMemoryMiB`). Default 2048. */
  memoryMiB: number;
  /** Task disk for spooled export ZIPs, GiB (`workerEphemeralStorageGiB`, 21–200). Default 50. */
  ephemeralStorageGiB: number;
  /** SQS visibility and lease length, seconds (`visibilityTimeoutSeconds`). Default 60. */
  visibilityTimeoutSeconds: number;
  /** Seconds SIGTERM waits for in-flight jobs (`shutdownGraceSeconds`). Default 25. */
  shutdownGraceSeconds: number;
}

export interface DeploymentConfig {
  /** AWS account (`account`, else CDK_DEFAULT_ACCOUNT). With region set, synthesis does no lookups. */
  account: string;
  /** AWS region (`region`, else CDK_DEFAULT_REGION). */
  region: string;
  /** CloudFormation stack name (`stackName`). Default `BenchlingPackager`. */
  stackName: string;
  /** New VPC (default), existing by attributes (`vpcId` + zones + subnet ids), or by lookup (`vpcId` alone). */
  vpc: VpcChoice;
  /** ACM certificate for the HTTPS listener, same region (`certificateArn`). Required. */
  certificateArn: string;
  /** Name the certificate covers and Benchling calls (`domainName`). Default: the load balancer's DNS name. */
  domainName: string | undefined;
  /** Route 53 zone in which to create `domainName` (`hostedZoneId` + `hostedZoneName`). Default: none, you add the record. */
  hostedZone: { id: string; name: string } | undefined;
  /** Sources allowed to reach the listener: Benchling's webhook egress CIDRs (`benchlingCidrs`, list). Required. */
  benchlingCidrs: string[];
  /**
   * Sources sequencing partners send from (`partnerCidrs`, list), admitted to the listener beside
   * Benchling's. The Standard Webhooks signature stays the authentication. Default none.
   */
  partnerCidrs: string[];
  /** App definition whose JWKS verifies webhooks (`benchlingAppDefinitionId`). Required. */
  benchlingAppDefinitionId: string;
  /** Existing secret holding `{"clientId","clientSecret"}` (`benchlingSecretArn`, complete ARN). Default: a new secret to fill in. */
  benchlingSecretArn: string | undefined;
  /**
   * The Benchling tenants this deployment serves (`benchlingTenants`, list or comma-separated, each
   * `tenantId=baseURL` or `tenantId=baseURL=packagePrefix`, exact base URLs). Required. The first
   * tenant's prefix defaults to `packagePrefix`; every further tenant names its own.
   */
  tenants: TenantConfig[];
  /** Existing bucket for packages (`bucketName`). Default: a new versioned, encrypted bucket. */
  existingBucketName: string | undefined;
  /** KMS key of an existing SSE-KMS bucket (`bucketKmsKeyArn`). Default none (SSE-S3). */
  bucketKmsKeyArn: string | undefined;
  /** Quilt packaging engine queue for `quiltPublish=queue` (`packagerQueueArn`). */
  packagerQueueArn: string | undefined;
  /** `direct` or `queue` (`quiltPublish`). Default direct. */
  publishMode: 'direct' | 'queue';
  /** The first tenant's packages are `<prefix>/<displayId>` (`packagePrefix`). Default `benchling`. */
  packagePrefix: string;
  /** Quilt catalog base URL for canvas links (`quiltCatalogUrl`). */
  catalogUrl: string | undefined;
  /** `pdf` or `html` (`exportFormat`). Default pdf. */
  exportFormat: 'pdf' | 'html';
  /** Prefix of the four DynamoDB tables (`tablePrefix`). Default `<stackName lower-case>-`. */
  tablePrefix: string;
  /** A prebuilt image for both services (`imageUri`). Default: built from the repository's Dockerfile. */
  imageUri: string | undefined;
  /** `X86_64` or `ARM64` (`cpuArchitecture`). Default X86_64. */
  cpuArchitecture: 'X86_64' | 'ARM64';
  /** Ingress tasks, fixed (`ingressTasks`). Default 2, one per AZ. */
  ingressTasks: number;
  /** Ingress Fargate CPU units / memory MiB (`ingressCpu`, `ingressMemoryMiB`). Default 256 / 512. */
  ingressCpu: number;
  ingressMemoryMiB: number;
  worker: WorkerSettings;
  /** Receives before a job moves to the DLQ (`maxReceiveCount`). Default 5. */
  maxReceiveCount: number;
  /** Days logs are kept (`logRetentionDays`). Default 30. */
  logRetentionDays: number;
  /** Alarm when the oldest job is older than this, seconds (`oldestMessageAlarmSeconds`). Default 1800. */
  oldestMessageAlarmSeconds: number;
  /** Alarm when ingress 5xx (target + load balancer) reach this many in 5 minutes (`ingress5xxAlarmCount`). Default 5. */
  ingress5xxAlarmCount: number;
  /** Email subscribed to the alarm topic (`alarmEmail`). Default none. */
  alarmEmail: string | undefined;
  /** Keep tables, bucket and secret when the stack is deleted (`retainData`). Default true. */
  retainData: boolean;
  /** winston level for both services (`logLevel`). Default info. */
  logLevel: string;
  /** The tenant's Benchling warehouse (`warehouseHost` …); undefined: no enrichment, no egress to it. */
  warehouse: WarehouseSettings | undefined;
}

export interface WarehouseSettings {
  /** `warehouseHost`, e.g. `postgres-warehouse.<tenant>.benchling.com`. */
  host: string;
  /** `warehousePort`. Default 5432. */
  port: number;
  /** `warehouseDatabase`. Default `warehouse`. */
  database: string;
  /** `warehouseSchema`: the registry's Postgres schema. Default: the user's own search_path. */
  schema: string | undefined;
  /** `warehouseSecretArn`: existing secret `{"username","password"}`. Default: a new secret to fill in. */
  secretArn: string | undefined;
  /** `warehouseCidrs`: where tasks may open PostgreSQL connections. Default 0.0.0.0/0 on the port only. */
  cidrs: string[];
  /** `warehouseSsl`: `require` (TLS) or `verify-full`. Default require. */
  ssl: 'require' | 'verify-full';
}
