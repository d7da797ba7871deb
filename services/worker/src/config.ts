import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  type Env,
  getBool,
  getEnum,
  getInt,
  getOptionalString,
  getString,
  type ResourceNames,
  resourceNamesFromEnv,
} from '@bp/shared';
import { parseTenants, type TenantConfig } from '@bp/shared/benchling/tenants';
import { type WarehouseConfig, warehouseConfigFromEnv } from '@bp/warehouse';

/** Everything the worker reads from its environment, parsed and checked once at start-up. */
export interface WorkerConfig {
  /** Identifies this process in leases and logs. Default hostname-pid. */
  workerId: string;
  /** Jobs one process runs at once. Default 4. */
  concurrency: number;
  /** Seconds a received job stays invisible; leases last as long. Default 60. */
  visibilityTimeoutSeconds: number;
  /** Seconds between visibility/lease extensions; must be below the visibility timeout. Default 20. */
  heartbeatSeconds: number;
  /** Seconds a SIGTERM waits for in-flight jobs before checkpointing and handing them back. Default 25. */
  shutdownGraceSeconds: number;
  /** Longest wait for a Benchling export before the execution fails, seconds. Default 7200. */
  exportDeadlineSeconds: number;
  /** Longest single re-enqueue delay while an export runs, seconds (SQS max 900). Default 900. */
  exportMaxDelaySeconds: number;
  /** How long await-export may wait in-process before re-enqueueing, ms. Default 3000. */
  exportInlineWaitMs: number;
  /** `direct` writes a native manifest; `queue` hands off to Quilt's packaging engine. Default direct. */
  publishMode: 'direct' | 'queue';
  /** Package name prefix of the first tenant (PACKAGE_PREFIX). Default `benchling`. Each tenant's own is in `benchling.tenants`. */
  packagePrefix: string;
  /** Base URL of a Quilt catalog for links on the canvas, if any. */
  catalogUrl: string | undefined;
  /** Export format requested from Benchling. Default pdf. */
  exportFormat: 'pdf' | 'html';
  /** Button id that means "update package" on the canvas. Default `update-package`. */
  updateButtonId: string;
  /** Canvas feature id from the app manifest. Default `quilt_entry`. */
  canvasFeatureId: string;
  benchling: {
    clientId: string;
    clientSecret: string;
    /**
     * The tenants served (BENCHLING_TENANTS): exact base URL and package prefix each; any other tenant or base URL is refused before
     * credentials go out.
     */
    tenants: TenantConfig[];
  };
  zipLimits: { maxZipBytes: number; maxTotalUncompressedBytes: number; maxEntries: number; maxCompressionRatio: number };
  /** Directory for export ZIPs that are spooled rather than streamed (small, no Range support, out of order). Default the OS temp dir. */
  tmpDir: string;
  /** Keep a FAILED/SUCCEEDED execution this many days. Default 90. */
  executionTtlDays: number;
  /** Days a dedupe record lives. Default 7. */
  dedupeTtlDays: number;
  names: ResourceNames;
  logLevel: string;
  /** Set ECS task scale-in protection while jobs run (needs ECS_AGENT_URI). Default true in ECS. */
  taskProtection: boolean;
  /** The Benchling warehouse (WAREHOUSE_URL or WAREHOUSE_HOST …); undefined: no enrichment. */
  warehouse: WarehouseConfig | undefined;
  /** Port of `/health/live` and `/health/ready` (HEALTH_PORT); 0, the default: not served (the CDK stack sets 8081). */
  healthPort: number;
  /** Milliseconds each readiness probe may take. Default 2000. */
  readyCheckTimeoutMs: number;
}

const GiB = 1024 ** 3;

