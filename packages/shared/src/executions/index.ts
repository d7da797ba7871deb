export * from './types.ts';
export * from './errors.ts';
export * from './execution-store.ts';
export type { ListByEntryOptions, ListByStatusOptions, ListRecentOptions } from './execution-queries.ts';
export * from './entry-store.ts';
export * from './installation-store.ts';
export { firstPendingStep } from './resume.ts';
export { isConditionFailed, isExpired } from './conditions.ts';
