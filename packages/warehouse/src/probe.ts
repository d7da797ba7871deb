import type { CheckResult, Probe } from '@bp/shared/webhook/readiness';
import type { Warehouse } from './warehouse.ts';

/** Readiness of the warehouse: `SELECT 1` through the pool within `timeoutMs` (the spec's check). */
export function warehouseProbe(warehouse: Pick<Warehouse, 'ping'>, timeoutMs: number): Probe {
  return async (): Promise<CheckResult> => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      await warehouse.ping(timeoutMs);
      return { ok: true, ms: ms(), detail: { query: 'SELECT 1' } };
    } catch (err) {
      return { ok: false, ms: ms(), error: (err as Error).message };
    }
  };
}
