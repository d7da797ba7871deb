import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../errors.ts';
import { entryKey } from '../resources.ts';
import { epochSeconds } from './conditions.ts';
import { ExecutionNotFoundError } from './errors.ts';
import { type AttemptStart, beginAttempt, extendLease } from './execution-attempts.ts';
import { type ListByEntryOptions, type ListByStatusOptions, type ListRecentOptions, ExecutionQueries } from './execution-queries.ts';
import { type Change, ExecutionWriter, FINISHED_STATUSES, type PendingSteps, toExecutionError } from './execution-writer.ts';
import { type ExecutionError, type ExecutionEvent, type ExecutionRecord, type ExecutionStatus, MAX_EVENTS } from './types.ts';

export type { AttemptStart } from './execution-attempts.ts';
export { FINISHED_STATUSES, type PendingSteps, toExecutionError } from './execution-writer.ts';

export interface ExecutionStoreOptions {
  /** Document client over the executions table (built by `createAwsClients`). */
  doc: DynamoDBDocumentClient;
  /** Name of the executions table (`ResourceNames.executionsTable`). */
  tableName: string;
  /** Source of "now" for leases, timestamps and TTL checks. Default `() => new Date()`. */
  clock?: () => Date;
  /** Events kept per execution, newest last. Default MAX_EVENTS (50). */
  maxEvents?: number;
  /** Days a finished execution is kept before DynamoDB TTL removes it. Default 90. */
  finishedTtlDays?: number;
}

/** What a finish may record besides the status: how long processing took and what the job found. */
export interface Finishing {
  processingMs?: number;
  result?: unknown;
}

/**
 * Execution records: creation, the execution lease, checkpoints, retries and the finish.
 * Every write is a single conditional UpdateItem, so two workers (or a worker and ops) never
 * overwrite each other's state: whoever loses the condition gets LeaseHeldError/LeaseLostError.
 */
export class ExecutionStore {
  private readonly clock: () => Date;
  private readonly finishedTtlSeconds: number;
  private readonly writer: ExecutionWriter;
  private readonly queries: ExecutionQueries;

  constructor(o: ExecutionStoreOptions) {
    const maxEvents = o.maxEvents ?? MAX_EVENTS;
    if (!Number.isInteger(maxEvents) || maxEvents < 1)
      throw new ConfigError(`ExecutionStore option maxEvents must be a positive integer, got ${maxEvents}`);
    const ttlDays = o.finishedTtlDays ?? 90;
    if (!(ttlDays > 0)) throw new ConfigError(`ExecutionStore option finishedTtlDays must be > 0, got ${ttlDays}`);
    if (!o.tableName) throw new ConfigError('ExecutionStore option tableName is required');
    this.clock = o.clock ?? (() => new Date());
    this.finishedTtlSeconds = Math.round(ttlDays * 86_400);
    this.writer = new ExecutionWriter({ doc: o.doc, tableName: o.tableName, clock: this.clock, maxEvents });
    this.queries = new ExecutionQueries({
      doc: o.doc,
      tableName: o.tableName,
      clock: this.clock,
      normalise: (r) => this.writer.normalise(r),
    });
  }

  /** Stores a new record; a live record with the same id is an ExecutionExistsError (an expired one is replaced). */
  create(rec: ExecutionRecord): Promise<void> {
    return this.writer.create(rec);
  }

  /** The live record, or undefined (never written, or past its TTL). Strongly consistent. */
  get(id: string): Promise<ExecutionRecord | undefined> {
    return this.writer.get(id);
  }

  /**
   * Takes the execution lease (free, lapsed, or already ours) and starts attempt n+1; LeaseHeldError
   * while another worker's lease is live, `alreadyFinished: true` for a finished execution.
   */
  beginAttempt(id: string, o: { workerId: string; leaseMs: number; firstReceive?: boolean }): Promise<AttemptStart> {
    return beginAttempt(this.writer, id, o);
  }

  /** Pushes our lease to now + leaseMs (each SQS heartbeat). Returns the new expiry (epoch ms). */
  extendLease(id: string, workerId: string, leaseMs: number): Promise<number> {
    return extendLease(this.writer, id, workerId, leaseMs);
  }

