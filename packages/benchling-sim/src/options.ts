import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '@bp/shared/errors';

export interface SimulatorOptions {
  /** TCP port to listen on (127.0.0.1). Default 0: a free port. */
  port?: number;
  /** OAuth client id accepted by `POST /token`. Default 'sim-client'. */
  clientId?: string;
  /** OAuth client secret accepted by `POST /token`. Default 'sim-secret'. */
  clientSecret?: string;
  /** App id (`app_…`) in webhook payloads and the one canvases and sessions must name. Default 'app_sim'. */
  appId?: string;
  /** App definition id whose JWKS is served at `/api/v1/apps/{id}/jwks`. Default 'appdef_sim'. */
  appDefinitionId?: string;
  /** Tenant id put in webhook payloads. Default 'ten_sim'. */
  tenantId?: string;
  /** How long an export task stays RUNNING. Milliseconds, default 500. */
  exportDelayMs?: number;
  /** How long an `etr_slow…` export task stays RUNNING. Milliseconds, default 60000. */
  slowExportDelayMs?: number;
  /** Lifetime of issued access tokens. Seconds, default 900. */
  tokenTtlSeconds?: number;
  /** Request budget per client id: `limit` requests per fixed window of `windowSeconds`. Default 60 per 30 s. */
  rateLimit?: { limit: number; windowSeconds: number };
  /** Receiver of the webhooks a canvas preview's button clicks send (the ingress URL). Default none. */
  webhookTarget?: string;
  /** Directory where generated export ZIPs are cached (and reused across runs). Default `os.tmpdir()/benchling-sim-zips`. */
  zipDir?: string;
}

export type ResolvedSimulatorOptions = Required<Omit<SimulatorOptions, 'webhookTarget'>> & { webhookTarget?: string };

function requireInt(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ConfigError(`simulator option ${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

function requireText(name: string, v: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`simulator option ${name} must be a non-empty string`);
  return v;
}

/** Fills defaults and validates once, naming the offending option. */
export function resolveOptions(o: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const rateLimit = o.rateLimit ?? { limit: 60, windowSeconds: 30 };
  return {
    port: requireInt('port', o.port ?? 0, 0, 65535),
    clientId: requireText('clientId', o.clientId ?? 'sim-client'),
    clientSecret: requireText('clientSecret', o.clientSecret ?? 'sim-secret'),
    appId: requireText('appId', o.appId ?? 'app_sim'),
    appDefinitionId: requireText('appDefinitionId', o.appDefinitionId ?? 'appdef_sim'),
    tenantId: requireText('tenantId', o.tenantId ?? 'ten_sim'),
    exportDelayMs: requireInt('exportDelayMs', o.exportDelayMs ?? 500, 0),
    slowExportDelayMs: requireInt('slowExportDelayMs', o.slowExportDelayMs ?? 60_000, 0),
    tokenTtlSeconds: requireInt('tokenTtlSeconds', o.tokenTtlSeconds ?? 900, 1),
    rateLimit: {
      limit: requireInt('rateLimit.limit', rateLimit.limit, 1),
      windowSeconds: requireInt('rateLimit.windowSeconds', rateLimit.windowSeconds, 1),
    },
    ...(o.webhookTarget ? { webhookTarget: requireText('webhookTarget', o.webhookTarget) } : {}),
    zipDir: requireText('zipDir', o.zipDir ?? path.join(os.tmpdir(), 'benchling-sim-zips')),
  };
}
