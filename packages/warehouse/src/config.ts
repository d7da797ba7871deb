import { ConfigError, type Env, getEnum, getInt, getOptionalString, getString } from '@bp/shared';

/**
 * Where the Benchling warehouse is and how to talk to it. Either a full `WAREHOUSE_URL`
 * (local runs, or credentials held in the URL) or `WAREHOUSE_HOST` with a Secrets Manager
 * secret (`WAREHOUSE_SECRET_ARN`, JSON `{username, password}`) as deployed in AWS.
 */
export interface WarehouseConfig {
  host: string;
  port: number;
  database: string;
  /** Set when the URL carries them; otherwise they come from `secretArn`. */
  user?: string;
  password?: string;
  secretArn?: string;
  /** The registry's Postgres schema (`search_path`); unset: the role's own default. */
  schema?: string;
  /** `require`: TLS, any certificate (libpq's sslmode=require); `verify-full`: TLS and a verified certificate; `disable`: loopback only. */
  ssl: 'require' | 'verify-full' | 'disable';
  /** Server-side limit of one query, ms (Postgres `statement_timeout`). */
  statementTimeoutMs: number;
  /** How old a cached sample/entry answer may be and still stand in when the warehouse cannot be reached, ms. */
  fallbackMaxAgeMs: number;
  /** Entity-schema table whose rows are a run's samples (its `barcode` field is matched). */
  sampleTable: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Undefined when no warehouse is configured: then nothing is enriched (and no files are written). */
export function warehouseConfigFromEnv(env: Env): WarehouseConfig | undefined {
  const url = getOptionalString(env, 'WAREHOUSE_URL');
  const hostVar = getOptionalString(env, 'WAREHOUSE_HOST');
  if (!url && !hostVar) return undefined;
  let host: string;
  let port: number;
  let database: string;
  let user: string | undefined;
  let password: string | undefined;
  if (url) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError('WAREHOUSE_URL must be a postgres:// URL');
    }
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new ConfigError('WAREHOUSE_URL must be a postgres:// URL');
    host = u.hostname;
    port = u.port ? Number(u.port) : 5432;
    database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'warehouse';
    user = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } else {
    host = hostVar!;
    port = getInt(env, 'WAREHOUSE_PORT', 5432, { min: 1, max: 65535 });
    database = getString(env, 'WAREHOUSE_DATABASE', 'warehouse');
  }
  const secretArn = getOptionalString(env, 'WAREHOUSE_SECRET_ARN');
  if (!password && !secretArn)
    throw new ConfigError('the warehouse needs credentials: a password in WAREHOUSE_URL or WAREHOUSE_SECRET_ARN');
  const local = LOOPBACK.has(host);
  const ssl = getEnum(env, 'WAREHOUSE_SSL', ['require', 'verify-full', 'disable'] as const, local ? 'disable' : 'require');
  if (ssl === 'disable' && !local)
    throw new ConfigError(`WAREHOUSE_SSL=disable is only allowed for a loopback host, not ${host}: the warehouse carries tenant data`);
  const schema = getOptionalString(env, 'WAREHOUSE_SCHEMA');
  if (schema !== undefined && !IDENTIFIER.test(schema))
    throw new ConfigError(`WAREHOUSE_SCHEMA must be a plain lower-case identifier, got "${schema}"`);
  const sampleTable = getString(env, 'WAREHOUSE_SAMPLE_TABLE', 'sample');
  if (!IDENTIFIER.test(sampleTable))
    throw new ConfigError(`WAREHOUSE_SAMPLE_TABLE must be a plain lower-case identifier, got "${sampleTable}"`);
  return {
    host,
    port,
    database,
    ...(user ? { user } : {}),
    ...(password ? { password } : {}),
    ...(secretArn ? { secretArn } : {}),
    ...(schema ? { schema } : {}),
    ssl,
    statementTimeoutMs: getInt(env, 'WAREHOUSE_STATEMENT_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
    fallbackMaxAgeMs: getInt(env, 'WAREHOUSE_FALLBACK_MAX_AGE_SECONDS', 300, { min: 0, max: 86_400 }) * 1000,
    sampleTable,
  };
}

export function isIdentifier(s: string): boolean {
  return IDENTIFIER.test(s);
}
