import { isIP } from 'node:net';
import { type Env, getBool, getEnum, getInt, getOptionalString, getString } from '@bp/shared/env';
import { ConfigError } from '@bp/shared/errors';
import { DEFAULT_WORKER_MEMORY_MIB } from '@bp/shared/node-options';
import { parseTenants } from '@bp/shared/benchling/tenants';
import type { DeploymentConfig, VpcChoice, WarehouseSettings, WorkerSettings } from './deployment-config.ts';

export type { DeploymentConfig, VpcChoice, WarehouseSettings, WorkerSettings } from './deployment-config.ts';

/*
 * Reads the deployment's choices from CDK context (`-c key=value`, or a JSON file named by
 * `-c config=path`); each error names its key.
 */

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
    memoryMiB: getInt(env, 'workerMemoryMiB', DEFAULT_WORKER_MEMORY_MIB, { min: 512, max: 122_880 }),
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
