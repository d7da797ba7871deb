import type { JobKind, Trigger } from '../jobs.ts';
import type { PartnerEventType, PartnerJobKind } from '../partners/event.ts';
import { entryKey } from '../resources.ts';

export const EXECUTION_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUPERSEDED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Why an execution failed (or why its last attempt did). */
export interface ExecutionError {
  step: string;
  /** Error class/code, e.g. `BenchlingNotFound`, `ZipTraversal`. */
  class: string;
  message: string;
  retryable: boolean;
  at: string;
}

/** One line of the bounded history, like a Step Functions history event. */
export interface ExecutionEvent {
  at: string;
  /** e.g. `Queued`, `AttemptStarted`, `StepSucceeded`, `StepFailed`, `Requeued`, `Succeeded`, `Failed`, `LeaseLost`. */
  type: string;
  step?: string;
  attempt?: number;
  detail?: string;
}

/** Item of the executions table. Keys: executionId; GSIs byEntry (entryKey, createdAt), byStatus (status, createdAt). */
export interface ExecutionRecord {
  executionId: string;
  /** Benchling tenant; `partner:<partnerId>` for a partner event (see partnerTenantId). */
  tenantId: string;
  kind: JobKind | PartnerJobKind;
  /**
   * `tenantId#entryId`; `tenantId#-` when the job has no entry (e.g. lifecycle). A partner
   * event's is `partner:<partnerId>#-`, so the byEntry index lists a partner's events by time.
   */
  entryKey: string;
  entryId?: string;
  canvasId?: string;
  status: ExecutionStatus;
  /** The step running now, or the last one that ran. */
  step?: string;
  /** Times a worker started (or resumed) this execution. */
  attempts: number;
  trigger: Trigger;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Worker id holding the execution lease, and until when (epoch ms). */
  leaseOwner?: string;
  leaseExpiresAt?: number;
  lastError?: ExecutionError;
  /** Checkpointed output of each finished step, keyed by step name (the worker's step declarations name them). */
  outputs: Record<string, unknown>;
  /** Most recent events, oldest first, at most MAX_EVENTS. */
  events: ExecutionEvent[];
  /** TTL (epoch seconds) for finished executions; absent while live. */
  expiresAt?: number;
  /** Partner events only: who sent it, its type and the run it is about. */
  partnerId?: string;
  eventType?: PartnerEventType;
  runId?: string;
  /** ISO time a retried attempt's message comes back (set by recordRetry with a delay; cleared when an attempt starts or it finishes). */
  nextAttemptAt?: string;
  /** Milliseconds from the first attempt's start to the finish (set when it finishes with `finishing.processingMs`). */
  processingMs?: number;
  /** What the job found, for jobs whose answer is not a package (e.g. a partner event's verification). */
  result?: unknown;
}

/** The tenant id a partner's events are recorded under; `partnerTenantId(p)#-` is their entryKey. */
export function partnerTenantId(partnerId: string): string {
  return `partner:${partnerId}`;
}

export const MAX_EVENTS = 50;

/** The QUEUED record the ingress writes in the same transaction as the dedupe record. */
export function newQueuedExecution(o: {
  executionId: string;
  tenantId: string;
  kind: JobKind | PartnerJobKind;
  entryId?: string;
  canvasId?: string;
  trigger: Trigger;
  now: Date;
  partner?: { partnerId: string; eventType: PartnerEventType; runId: string };
}): ExecutionRecord {
  const at = o.now.toISOString();
  return {
    executionId: o.executionId,
    tenantId: o.tenantId,
    kind: o.kind,
    entryKey: entryKey(o.tenantId, o.entryId ?? '-'),
    ...(o.entryId ? { entryId: o.entryId } : {}),
    ...(o.canvasId ? { canvasId: o.canvasId } : {}),
    ...(o.partner ?? {}),
    status: 'QUEUED',
    attempts: 0,
    trigger: o.trigger,
    createdAt: at,
    updatedAt: at,
    outputs: {},
    events: [{ at, type: 'Queued', detail: o.trigger.type }],
  };
}

/** Execution ids are sortable by time and unique: `ex_<ms base36>_<random>`. */
export function newExecutionId(now: Date = new Date()): string {
  const rand = globalThis.crypto.randomUUID().replace(/-/g, '').slice(0, 16);
  return `ex_${now.getTime().toString(36)}_${rand}`;
}
