import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { trimToNewest, newestEvents } from './bounded-events.ts';
import { LIVE_ITEM, epochSeconds, isConditionFailed, isExpired } from './conditions.ts';
import { ExecutionExistsError, ExecutionNotFoundError, LeaseLostError } from './errors.ts';
import { describeError } from '../errors.ts';
import type { ExecutionError, ExecutionEvent, ExecutionRecord, ExecutionStatus } from './types.ts';

export const FINISHED_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'SUPERSEDED']);

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
export interface Change {
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
 * How every change to an execution record is written: one conditional UpdateItem that also
 * appends its events and keeps the newest `maxEvents`, and the LeaseLostError a lost condition
 * means. ExecutionStore and the attempt functions say what to change; this says how.
 */
export class ExecutionWriter {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: () => Date;
  private readonly maxEvents: number;

  constructor(o: { doc: DynamoDBDocumentClient; tableName: string; clock: () => Date; maxEvents: number }) {
    this.doc = o.doc;
    this.tableName = o.tableName;
    this.clock = o.clock;
    this.maxEvents = o.maxEvents;
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

  /** A change only the current lease owner of a RUNNING execution may make. */
  async ownerChange(id: string, workerId: string, c: Omit<Change, 'condition'>, now: Date = this.clock()): Promise<ExecutionRecord> {
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
  async change(id: string, now: Date, c: Change): Promise<ExecutionRecord | undefined> {
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

  async leaseLost(id: string, workerId: string, action: string): Promise<Error> {
    const current = await this.get(id);
    if (!current) return new ExecutionNotFoundError(id);
    return this.leaseLostFrom(id, workerId, action, current);
  }

  leaseLostFrom(id: string, workerId: string, action: string, current: ExecutionRecord): LeaseLostError {
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

  normalise(rec: ExecutionRecord): ExecutionRecord {
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
