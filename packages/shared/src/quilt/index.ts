export * from './canonical-json.ts';
export * from './physical-key.ts';
export * from './package-name.ts';
export * from './manifest.ts';
export * from './registry-layout.ts';
export { awsFailure } from '../aws-errors.ts';
export * from './direct-publish.ts';
export * from './queue-publish.ts';
export * from './hash.ts';
