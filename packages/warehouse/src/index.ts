export * from './config.ts';
export * from './credentials.ts';
export * from './pool.ts';
export * from './failures.ts';
export * from './types.ts';
export * from './documents.ts';
export { Warehouse, type WarehouseOptions } from './warehouse.ts';
export { openWarehouse } from './open.ts';
export { warehouseProbe } from './probe.ts';
