export { transferExport } from './transfer-export.ts';
export type { TransferDeps, TransferOptions, TransferredFile } from './types.ts';
export { DEFAULT_ZIP_LIMITS, RATIO_FLOOR_BYTES, type ZipLimits } from './zip-limits.ts';
export { sanitizeEntryPath, type EntryPath } from './entry-path.ts';
export { nodeHttpGet, type HttpAnswer, type HttpGet } from './http-get.ts';
export { uploadStream, type UploadStreamOptions, type UploadedObject } from './multipart-writer.ts';
export { DEFAULT_PART_BUFFERS, DEFAULT_PART_BYTES, PartPool, sharedPartPool } from './part-pool.ts';
