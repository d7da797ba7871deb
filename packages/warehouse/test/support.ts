import pg from 'pg';
import { createLogger } from '@bp/shared';
import { type LocalWarehouse, startLocalWarehouse } from '@bp/local-stack/warehouse';
import { type FailureKind, openWarehouse, type POOL_DEFAULTS, warehouseConfigFromEnv, type WarehouseOptions } from '../src/index.ts';

export const quietLogger = createLogger({ service: 'test', level: process.env.BP_TEST_LOG_LEVEL || 'silent' });

/** A real PostgreSQL warehouse for the enclosing suite (own server: suites may stop it). */
export function useLocalWarehouse(): { readonly w: LocalWarehouse } {
  let w: LocalWarehouse | undefined;
  before(async function () {
    this.timeout(60_000);
    w = await startLocalWarehouse();
  });
  after(async function () {
    this.timeout(30_000);
    await w?.stop();
  });
  return {
    get w() {
      if (!w) throw new Error('the warehouse starts in before()');
      return w;
    },
  };
}

/** The client as the worker builds it, over the local warehouse's read-only role. */
export async function openClient(
  w: LocalWarehouse,
  o: {
    env?: Record<string, string>;
    sizing?: Partial<typeof POOL_DEFAULTS>;
    tuning?: Pick<WarehouseOptions, 'retries' | 'retryMinMs' | 'metadataTtlMs' | 'now'>;
  } = {},
) {
  const failures: FailureKind[] = [];
  const config = warehouseConfigFromEnv({ ...w.env, ...o.env })!;
  const opened = await openWarehouse({
    config,
    logger: quietLogger,
    onFailure: (k) => failures.push(k),
    tuning: { retryMinMs: 20, ...o.tuning },
    ...(o.sizing ? { sizing: o.sizing } : {}),
  });
  return { ...opened, failures };
}

/** Runs `fn` as the warehouse's superuser. */
export async function asAdmin<T>(w: LocalWarehouse, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: w.adminUrl });
  await c.connect();
  try {
    await c.query(`SET search_path = ${w.env.WAREHOUSE_SCHEMA}`);
    return await fn(c);
  } finally {
    await c.end();
  }
}
