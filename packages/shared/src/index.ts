export * from './errors.ts';
export * from './env.ts';
export * from './logger.ts';
export * from './aws.ts';
export * from './aws-errors.ts';
export * from './resources.ts';
export * from './jobs.ts';
export * from './executions/types.ts';
