import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ConfigError, TransientError, describeError } from '../errors.ts';
import { entryKey } from '../resources.ts';
import { trimToNewest, newestEvents } from './bounded-events.ts';
import { LIVE_ITEM, epochSeconds, isConditionFailed, isExpired } from './conditions.ts';
import { ExecutionExistsError, ExecutionNotFoundError, LeaseHeldError, LeaseLostError } from './errors.ts';
import { type ListByEntryOptions, type ListByStatusOptions, type ListRecentOptions, ExecutionQueries } from './execution-queries.ts';
import { type ExecutionError, type ExecutionEvent, type ExecutionRecord, type ExecutionStatus, MAX_EVENTS } from './types.ts';

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

/** What `beginAttempt` hands the worker: the record, and whether there is nothing left to do. */
export interface AttemptStart {
  /** The record after the attempt started (with `outputs` to resume from), or as found when finished. */
  record: ExecutionRecord;
  /** True when the execution already SUCCEEDED/FAILED/SUPERSEDED: delete the message, do nothing. */
  alreadyFinished: boolean;
}

export const FINISHED_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'SUPERSEDED']);

/** What a finish may record besides the status: how long processing took and what the job found. */
export interface Finishing {
  processingMs?: number;
  result?: unknown;
}

/** How many times `beginAttempt` re-reads after losing a race it could still win. */
const BEGIN_ATTEMPT_TRIES = 5;

/**
 * Step results a worker has not written yet: outputs of steps that finished, and the events that
 * tell when they started and ended (each with its own time). They travel with the next write, so
 * a step costs no write of its own unless it must be durable before the run goes on.
 */
export interface PendingSteps {
  outputs: Record<string, unknown>;
  events: ExecutionEvent[];
}

/**
 * One conditional state change; every one also bumps `updatedAt` and appends its events (the
 * pending ones first, then its own).
 */
interface Change {
  action: string;
  set?: string[];
  remove?: string[];
  condition: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  event?: Omit<ExecutionEvent, 'at'>;
  pending?: PendingSteps;
}

/**
 * Execution records: creation, the execution lease, checkpoints, retries and the finish.
 * Every write is a single conditional UpdateItem, so two workers (or a worker and ops) never
 * overwrite each other's state: whoever loses the condition gets LeaseHeldError/LeaseLostError.
 */
