export * from './errors.ts';
export * from './auth.ts';
export * from './rate-limit.ts';
export * from './models.ts';
export * from './client.ts';
export * from './pool.ts';
export * from './tenants.ts';
