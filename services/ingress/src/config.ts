import {
  type AwsOptions,
  awsOptionsFromEnv,
  ConfigError,
  dedupeTtlDays,
  type Env,
  getInt,
  getOptionalString,
  getString,
  type ResourceNames,
  resourceNamesFromEnv,
} from '@bp/shared';

/** Benchling waits 3 s for a 2xx; everything the ingress does before answering must fit well inside. */
export const BENCHLING_ACK_DEADLINE_MS = 3000;

export interface IngressConfig {
  /** TCP port to listen on. Default 8080. */
  port: number;
  /** Benchling app definition id (`appdef_…`); names the JWKS. Required unless jwksUrl is set. */
  appDefinitionId: string | undefined;
  /** Where the signing keys live. Default `https://apps.benchling.com/api/v1/apps/${appDefinitionId}/jwks`. */
  jwksUrl: string;
  /** Allowed distance between `webhook-timestamp` and now, seconds. Default 300. */
  toleranceSeconds: number;
  /** Largest body accepted, bytes; larger gets 413. Default 64 KiB (Benchling's bodies are a few KB). */
  maxBodyBytes: number;
  /** Largest partner webhook body accepted, bytes (a run's file list); larger gets 413. Default 256 KiB (SQS's message limit). */
  partnerMaxBodyBytes: number;
  /** Milliseconds from a webhook's headers to its last body byte; slower gets 408 and the connection closed. Default 3000. */
  bodyTimeoutMs: number;
  /** Open connections the server holds at most; further ones are closed at once. Default 512. */
  maxConnections: number;
  /** Proxy hops in front of the ingress whose X-Forwarded-For is believed (Express `trust proxy`). Default 0: none. */
  trustProxy: number;
  /** Milliseconds `/health/ready` reuses its probe results, so probing it costs no AWS calls. Default 1500. */
  readyCacheMs: number;
  /** Canvas button ids that request a new package version. Default `update-package`. */
  updateButtonIds: string[];
  /** Days a webhook id is remembered for dedupe. Default 7. */
  dedupeTtlDays: number;
  /** Milliseconds a PENDING dedupe record protects an enqueue in progress. Default 30_000. */
  dedupePendingMs: number;
  /** Milliseconds from arrival within which verification, dedupe and SendMessage must finish. Default 2000. */
  requestBudgetMs: number;
  /** Milliseconds for the step after SendMessage (ENQUEUED mark or clean-up). Default 500. */
  finishTimeoutMs: number;
  /** Milliseconds each `/health/ready` probe may take. Default 1000. */
  readyCheckTimeoutMs: number;
  jwks: {
    /** Milliseconds between background JWKS refreshes. Default 3_600_000. */
    refreshIntervalMs: number;
    /** Milliseconds one JWKS fetch may take. Default 2000. */
    fetchTimeoutMs: number;
    /** Milliseconds a request waits for an on-demand refresh after an unknown signature. Default 500. */
    requestWaitMs: number;
    /** Longest gap between on-demand refreshes, reached while refreshes find nothing new. Default 30_000. */
    minOnDemandGapMs: number;
    /** Gap after a first on-demand refresh; doubles while refreshes find nothing new. Default 1000. */
    firstOnDemandGapMs: number;
  };
  /** Milliseconds SIGTERM waits for in-flight requests before exiting. Default 10_000. */
  shutdownGraceMs: number;
  /** winston level. Default `info`. */
  logLevel: string;
  /** Queue and table names (TABLE_PREFIX, JOBS_QUEUE_URL, …). */
  names: ResourceNames;
  /** AWS clients: 700 ms per request × 2 attempts by default, so one call cannot eat the budget. */
  aws: AwsOptions;
}