export class ExecutionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: () => Date;
  private readonly maxEvents: number;
  private readonly finishedTtlSeconds: number;
  private readonly queries: ExecutionQueries;

  constructor(o: ExecutionStoreOptions) {
    const maxEvents = o.maxEvents ?? MAX_EVENTS;
    if (!Number.isInteger(maxEvents) || maxEvents < 1)
      throw new ConfigError(`ExecutionStore option maxEvents must be a positive integer, got ${maxEvents}`);
    const ttlDays = o.finishedTtlDays ?? 90;
    if (!(ttlDays > 0)) throw new ConfigError(`ExecutionStore option finishedTtlDays must be > 0, got ${ttlDays}`);
    if (!o.tableName) throw new ConfigError('ExecutionStore option tableName is required');
    this.doc = o.doc;
    this.tableName = o.tableName;
    this.clock = o.clock ?? (() => new Date());
    this.maxEvents = maxEvents;
    this.finishedTtlSeconds = Math.round(ttlDays * 86_400);
    this.queries = new ExecutionQueries({ doc: o.doc, tableName: o.tableName, clock: this.clock, normalise: (r) => this.normalise(r) });
  }

  /** Stores a new record; a live record with the same id is an ExecutionExistsError (an expired one is replaced). */
  async create(rec: ExecutionRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...rec, events: newestEvents(rec.events, this.maxEvents) },
          ConditionExpression: 'attribute_not_exists(executionId) OR expiresAt <= :nowSec',
          ExpressionAttributeValues: { ':nowSec': epochSeconds(this.clock()) },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ExecutionExistsError(rec.executionId);
      throw err;
    }
  }

  /** The live record, or undefined (never written, or past its TTL). Strongly consistent. */
  async get(id: string): Promise<ExecutionRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { executionId: id }, ConsistentRead: true }));
    const item = res.Item as ExecutionRecord | undefined;
    if (!item || isExpired(item, this.clock())) return undefined;
    return this.normalise(item);
  }

  /**
   * Takes the execution lease (free, lapsed, or already ours) and starts attempt n+1.
   * Throws LeaseHeldError while another worker's lease is live; returns `alreadyFinished: true`
   * for a finished execution. The record carries `outputs`, so the worker resumes at the
   * first step without one (`firstPendingStep`).
   */
  async beginAttempt(id: string, o: { workerId: string; leaseMs: number; firstReceive?: boolean }): Promise<AttemptStart> {
    assertPositive('leaseMs', o.leaseMs);
    if (o.firstReceive) {
      // A message's first receive almost always finds its execution as the ingress left it
      // (QUEUED, no attempt, no lease): try that in one write, and read only if it was not so.
      const fresh = await this.startFirstAttempt(id, o.workerId, o.leaseMs);
      if (fresh) return { record: fresh, alreadyFinished: false };
    }
    for (let tries = 0; tries < BEGIN_ATTEMPT_TRIES; tries++) {
      const current = await this.get(id);
      if (!current) throw new ExecutionNotFoundError(id);
      if (FINISHED_STATUSES.has(current.status)) return { record: current, alreadyFinished: true };
      const now = this.clock();
      if (current.leaseOwner && current.leaseOwner !== o.workerId && (current.leaseExpiresAt ?? 0) > now.getTime()) {
        throw new LeaseHeldError({
          executionId: id,
          owner: current.leaseOwner,
          leaseExpiresAt: current.leaseExpiresAt ?? 0,
          now: now.getTime(),
        });
      }
      const attempt = current.attempts + 1;
      const takeover =
        current.leaseOwner && current.leaseOwner !== o.workerId ? ` (took over from ${current.leaseOwner}, lease lapsed)` : '';
      // `attempts = :prev` makes the attempt number in the event exact: a racer that got in
      // first fails this condition and the loop re-reads.
      const updated = await this.change(id, now, {
        action: 'beginAttempt',
        set: [
          '#status = :running',
          'leaseOwner = :worker',
          'leaseExpiresAt = :until',
          'attempts = :attempt',
          'startedAt = if_not_exists(startedAt, :nowIso)',
        ],
        remove: ['nextAttemptAt'],
        condition:
          'attempts = :prev AND #status IN (:queued, :running) AND ' +
          '(attribute_not_exists(leaseOwner) OR leaseOwner = :worker OR leaseExpiresAt <= :nowMs)',
        names: { '#status': 'status' },
        values: {
          ':running': 'RUNNING',
          ':queued': 'QUEUED',
          ':worker': o.workerId,
          ':until': now.getTime() + o.leaseMs,
          ':attempt': attempt,
          ':prev': current.attempts,
          ':nowMs': now.getTime(),
        },
        event: {
          type: 'AttemptStarted',
          attempt,
          ...(current.step ? { step: current.step } : {}),
          detail: `worker ${o.workerId}${takeover}`,
        },
      });
      if (updated) return { record: updated, alreadyFinished: false };
    }
    throw new TransientError(`execution ${id}: lease still contended after ${BEGIN_ATTEMPT_TRIES} tries`, {
      code: 'LeaseContended',
      details: { executionId: id },
    });
  }

  /** Attempt 1 of a QUEUED execution nobody has started; undefined when it is not in that state. */
  private startFirstAttempt(id: string, workerId: string, leaseMs: number): Promise<ExecutionRecord | undefined> {
    const now = this.clock();
    return this.change(id, now, {
      action: 'beginAttempt',
      set: [
        '#status = :running',
        'leaseOwner = :worker',
        'leaseExpiresAt = :until',
        'attempts = :attempt',
        'startedAt = if_not_exists(startedAt, :nowIso)',
      ],
      condition: 'attempts = :prev AND #status = :queued AND attribute_not_exists(leaseOwner)',
      names: { '#status': 'status' },
      values: {
        ':running': 'RUNNING',
        ':queued': 'QUEUED',
        ':worker': workerId,
        ':until': now.getTime() + leaseMs,
        ':attempt': 1,
        ':prev': 0,
      },
      event: { type: 'AttemptStarted', attempt: 1, detail: `worker ${workerId}` },
    });
  }

  /** Pushes our lease to now + leaseMs (each SQS heartbeat). Returns the new expiry (epoch ms). */
  async extendLease(id: string, workerId: string, leaseMs: number): Promise<number> {
    assertPositive('leaseMs', leaseMs);
    const until = this.clock().getTime() + leaseMs;
    try {
      // No event and no updatedAt: heartbeats are not history.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { executionId: id },
          UpdateExpression: 'SET leaseExpiresAt = :until',
          ConditionExpression: 'leaseOwner = :worker AND #status = :running',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':until': until, ':worker': workerId, ':running': 'RUNNING' },
        }),
      );
      return until;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw await this.leaseLost(id, workerId, 'extendLease');
    }
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
    return this.ownerChange(id, workerId, {
      action: 'recordStepStart',
      set: ['#step = :step', ...(entry ? ['entryId = :entryId', 'entryKey = :entryKey'] : [])],
      names: { '#step': 'step' },
      values: { ':step': step, ...(entry ? { ':entryId': entry.entryId, ':entryKey': entry.entryKey } : {}) },
      event: { type: 'StepStarted', step },
    });
  }

  /** Saves a finished step's output so a later attempt skips it (event `StepSucceeded`). */
  async checkpoint(id: string, workerId: string, step: string, output: unknown): Promise<ExecutionRecord> {
    return this.ownerChange(id, workerId, {
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
    return this.ownerChange(id, workerId, {
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
    return this.ownerChange(
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
    return this.ownerChange(id, workerId, {
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
    const updated = await this.change(id, this.clock(), {
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
    const updated = await this.change(id, now, change);
    if (updated) return updated;
    const current = await this.get(id);
    if (!current) throw new ExecutionNotFoundError(id);
    // A retried request whose first try landed, or a forced change that lost to a real finish.
    if (current.status === status || (!workerId && FINISHED_STATUSES.has(current.status))) return current;
    throw this.leaseLostFrom(id, workerId ?? 'ops', change.action, current);
  }

  /** A change only the current lease owner of a RUNNING execution may make. */
  private async ownerChange(
    id: string,
    workerId: string,
    c: Omit<Change, 'condition'>,
    now: Date = this.clock(),
  ): Promise<ExecutionRecord> {
    const updated = await this.change(id, now, {
      ...c,
      condition: 'leaseOwner = :worker AND #status = :running',
      names: { ...c.names, '#status': 'status' },
      values: { ...c.values, ':worker': workerId, ':running': 'RUNNING' },
    });
    if (updated) return updated;
    throw await this.leaseLost(id, workerId, c.action);
  }

  /** Applies one conditional change; undefined when the condition did not hold. */
  private async change(id: string, now: Date, c: Change): Promise<ExecutionRecord | undefined> {
    const outputs = Object.entries(c.pending?.outputs ?? {});
    const outputNames = Object.fromEntries(outputs.map(([name], i) => [`#out${i}`, name]));
    const outputValues = Object.fromEntries(outputs.map(([, value], i) => [`:out${i}`, value ?? null]));
    const set = [
      ...(c.set ?? []),
      ...outputs.map((_, i) => `#outputs.#out${i} = :out${i}`),
      'updatedAt = :nowIso',
      '#events = list_append(if_not_exists(#events, :emptyList), :event)',
    ];
    const events: ExecutionEvent[] = [...(c.pending?.events ?? []), ...(c.event ? [{ at: now.toISOString(), ...c.event }] : [])];
    let res: UpdateCommandOutput;
    try {
      res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { executionId: id },
          UpdateExpression: `SET ${set.join(', ')}${c.remove?.length ? ` REMOVE ${c.remove.join(', ')}` : ''}`,
          ConditionExpression: `attribute_exists(executionId) AND ${LIVE_ITEM} AND (${c.condition})`,
          ExpressionAttributeNames: {
            ...c.names,
            ...outputNames,
            ...(outputs.length ? { '#outputs': 'outputs' } : {}),
            '#events': 'events',
          },
          ExpressionAttributeValues: {
            ...c.values,
            ...outputValues,
            ':nowIso': now.toISOString(),
            ':nowSec': epochSeconds(now),
            ':event': events,
            ':emptyList': [],
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
    const rec = res.Attributes as ExecutionRecord;
    const trimmed = await trimToNewest(this.doc, {
      tableName: this.tableName,
      key: { executionId: id },
      attribute: 'events',
      observedSize: rec.events.length,
      max: this.maxEvents,
    });
    return this.normalise((trimmed as ExecutionRecord | undefined) ?? rec);
  }

  private async leaseLost(id: string, workerId: string, action: string): Promise<Error> {
    const current = await this.get(id);
    if (!current) return new ExecutionNotFoundError(id);
    return this.leaseLostFrom(id, workerId, action, current);
  }

  private leaseLostFrom(id: string, workerId: string, action: string, current: ExecutionRecord): LeaseLostError {
    return new LeaseLostError({
      lease: 'execution',
      id,
      workerId,
      action,
      status: current.status,
      ...(current.leaseOwner ? { owner: current.leaseOwner } : {}),
      ...(current.leaseExpiresAt !== undefined ? { leaseExpiresAt: current.leaseExpiresAt } : {}),
    });
  }

  private normalise(rec: ExecutionRecord): ExecutionRecord {
    return { ...rec, outputs: rec.outputs ?? {}, events: newestEvents(rec.events, this.maxEvents) };
  }
}

/** Accepts an ExecutionError (or any `{ class, message }` object) as is, or describes any thrown value as one. */
export function toExecutionError(step: string, error: unknown, now: Date): ExecutionError {
  if (typeof error === 'object' && error !== null && !(error instanceof Error)) {
    const r = error as Partial<ExecutionError>;
    if (typeof r.class === 'string' && typeof r.message === 'string') {
      return { step: r.step ?? step, class: r.class, message: r.message, retryable: r.retryable ?? true, at: r.at ?? now.toISOString() };
    }
  }
  return { step, ...describeError(error), at: now.toISOString() };
}

function assertPositive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} must be a positive number of milliseconds, got ${v}`);
}