  /**
   * Marks `step` as running now (event `StepStarted`). With `entryId`, also records the entry the
   * execution turned out to be for (a canvas button's job learns it from Benchling): it is then
   * listed by entry, and a redelivered message can still hand that entry on once it has finished.
   */
  async recordStepStart(
    id: string,
    workerId: string,
    step: string,
    o: { tenantId?: string; entryId?: string } = {},
  ): Promise<ExecutionRecord> {
    const entry =
      o.entryId !== undefined && o.tenantId !== undefined ? { entryId: o.entryId, entryKey: entryKey(o.tenantId, o.entryId) } : undefined;
    return this.writer.ownerChange(id, workerId, {
      action: 'recordStepStart',
      set: ['#step = :step', ...(entry ? ['entryId = :entryId', 'entryKey = :entryKey'] : [])],
      names: { '#step': 'step' },
      values: { ':step': step, ...(entry ? { ':entryId': entry.entryId, ':entryKey': entry.entryKey } : {}) },
      event: { type: 'StepStarted', step },
    });
  }

  /** Saves a finished step's output so a later attempt skips it (event `StepSucceeded`). */
  async checkpoint(id: string, workerId: string, step: string, output: unknown): Promise<ExecutionRecord> {
    return this.writer.ownerChange(id, workerId, {
      action: 'checkpoint',
      set: ['#outputs.#stepName = :output', '#step = :step'],
      names: { '#outputs': 'outputs', '#stepName': step, '#step': 'step' },
      values: { ':output': output ?? null, ':step': step },
      event: { type: 'StepSucceeded', step },
    });
  }

  /**
   * Writes what steps produced since the last write (their outputs and start/end events) in one
   * update; with `step`, that step is the one running now (operators see it while it runs).
   */
  async advance(id: string, workerId: string, pending: PendingSteps, step?: string): Promise<ExecutionRecord> {
    return this.writer.ownerChange(id, workerId, {
      action: 'advance',
      ...(step ? { set: ['#step = :step'], names: { '#step': 'step' }, values: { ':step': step } } : {}),
      pending,
    });
  }

  /**
   * A transient failure outlived in-process retries: keep RUNNING, remember the error, and
   * release the lease so the redelivered message (after `requeueDelaySeconds`) can resume.
   */
  async recordRetry(
    id: string,
    workerId: string,
    step: string,
    error: unknown,
    o: { requeueDelaySeconds?: number; pending?: PendingSteps } = {},
  ): Promise<ExecutionRecord> {
    const now = this.clock();
    const lastError = toExecutionError(step, error, now);
    const when = o.requeueDelaySeconds === undefined ? '' : `; retry in ${o.requeueDelaySeconds}s`;
    // When the message comes back, for operators and the partner events API ("next retry time").
    const next = o.requeueDelaySeconds === undefined ? undefined : new Date(now.getTime() + o.requeueDelaySeconds * 1000).toISOString();
    return this.writer.ownerChange(
      id,
      workerId,
      {
        action: 'recordRetry',
        set: ['lastError = :error', '#step = :step', ...(next ? ['nextAttemptAt = :next'] : [])],
        remove: ['leaseOwner', 'leaseExpiresAt'],
        names: { '#step': 'step' },
        values: { ':error': lastError, ':step': step, ...(next ? { ':next': next } : {}) },
        event: { type: 'StepFailed', step, detail: `${lastError.class}: ${lastError.message}${when}` },
        ...(o.pending ? { pending: o.pending } : {}),
      },
      now,
    );
  }

  /** `await-export` found the task still running: event `Requeued`, lease released until the delayed message returns. */
  async requeueForPoll(id: string, workerId: string, delaySeconds: number, pending?: PendingSteps): Promise<ExecutionRecord> {
    return this.writer.ownerChange(id, workerId, {
      action: 'requeueForPoll',
      remove: ['leaseOwner', 'leaseExpiresAt'],
      event: { type: 'Requeued', detail: `poll again in ${delaySeconds}s` },
      ...(pending ? { pending } : {}),
    });
  }

  /** RUNNING → SUCCEEDED by the lease owner. Idempotent when it already SUCCEEDED. */
  async succeed(id: string, workerId: string, summary?: string, pending?: PendingSteps, finishing?: Finishing): Promise<ExecutionRecord> {
    return this.finish(
      id,
      workerId,
      'SUCCEEDED',
      { type: 'Succeeded', ...(summary ? { detail: summary } : {}) },
      undefined,
      pending,
      finishing,
    );
  }

