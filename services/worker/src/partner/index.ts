export { runPartnerJob } from './run-partner-job.ts';
export { PARTNER_STEPS } from './kinds.ts';
export { libStorageWriter, type ObjectWriter, type ObjectUpload } from './object-writer.ts';
export { runNamePart, runPackageName, runResourceKey } from './run-names.ts';
export { checkSource, forbiddenAddress, forbiddenHost } from './source-policy.ts';
