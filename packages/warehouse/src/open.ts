import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@bp/shared';
import type { WarehouseConfig } from './config.ts';
import { SecretCredentials } from './credentials.ts';
import type { FailureKind } from './failures.ts';
import { createWarehousePool, type POOL_DEFAULTS } from './pool.ts';
import { Warehouse, type WarehouseOptions } from './warehouse.ts';

/**
 * A Warehouse over a pool built from config: credentials from the URL, or from Secrets Manager
 * (username read once at start; the password re-read for new connections after a rotation).
 */
export async function openWarehouse(o: {
  config: WarehouseConfig;
  logger: Logger;
  secrets?: SecretsManagerClient;
  onFailure?: (kind: FailureKind) => void;
  sizing?: Partial<typeof POOL_DEFAULTS>;
  tuning?: Pick<WarehouseOptions, 'retries' | 'retryMinMs' | 'metadataTtlMs' | 'now'>;
}): Promise<{ warehouse: Warehouse; close(): Promise<void>; pool: import('pg').Pool }> {
  const c = o.config;
  let credentials: { user: string; password: string | (() => Promise<string>) };
  if (c.password) {
    credentials = { user: c.user ?? 'postgres', password: c.password };
  } else {
    if (!o.secrets || !c.secretArn) throw new Error('the warehouse secret needs a Secrets Manager client and WAREHOUSE_SECRET_ARN');
    const secret = new SecretCredentials({ client: o.secrets, secretArn: c.secretArn });
    const first = await secret.get();
    credentials = { user: c.user ?? first.username, password: async () => (await secret.get()).password };
  }
  const pool = createWarehousePool({ config: c, credentials, logger: o.logger, ...(o.sizing ? { sizing: o.sizing } : {}) });
  const warehouse = new Warehouse({
    pool,
    logger: o.logger,
    sampleTable: c.sampleTable,
    fallbackMaxAgeMs: c.fallbackMaxAgeMs,
    ...(o.onFailure ? { onFailure: o.onFailure } : {}),
    ...o.tuning,
  });
  return { warehouse, pool, close: () => pool.end() };
}
