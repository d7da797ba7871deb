import type { ExecutionRecord, Logger } from '@bp/shared';
import type { PartnerJobMessage } from '@bp/shared/partners/event';
import type { WorkerDeps } from '../context.ts';
import type { ObjectWriter } from './object-writer.ts';

/** What one partner step sees: the job, the checkpointed outputs so far, and where the run's package lives. */
export interface PartnerStepContext {
  job: PartnerJobMessage;
  execution: ExecutionRecord;
  /** Outputs of the steps that already ran (this attempt or an earlier one), by step name. */
  outputs: Record<string, unknown>;
  deps: WorkerDeps;
  writer: ObjectWriter;
  log: Logger;
  /** Aborted on shutdown, lease loss or the partner's per-attempt timeout. */
  signal: AbortSignal;
  /** `<namespace>/<run>`. */
  packageName: string;
  /** The S3 key prefix of the package's files: `<packageName>/`. */
  prefix: string;
}

/** One named, checkpointed step of a partner job; its output must be JSON (it is stored in the execution record). */
export interface PartnerStep {
  name: string;
  run(ctx: PartnerStepContext): Promise<unknown>;
}

/** Limits of a run file transfer. */
export const RUN_FILE_LIMITS = {
  /** Most bytes one run file may have (S3's object limit is 5 TiB; 1 TiB keeps the chunked hash at ≤ 128 MiB chunks). */
  maxFileBytes: 1024 ** 4,
  /** Milliseconds without a byte before a download counts as stalled (and is resumed by Range). */
  stallTimeoutMs: 60_000,
};
