import pg from 'pg';
import type { Logger } from '@bp/shared';
import type { WarehouseConfig } from './config.ts';

/**
 * The pool the integration spec sizes: 5 connections kept, 10 more on demand (max 15), 30 s to
 * get one before the lookup fails, each recycled after 30 minutes (so a rotated password or a
 * moved replica is picked up), every session with a statement timeout and the registry schema.
 */
export const POOL_DEFAULTS = { min: 5, max: 15, acquireTimeoutMs: 30_000, maxLifetimeSeconds: 1800, idleTimeoutMs: 60_000 };

export interface PoolOptions {
  config: WarehouseConfig;
  /** The user and password (from the URL, or Secrets Manager). */
  credentials: { user: string; password: string | (() => Promise<string>) };
  logger: Logger;
  /** Overrides for tests; production uses POOL_DEFAULTS. */
  sizing?: Partial<typeof POOL_DEFAULTS>;
}

export function createWarehousePool(o: PoolOptions): pg.Pool {
  const s = { ...POOL_DEFAULTS, ...o.sizing };
  const c = o.config;
  const pool = new pg.Pool({
    host: c.host,
    port: c.port,
    database: c.database,
    user: o.credentials.user,
    password: o.credentials.password,
    ssl: c.ssl === 'disable' ? false : { rejectUnauthorized: c.ssl === 'verify-full' },
    min: s.min,
    max: s.max,
    connectionTimeoutMillis: s.acquireTimeoutMs,
    idleTimeoutMillis: s.idleTimeoutMs,
    maxLifetimeSeconds: s.maxLifetimeSeconds,
    statement_timeout: c.statementTimeoutMs,
    application_name: 'benchling-packager',
    ...(c.schema ? { options: `-c search_path=${c.schema}` } : {}),
  });
  // An idle connection the server drops (restart, failover) emits here; without a listener
  // the process would crash. The next lookup opens a new one.
  pool.on('error', (err) => o.logger.warn('warehouse connection dropped', { error: err.message }));
  return pool;
}
