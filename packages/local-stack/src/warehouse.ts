import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_WAREHOUSE_SEED, warehouseStory, type WarehouseStory } from '@bp/benchling-sim';
import { type LocalPostgres, startPostgres } from './postgres.ts';
import { freePort } from './processes.ts';
import { seedWarehouse } from './warehouse-seed.ts';

/** A local Benchling warehouse: PostgreSQL seeded with the simulator's story, and how to reach it. */
export interface LocalWarehouse {
  postgres: LocalPostgres;
  story: WarehouseStory;
  /** `WAREHOUSE_URL` (the read-only role) and `WAREHOUSE_SCHEMA` for the worker. */
  env: { WAREHOUSE_URL: string; WAREHOUSE_SCHEMA: string };
  /** Superuser connection string of the `warehouse` database (for tests and seeding only). */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL on `port` (default a free one) with its data in `dataDir` (default a temp
 * directory, removed on stop) and seeds it from `seed`. `baseUrl` is the simulator's, so the
 * warehouse's entry URLs point where the API's do.
 */
export async function startLocalWarehouse(
  o: { port?: number; dataDir?: string; logFile?: string; seed?: string; baseUrl?: string } = {},
): Promise<LocalWarehouse> {
  const temp = o.dataDir ? undefined : mkdtempSync(path.join(os.tmpdir(), 'bp-warehouse-'));
  // mkdtemp makes it 0700; the server may run as another user (root → postgres) and must reach its data.
  if (temp) chmodSync(temp, 0o755);
  const dataDir = o.dataDir ?? path.join(temp!, 'data');
  let postgres: LocalPostgres;
  try {
    postgres = await startPostgres({ port: o.port ?? (await freePort()), dataDir, ...(o.logFile ? { logFile: o.logFile } : {}) });
  } catch (err) {
    if (temp) rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  try {
    const story = warehouseStory(o.seed ?? DEFAULT_WAREHOUSE_SEED, o.baseUrl);
    const seeded = await seedWarehouse(postgres.adminUrl, story);
    const admin = new URL(postgres.adminUrl);
    admin.pathname = '/warehouse';
    return {
      postgres,
      story,
      env: { WAREHOUSE_URL: seeded.readerUrl, WAREHOUSE_SCHEMA: seeded.schema },
      adminUrl: admin.toString(),
      async stop() {
        await postgres.stop();
        if (temp) rmSync(temp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await postgres.stop();
    if (temp) rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}