  /**
   * → FAILED with `error` as lastError. With a workerId only the lease owner may do it; with
   * `undefined` (DLQ handling, ops) it is forced on any unfinished execution. An execution that
   * already finished is returned unchanged: a late DLQ copy must not undo a success.
   */
  async fail(
    id: string,
    workerId: string | undefined,
    error: ExecutionError,
    pending?: PendingSteps,
    finishing?: Finishing,
  ): Promise<ExecutionRecord> {
    const event = { type: 'Failed', step: error.step, detail: `${error.class}: ${error.message}${workerId ? '' : ' (forced)'}` };
    return this.finish(id, workerId, 'FAILED', event, error, workerId ? pending : undefined, finishing);
  }

  /** QUEUED/RUNNING → SUPERSEDED (a newer trigger covers it). A finished execution is returned unchanged. */
  async supersede(id: string, reason: string): Promise<ExecutionRecord> {
    return this.finish(id, undefined, 'SUPERSEDED', { type: 'Superseded', detail: reason });
  }

  /**
   * FAILED → QUEUED (ops replay of a dead-lettered job): clears `finishedAt` and the TTL, keeps
   * `lastError`, `attempts` and step outputs so the worker resumes at the failed step. An
   * execution that is already QUEUED/RUNNING is returned unchanged (a rerun of an interrupted
   * replay); a SUCCEEDED/SUPERSEDED one too — the caller decides, nothing is undone.
   */
  async reopen(id: string, reason: string): Promise<ExecutionRecord> {
    const updated = await this.writer.change(id, this.clock(), {
      action: 'reopen',
      set: ['#status = :queued'],
      remove: ['finishedAt', 'expiresAt'],
      condition: '#status = :failed',
      names: { '#status': 'status' },
      values: { ':queued': 'QUEUED', ':failed': 'FAILED' },
      event: { type: 'Reopened', detail: reason },
    });
    if (updated) return updated;
    const current = await this.get(id);
    if (!current) throw new ExecutionNotFoundError(id);
    return current;
  }

  /** Executions of one entry, newest first by default. */
  listByEntry(tenantId: string, entryId: string, o: ListByEntryOptions = {}): Promise<ExecutionRecord[]> {
    return this.queries.listByEntry(tenantId, entryId, o);
  }

  /** Executions in one status, newest first, optionally created at or after `since`. */
  listByStatus(status: ExecutionStatus, o: ListByStatusOptions = {}): Promise<ExecutionRecord[]> {
    return this.queries.listByStatus(status, o);
  }

  /** Newest executions created at or after `since`, across statuses unless `status` is given. */
  listRecent(o: ListRecentOptions): Promise<ExecutionRecord[]> {
    return this.queries.listRecent(o);
  }

  private async finish(
    id: string,
    workerId: string | undefined,
    status: 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED',
    event: Omit<ExecutionEvent, 'at'>,
    error?: ExecutionError,
    pending?: PendingSteps,
    finishing: Finishing = {},
  ): Promise<ExecutionRecord> {
    const now = this.clock();
    const extra = [
      ...(finishing.processingMs !== undefined ? ['processingMs = :processingMs'] : []),
      ...(finishing.result !== undefined ? ['#result = :result'] : []),
    ];
    const change: Change = {
      action: status === 'SUCCEEDED' ? 'succeed' : status === 'FAILED' ? 'fail' : 'supersede',
      set: ['#status = :final', 'finishedAt = :nowIso', 'expiresAt = :expiresAt', ...(error ? ['lastError = :error'] : []), ...extra],
      remove: ['leaseOwner', 'leaseExpiresAt', 'nextAttemptAt'],
      condition: workerId ? 'leaseOwner = :worker AND #status = :running' : '#status IN (:queued, :running)',
      names: { '#status': 'status', ...(finishing.result !== undefined ? { '#result': 'result' } : {}) },
      values: {
        ...(finishing.processingMs !== undefined ? { ':processingMs': finishing.processingMs } : {}),
        ...(finishing.result !== undefined ? { ':result': finishing.result } : {}),
        ':final': status,
        ':expiresAt': epochSeconds(now) + this.finishedTtlSeconds,
        ':running': 'RUNNING',
        ...(workerId ? { ':worker': workerId } : { ':queued': 'QUEUED' }),
        ...(error ? { ':error': error } : {}),
      },
      event,
      ...(pending ? { pending } : {}),
    };
    const updated = await this.writer.change(id, now, change);
    if (updated) return updated;
    const current = await this.get(id);
    if (!current) throw new ExecutionNotFoundError(id);
    // A retried request whose first try landed, or a forced change that lost to a real finish.
    if (current.status === status || (!workerId && FINISHED_STATUSES.has(current.status))) return current;
    throw this.writer.leaseLostFrom(id, workerId ?? 'ops', change.action, current);
  }
}
