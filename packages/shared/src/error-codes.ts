/**
 * Every `code` a PackagerError can carry: the short class operators see (execution history,
 * canvas, CLI JSON, metrics). One list, so a typo or a new code is a compile error, not a new
 * string nobody matches.
 */
export type ErrorCode =
  // Base classes constructed without a code (their name without `Error`).
  | 'Packager'
  | 'Transient'
  | 'Permanent'
  // Configuration and jobs
  | 'Config'
  /** A job message that cannot be run as it is (BadMessageError). */
  | 'BadMessage'
  /** A job kind this worker has no steps for (KindNotHandledError). */
  | 'KindNotHandled'
  /** A state this code never reaches unless it has a bug. */
  | 'Internal'
  /** A checkpointed step output an earlier step should have written is missing. */
  | 'StateMissing'
  // Executions, entries, leases
  | 'ExecutionExists'
  | 'ExecutionNotFound'
  /** Another worker holds the execution's lease (LeaseHeldError). */
  | 'LeaseHeld'
  /** This worker's lease was taken over (LeaseLostError). */
  | 'LeaseLost'
  /** A conditional lease write lost a race it can retry. */
  | 'LeaseContended'
  /** Another execution holds the entry; the job is retried later. */
  | 'EntryBusy'
  // Ingress
  | 'DedupeUnavailable'
  | 'QueueUnavailable'
  | 'WebhookAuth'
  | 'MalformedWebhook'
  | 'JwksUnavailable'
  // Ops
  | 'Usage'
  | 'NotFound'
  | 'InvalidLimit'
  /** A SendMessage timed out or broke mid-way: the message may be on the queue. */
  | 'SendOutcomeUnknown'
  // Benchling API
  | 'BenchlingBadRequest'
  | 'BenchlingUnprocessable'
  | 'BenchlingUnauthorized'
  | 'BenchlingForbidden'
  | 'BenchlingNotFound'
  | 'BenchlingConflict'
  | 'BenchlingInvalidResponse'
  | 'BenchlingRateLimited'
  /** HTTP 503. */
  | 'BenchlingUnavailable'
  /** Any other 5xx. */
  | 'BenchlingServerError'
  | 'BenchlingNetwork'
  | 'BenchlingTimeout'
  /** The job names a tenant BENCHLING_TENANTS does not list. */
  | 'BenchlingTenantMissing'
  /** The tenant's base URL differs from the configured one. */
  | 'BenchlingTenantRejected'
  /** Any other HTTP status the client has no class for. */
  | `BenchlingHttp${number}`
  // Exports and canvas
  | 'ExportFailed'
  | 'ExportMalformed'
  | 'ExportTimeout'
  | 'CanvasStale'
  | 'CanvasWithoutEntry'
  // Transfer: download
  | 'DownloadInterrupted'
  | 'DownloadRejected'
  | 'DownloadStalled'
  | 'DownloadUnavailable'
  /** HTTP 403, 404, 410 on the export link: expired, deleted or never ours. */
  | 'DownloadForbidden'
  | 'DownloadNotFound'
  | 'DownloadGone'
  | 'TransferAborted'
  | 'TransferOptions'
  // Transfer: ZIP safety
  | 'ZipBomb'
  | 'ZipCorrupt'
  | 'ZipTooLarge'
  | 'ZipTooManyEntries'
  | 'ZipBadPath'
  | 'ZipAbsolutePath'
  | 'ZipTraversal'
  | 'ZipSymlink'
  | 'ZipDuplicatePath'
  /** A file where other entries have a folder, or the reverse. */
  | 'ZipPathConflict'
  | 'ZipEncrypted'
  /** A compression method or ZIP feature the reader does not support. */
  | 'ZipUnsupported'
  // Transfer: upload
  /** Bytes written differ from the size declared. */
  | 'SizeMismatch'
  | 'ObjectTooLarge'
  /** S3 received other bytes than were hashed (damaged on the way). */
  | 'S3DigestMismatch'
  /** An upload to S3 failed in a way worth retrying. */
  | 'S3Upload'
  | 'S3UploadRejected'
  /** S3 refused a request (4xx other than 429); the SDK's name is in `details.awsError`. */
  | 'S3Rejected'
  /** A request to S3 got no answer or a 5xx; the SDK's name is in `details.awsError`. */
  | 'TransferFailed'
  /** The package name belongs to another entry. */
  | 'PackageNameTaken'
  // Quilt packages
  | 'QuiltBadBucket'
  | 'QuiltBadJson'
  | 'QuiltBadManifest'
  | 'QuiltBadPackageName'
  | 'QuiltBadPackagerMessage'
  | 'QuiltBadPhysicalKey'
  | 'QuiltBadPointer'
  | 'QuiltBadTopHash'
  | 'QuiltKeyConflict'
  | 'QuiltManifestLineTooLong'
  | 'QuiltManifestMissing'
  | 'QuiltPointerCollision'
  | 'QuiltBadEntry'
  | 'QuiltDuplicateKey'
  /** Reading or writing the package registry in S3 failed. */
  | 'QuiltRegistryRead'
  | 'QuiltRegistryWrite'
  /** Sending the Quilt packager message failed. */
  | 'QuiltPackagerQueue'
  // Sequencing partners
  | 'PartnerNotFound'
  | 'PartnerExists'
  /** The record changed between read and write (optimistic update lost). */
  | 'PartnerChanged'
  | 'PartnerSecretMissing'
  | 'PartnerSecretUnavailable'
  | 'PartnerSourceRefused'
  | 'PartnerTimeout'
  | 'PartnerBadPath'
  | 'PartnerDuplicatePath'
  | 'PartnerFileTooLarge'
  | 'PartnerHashMismatch'
  | 'PartnerSizeMismatch'
  | 'PartnerSizeUnknown'
  // Warehouse
  | 'WarehouseAccessDenied'
  | 'WarehouseError'
  | 'WarehouseQueryTimeout'
  | 'WarehouseSecretUnavailable'
  | 'WarehouseUnavailable'
  // The OpenAPI conformance checker and the Benchling simulator
  | 'OpenApiMismatch'
  | 'OpenApiSpecInvalid'
  | 'OpenApiSpecMissing'
  | 'OpenApiUnknownSchema'
  | 'SimInvalidEdit'
  | 'SimWebhookDelivery'
  | 'SimZipGeneration'
  | 'SimZipPlan';