/** Parses the ingress environment; throws ConfigError naming the variable. */
export function ingressConfigFromEnv(env: Env): IngressConfig {
  const appDefinitionId = getOptionalString(env, 'BENCHLING_APP_DEFINITION_ID');
  const jwksUrl =
    getOptionalString(env, 'BENCHLING_JWKS_URL') ??
    (appDefinitionId ? `https://apps.benchling.com/api/v1/apps/${encodeURIComponent(appDefinitionId)}/jwks` : undefined);
  if (!jwksUrl) throw new ConfigError('BENCHLING_APP_DEFINITION_ID is required (or BENCHLING_JWKS_URL)');
  const updateButtonIds = getString(env, 'UPDATE_BUTTON_IDS', 'update-package')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const config: IngressConfig = {
    port: getInt(env, 'PORT', 8080, { min: 0, max: 65_535 }),
    appDefinitionId,
    jwksUrl,
    toleranceSeconds: getInt(env, 'WEBHOOK_TOLERANCE_SECONDS', 300, { min: 1, max: 3600 }),
    maxBodyBytes: getInt(env, 'MAX_BODY_BYTES', 64 * 1024, { min: 1024 }),
    partnerMaxBodyBytes: getInt(env, 'PARTNER_MAX_BODY_BYTES', 256 * 1024, { min: 1024, max: 256 * 1024 }),
    bodyTimeoutMs: getInt(env, 'BODY_TIMEOUT_MS', 3000, { min: 100, max: 60_000 }),
    maxConnections: getInt(env, 'MAX_CONNECTIONS', 512, { min: 1 }),
    trustProxy: getInt(env, 'TRUST_PROXY', 0, { min: 0, max: 10 }),
    readyCacheMs: getInt(env, 'READY_CACHE_MS', 1500, { min: 0, max: 60_000 }),
    updateButtonIds,
    dedupeTtlDays: dedupeTtlDays(env),
    dedupePendingMs: getInt(env, 'DEDUPE_PENDING_MS', 30_000, { min: 1000 }),
    requestBudgetMs: getInt(env, 'REQUEST_BUDGET_MS', 2000, { min: 100 }),
    finishTimeoutMs: getInt(env, 'FINISH_TIMEOUT_MS', 500, { min: 50 }),
    readyCheckTimeoutMs: getInt(env, 'READY_CHECK_TIMEOUT_MS', 1000, { min: 50 }),
    jwks: {
      refreshIntervalMs: getInt(env, 'JWKS_REFRESH_INTERVAL_MS', 3_600_000, { min: 1000, max: 6 * 3_600_000 }),
      fetchTimeoutMs: getInt(env, 'JWKS_FETCH_TIMEOUT_MS', 2000, { min: 50 }),
      requestWaitMs: getInt(env, 'JWKS_REQUEST_WAIT_MS', 500, { min: 0 }),
      minOnDemandGapMs: getInt(env, 'JWKS_MIN_ON_DEMAND_GAP_MS', 30_000, { min: 0 }),
      firstOnDemandGapMs: getInt(env, 'JWKS_FIRST_ON_DEMAND_GAP_MS', 1000, { min: 0 }),
    },
    shutdownGraceMs: getInt(env, 'SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
    logLevel: getString(env, 'LOG_LEVEL', 'info'),
    names: resourceNamesFromEnv(env),
    aws: awsOptionsFromEnv(env, { requestTimeoutMs: 700, maxAttempts: 2 }),
  };
  const worstCase = config.requestBudgetMs + config.finishTimeoutMs;
  if (worstCase >= BENCHLING_ACK_DEADLINE_MS - 200) {
    throw new ConfigError(
      `REQUEST_BUDGET_MS + FINISH_TIMEOUT_MS is ${worstCase} ms; ` +
        `it must stay under ${BENCHLING_ACK_DEADLINE_MS - 200} ms ` +
        `(Benchling waits 3 s)`,
    );
  }
  if (config.jwks.requestWaitMs >= config.requestBudgetMs) {
    throw new ConfigError(
      `JWKS_REQUEST_WAIT_MS (${config.jwks.requestWaitMs}) must be less than REQUEST_BUDGET_MS (${config.requestBudgetMs})`,
    );
  }
  return config;
}
