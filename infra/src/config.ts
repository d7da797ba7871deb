import { isIP } from 'node:net';
import { type Env, getBool, getEnum, getInt, getOptionalString, getString } from '@bp/shared/env';
import { ConfigError } from '@bp/shared/errors';
import { parseTenants, type TenantConfig } from '@bp/shared/benchling/tenants';

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

/** Reads one context key: a string from `-c`, or any JSON value from a config file. */
export type ContextReader = (key: string) => unknown;

/** Context as the string map the shared env helpers parse: lists become comma-separated. */
function asEnv(read: ContextReader, keys: readonly string[]): Env {
  const env: Env = {};
  for (const k of keys) {
    const v = read(k);
    if (v === undefined || v === null) continue;
    env[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return env;
}

const KEYS = [
  'account',
  'region',
  'stackName',
  'vpcId',
  'vpcAvailabilityZones',
  'vpcPublicSubnetIds',
  'vpcPrivateSubnetIds',
  'natGateways',
  'certificateArn',
  'domainName',
  'hostedZoneId',
  'hostedZoneName',
  'benchlingCidrs',
  'partnerCidrs',
  'benchlingAppDefinitionId',
  'benchlingSecretArn',
  'benchlingTenants',
  'allowedBaseUrls',
  'bucketName',
  'bucketKmsKeyArn',
  'packagerQueueArn',
  'quiltPublish',
  'packagePrefix',
  'quiltCatalogUrl',
  'exportFormat',
  'tablePrefix',
  'imageUri',
  'cpuArchitecture',
  'ingressTasks',
  'ingressCpu',
  'ingressMemoryMiB',
  'workerMinTasks',
  'workerMaxTasks',
  'workerConcurrency',
  'backlogPerTask',
  'workerCpu',
  'workerMemoryMiB',
  'workerEphemeralStorageGiB',
  'visibilityTimeoutSeconds',
  'shutdownGraceSeconds',
  'maxReceiveCount',
  'logRetentionDays',
  'oldestMessageAlarmSeconds',
  'ingress5xxAlarmCount',
  'alarmEmail',
  'retainData',
  'logLevel',
  'warehouseHost',
  'warehousePort',
  'warehouseDatabase',
  'warehouseSchema',
  'warehouseSecretArn',
  'warehouseCidrs',
  'warehouseSsl',
] as const;

const list = (env: Env, key: string): string[] =>
  (env[key] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** A CIDR such as `203.0.113.0/24` or `2001:db8::/32`; throws naming the key otherwise. */
function checkCidr(key: string, cidr: string): void {
  const [addr, bits, extra] = cidr.split('/');
  const family = isIP(addr ?? '');
  const max = family === 4 ? 32 : 128;
  const n = Number(bits);
  if (!family || extra !== undefined || bits === undefined || !Number.isInteger(n) || n < 0 || n > max) {
    throw new ConfigError(`${key} must hold CIDRs like 203.0.113.0/24, got "${cidr}"`);
  }
}

function vpcChoice(env: Env, region: string): VpcChoice {
  const vpcId = getOptionalString(env, 'vpcId');
  const availabilityZones = list(env, 'vpcAvailabilityZones');
  if (!vpcId) {
    // Named, not looked up: with a concrete account and region, CDK would otherwise ask AWS which AZs exist.
    const azs = availabilityZones.length > 0 ? availabilityZones : [`${region}a`, `${region}b`];
    if (azs.length < 2) throw new ConfigError('vpcAvailabilityZones must name at least two zones (the load balancer needs two)');
    const natGateways = getInt(env, 'natGateways', 1, { min: 0, max: azs.length });
    return { kind: 'new', availabilityZones: azs, natGateways };
  }
  if (availabilityZones.length === 0) return { kind: 'lookup', vpcId };
  const publicSubnetIds = list(env, 'vpcPublicSubnetIds');
  const privateSubnetIds = list(env, 'vpcPrivateSubnetIds');
  for (const [key, ids] of [
    ['vpcPublicSubnetIds', publicSubnetIds],
    ['vpcPrivateSubnetIds', privateSubnetIds],
  ] as const) {
    if (ids.length !== availabilityZones.length) {
      throw new ConfigError(`${key} must list one subnet per availability zone (${availabilityZones.length}), got ${ids.length}`);
    }
  }
  return { kind: 'attributes', vpcId, availabilityZones, publicSubnetIds, privateSubnetIds };
}

/**
 * Parses a deployment. `defaults` carries what the CDK CLI knows (CDK_DEFAULT_ACCOUNT/REGION);
 * context wins over it.
 */
export function deploymentConfigFrom(read: ContextReader, defaults: { account?: string; region?: string } = {}): DeploymentConfig {
  const env = asEnv(read, KEYS);
  if (!env.account && defaults.account) env.account = defaults.account;
  if (!env.region && defaults.region) env.region = defaults.region;
  const stackName = getString(env, 'stackName', 'BenchlingPackager');
  const region = getString(env, 'region');

  const benchlingCidrs = list(env, 'benchlingCidrs');
  if (benchlingCidrs.length === 0) {
    throw new ConfigError('benchlingCidrs is required: the CIDRs Benchling sends webhooks from (ask Benchling for the current list)');
  }
  for (const c of benchlingCidrs) checkCidr('benchlingCidrs', c);
  const partnerCidrs = list(env, 'partnerCidrs');
  for (const c of partnerCidrs) checkCidr('partnerCidrs', c);

  const hostedZoneId = getOptionalString(env, 'hostedZoneId');
  const hostedZoneName = getOptionalString(env, 'hostedZoneName');
  const domainName = getOptionalString(env, 'domainName');
  if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) throw new ConfigError('hostedZoneId and hostedZoneName go together');
  if (hostedZoneId && !domainName) throw new ConfigError('hostedZoneId needs domainName: the record to create');

  const publishMode = getEnum(env, 'quiltPublish', ['direct', 'queue'] as const, 'direct');
  const packagerQueueArn = getOptionalString(env, 'packagerQueueArn');
  if (publishMode === 'queue' && !packagerQueueArn) throw new ConfigError('quiltPublish=queue needs packagerQueueArn');

  // Patterns let every tenant in and share one prefix: the exact list replaces them.
  if (env.allowedBaseUrls !== undefined)
    throw new ConfigError(
      'allowedBaseUrls is no longer read: list each tenant exactly in benchlingTenants (tenantId=baseURL[=packagePrefix])',
    );
  const packagePrefix = getString(env, 'packagePrefix', 'benchling');

  const concurrency = getInt(env, 'workerConcurrency', 4, { min: 1, max: 64 });
  const visibilityTimeoutSeconds = getInt(env, 'visibilityTimeoutSeconds', 60, { min: 30, max: 43_200 });
  const minTasks = getInt(env, 'workerMinTasks', 1, { min: 0, max: 1000 });
  const worker: WorkerSettings = {
    minTasks,
    maxTasks: getInt(env, 'workerMaxTasks', 10, { min: Math.max(1, minTasks), max: 1000 }),
    concurrency,
    backlogPerTaskTarget: getInt(env, 'backlogPerTask', concurrency, { min: 1, max: 10_000 }),
    cpu: getInt(env, 'workerCpu', 1024, { min: 256, max: 16_384 }),
    memoryMiB: getInt(env, 'workerMemoryMiB', 2048, { min: 512, max: 122_880 }),
    ephemeralStorageGiB: getInt(env, 'workerEphemeralStorageGiB', 50, { min: 21, max: 200 }),
    visibilityTimeoutSeconds,
    // Fargate sends SIGKILL at most 120 s after SIGTERM; the stop timeout is grace + 15 s.
    shutdownGraceSeconds: getInt(env, 'shutdownGraceSeconds', 25, { min: 0, max: 105 }),
  };

  return {
    account: getString(env, 'account'),
    region,
    stackName,
    vpc: vpcChoice(env, region),
    certificateArn: getString(env, 'certificateArn'),
    domainName,
    hostedZone: hostedZoneId && hostedZoneName ? { id: hostedZoneId, name: hostedZoneName } : undefined,
    benchlingCidrs,
    partnerCidrs,
    benchlingAppDefinitionId: getString(env, 'benchlingAppDefinitionId'),
    benchlingSecretArn: getOptionalString(env, 'benchlingSecretArn'),
    tenants: parseTenants(getString(env, 'benchlingTenants'), packagePrefix, 'benchlingTenants'),
    existingBucketName: getOptionalString(env, 'bucketName'),
    bucketKmsKeyArn: getOptionalString(env, 'bucketKmsKeyArn'),
    packagerQueueArn,
    publishMode,
    packagePrefix,
    catalogUrl: getOptionalString(env, 'quiltCatalogUrl'),
    exportFormat: getEnum(env, 'exportFormat', ['pdf', 'html'] as const, 'pdf'),
    tablePrefix: getString(env, 'tablePrefix', `${stackName.toLowerCase()}-`),
    imageUri: getOptionalString(env, 'imageUri'),
    cpuArchitecture: getEnum(env, 'cpuArchitecture', ['X86_64', 'ARM64'] as const, 'X86_64'),
    ingressTasks: getInt(env, 'ingressTasks', 2, { min: 1, max: 100 }),
    ingressCpu: getInt(env, 'ingressCpu', 256, { min: 256, max: 16_384 }),
    ingressMemoryMiB: getInt(env, 'ingressMemoryMiB', 512, { min: 512, max: 122_880 }),
    worker,
    maxReceiveCount: getInt(env, 'maxReceiveCount', 5, { min: 1, max: 1000 }),
    logRetentionDays: retentionDays(env),
    oldestMessageAlarmSeconds: getInt(env, 'oldestMessageAlarmSeconds', 1800, { min: 60 }),
    ingress5xxAlarmCount: getInt(env, 'ingress5xxAlarmCount', 5, { min: 1 }),
    alarmEmail: getOptionalString(env, 'alarmEmail'),
    retainData: getBool(env, 'retainData', true),
    logLevel: getString(env, 'logLevel', 'info'),
    warehouse: warehouseSettings(env),
  };
}

function warehouseSettings(env: Env): WarehouseSettings | undefined {
  const host = getOptionalString(env, 'warehouseHost');
  if (!host) {
    for (const k of ['warehousePort', 'warehouseDatabase', 'warehouseSchema', 'warehouseSecretArn', 'warehouseCidrs'] as const) {
      if (env[k] !== undefined) throw new ConfigError(`${k} needs warehouseHost`);
    }
    return undefined;
  }
  const schema = getOptionalString(env, 'warehouseSchema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new ConfigError(`warehouseSchema must be a plain lower-case identifier, got "${schema}"`);
  const cidrs = list(env, 'warehouseCidrs');
  for (const c of cidrs) checkCidr('warehouseCidrs', c);
  return {
    host,
    port: getInt(env, 'warehousePort', 5432, { min: 1, max: 65535 }),
    database: getString(env, 'warehouseDatabase', 'warehouse'),
    schema,
    secretArn: getOptionalString(env, 'warehouseSecretArn'),
    cidrs: cidrs.length > 0 ? cidrs : ['0.0.0.0/0'],
    ssl: getEnum(env, 'warehouseSsl', ['require', 'verify-full'] as const, 'require'),
  };
}

/** CloudWatch Logs accepts only these retention periods, in days. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function retentionDays(env: Env): number {
  const days = getInt(env, 'logRetentionDays', 30, { min: 1, max: 3653 });
  if (!RETENTION_DAYS.includes(days)) throw new ConfigError(`logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}, got ${days}`);
  return days;
}

/** Seconds between visibility extensions: a third of the visibility timeout, as the worker defaults. */
export function heartbeatSeconds(visibilityTimeoutSeconds: number): number {
  return Math.max(1, Math.floor(visibilityTimeoutSeconds / 3));
}