export function workerConfigFromEnv(env: Env): WorkerConfig {
  // The old allow-list took patterns (an unanchored one let `https://acme.benchling.com.evil.example`
  // through) and let every tenant share one prefix: refuse it rather than run with what it meant.
  if (getOptionalString(env, 'BENCHLING_ALLOWED_BASE_URLS') !== undefined) {
    throw new ConfigError(
      'BENCHLING_ALLOWED_BASE_URLS is no longer read: ' +
        'list each tenant exactly in BENCHLING_TENANTS ' +
        '(tenantId=baseURL[=packagePrefix],…) and unset it',
    );
  }
  const packagePrefix = getString(env, 'PACKAGE_PREFIX', 'benchling');
  const visibilityTimeoutSeconds = getInt(env, 'VISIBILITY_TIMEOUT_SECONDS', 60, { min: 10, max: 43200 });
  const heartbeatSeconds = getInt(env, 'HEARTBEAT_SECONDS', Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)), {
    min: 1,
    max: visibilityTimeoutSeconds - 1,
  });
  return {
    workerId: getString(env, 'WORKER_ID', `${os.hostname()}-${process.pid}`),
    concurrency: getInt(env, 'WORKER_CONCURRENCY', 4, { min: 1, max: 64 }),
    visibilityTimeoutSeconds,
    heartbeatSeconds,
    shutdownGraceSeconds: getInt(env, 'SHUTDOWN_GRACE_SECONDS', 25, { min: 0, max: 3600 }),
    exportDeadlineSeconds: getInt(env, 'EXPORT_DEADLINE_SECONDS', 7200, { min: 10 }),
    exportMaxDelaySeconds: getInt(env, 'EXPORT_MAX_DELAY_SECONDS', 900, { min: 1, max: 900 }),
    exportInlineWaitMs: getInt(env, 'EXPORT_INLINE_WAIT_MS', 3000, { min: 0, max: 30_000 }),
    publishMode: getEnum(env, 'QUILT_PUBLISH', ['direct', 'queue'] as const, 'direct'),
    packagePrefix,
    catalogUrl: getOptionalString(env, 'QUILT_CATALOG_URL'),
    exportFormat: getEnum(env, 'EXPORT_FORMAT', ['pdf', 'html'] as const, 'pdf'),
    updateButtonId: getString(env, 'UPDATE_BUTTON_ID', 'update-package'),
    canvasFeatureId: getString(env, 'CANVAS_FEATURE_ID', 'quilt_entry'),
    benchling: {
      clientId: getString(env, 'BENCHLING_CLIENT_ID'),
      clientSecret: getString(env, 'BENCHLING_CLIENT_SECRET'),
      tenants: parseTenants(getString(env, 'BENCHLING_TENANTS'), packagePrefix),
    },
    zipLimits: {
      maxZipBytes: getInt(env, 'ZIP_MAX_BYTES', 20 * GiB, { min: 1 }),
      maxTotalUncompressedBytes: getInt(env, 'ZIP_MAX_UNCOMPRESSED_BYTES', 50 * GiB, { min: 1 }),
      maxEntries: getInt(env, 'ZIP_MAX_ENTRIES', 50_000, { min: 1 }),
      maxCompressionRatio: getInt(env, 'ZIP_MAX_RATIO', 200, { min: 1 }),
    },
    tmpDir: getString(env, 'WORKER_TMP_DIR', path.join(os.tmpdir(), 'benchling-packager')),
    executionTtlDays: getInt(env, 'EXECUTION_TTL_DAYS', 90, { min: 1 }),
    dedupeTtlDays: getInt(env, 'DEDUPE_TTL_DAYS', 7, { min: 1 }),
    names: resourceNamesFromEnv(env),
    logLevel: getString(env, 'LOG_LEVEL', 'info'),
    taskProtection: getBool(env, 'ECS_TASK_PROTECTION', Boolean(env.ECS_AGENT_URI)),
    warehouse: warehouseConfigFromEnv(env),
    healthPort: getInt(env, 'HEALTH_PORT', 0, { min: 0, max: 65535 }),
    readyCheckTimeoutMs: getInt(env, 'READY_CHECK_TIMEOUT_MS', 2000, { min: 100, max: 30_000 }),
  };
}
