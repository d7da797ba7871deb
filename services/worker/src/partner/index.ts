export { PARTNER_STEPS } from './kinds.ts';
export { pooledWriter, type ObjectWriter, type ObjectUpload } from './object-writer.ts';
export { runNamePart, runPackageName, runResourceKey } from './run-names.ts';
export { checkSource, forbiddenAddress, forbiddenHost } from './source-policy.ts';
