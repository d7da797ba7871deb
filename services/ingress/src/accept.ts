import { type AttributeValue, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type ExecutionRecord, type JobMessage, type Logger, newExecutionId, newQueuedExecution, type ResourceNames } from '@bp/shared';
import type { PartnerJobMessage } from '@bp/shared/partners/event';
import { enqueue, markEnqueued, unavailable } from './enqueue-job.ts';
import { type DedupeRecord, readDedupeRecord } from '@bp/shared/dedupe';

/*
 * The accept protocol: turn one webhook delivery into exactly one durably enqueued job, and
 * never answer 2xx before the job is on the queue. Keyed by `webhook-id` (stable across
 * Benchling's resends), or for an entry event by its `message.id` (see dedupeKeyFor), and
 * remembered for `ttlDays` (SQS FIFO dedupe only covers 5 minutes).
 *
 *  1. ONE TransactWriteItems: put dedupe {webhookId, executionId, state PENDING, pendingUntil,
 *     expiresAt} if absent or expired, AND put the QUEUED execution record. Both or neither.
 *  2. SendMessage (the job, carrying the executionId).          → 202 {executionId}
 *  3. Mark the dedupe record ENQUEUED, after the answer: the job is on the queue once step 2
 *     succeeds, so the mark only turns later deliveries' 409 into 200 and need not cost the
 *     sender a round trip. Marks in flight are kept in `PendingMarks`: a delivery for the same
 *     key waits for its mark first (so a quick resend to this process gets its 200), and the
 *     process drains them before it exits.
 *
 * A delivery that finds the record:
 *  - ENQUEUED                     → 200 with the original executionId (duplicate).
 *  - PENDING, pendingUntil ahead  → another request is between steps 1 and 3 and may still
 *                                   fail: no 2xx (it would be final); 409 + Retry-After.
 *  - PENDING, pendingUntil passed → the request that wrote it crashed. Take it over with the
 *                                   SAME executionId (conditional on the old id and expiry):
 *                                   if the execution is still QUEUED the job may or may not be
 *                                   on the queue, so send it (again: at worst the worker sees
 *                                   one execution twice, like an SQS redelivery); if a worker
 *                                   already moved it past QUEUED, it was enqueued → duplicate.
 *  - expiresAt passed             → absent (DynamoDB Local never deletes TTL items and real
 *                                   DynamoDB deletes them late).
 *
 * Failures:
 *  - Step 1 fails (DynamoDB down or slow): nothing was written → 503.
 *  - Step 2 fails for sure (SQS answered with an error, or no connection could be made):
 *    delete both items (conditional on our executionId still PENDING / QUEUED) → 503 and
 *    nothing left behind, so Benchling's retry starts clean.
 *  - Step 2 fails ambiguously (timeout, connection lost mid-request: SQS may have enqueued),
 *    or fails after a takeover (the records predate us and may back a message already sent):
 *    keep both items and expire the PENDING at once → 503; the retry takes over with the same
 *    executionId and re-sends. The worker may then see one execution twice, never zero times
 *    and never as two executions. If the clean-up itself fails, the PENDING simply expires
 *    after `pendingMs` and the retry takes over.
 *  - Step 3 fails: the job is enqueued, so still 202. The record stays PENDING until
 *    `pendingUntil`, then the takeover rule resolves it (to "duplicate" once a worker ran it).
 *  - Crash between any steps: covered by the PENDING expiry and takeover.
 * `pendingMs` must exceed the longest from step 1 to the end of step 3 (the request's budget plus
 * `finishTimeoutMs`).
 */

export interface AcceptDeps {
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  names: Pick<ResourceNames, 'dedupeTable' | 'executionsTable' | 'jobsQueueUrl'>;
  /** Epoch-millisecond clock. Default `Date.now`. */
  now?: () => number;
  /** Receives clean-up failures; should carry the webhookId already. Default: not logged. */
  logger?: Logger;
  /** Where step 3's marks wait while in flight (see above). Default: none are tracked. */
  marks?: PendingMarks;
}

/** Dedupe marks (step 3) still in flight after their delivery was answered, by dedupe key. */
export class PendingMarks {
  private readonly byKey = new Map<string, Promise<void>>();

  add(key: string, mark: Promise<void>): void {
    this.byKey.set(key, mark);
    void mark.finally(() => {
      if (this.byKey.get(key) === mark) this.byKey.delete(key);
    });
  }

  /** Resolves once the mark in flight for `key`, if any, is written or given up (marks never reject). */
  settled(key: string): Promise<void> {
    return this.byKey.get(key) ?? Promise.resolve();
  }

  /** Resolves once every mark in flight now is written or given up. */
  async drain(): Promise<void> {
    await Promise.all(this.byKey.values());
  }

  get size(): number {
    return this.byKey.size;
  }
}

export interface AcceptOptions {
  /** Days a webhook id is remembered. Default 7. */
  ttlDays?: number;
  /** Milliseconds a PENDING record protects an enqueue in progress. Default 30_000. */
  pendingMs?: number;
  /** Milliseconds for the step after SendMessage (ENQUEUED mark or clean-up). Default 500. */
  finishTimeoutMs?: number;
  /** Aborts the transaction and SendMessage when the caller's time budget runs out. */
  signal?: AbortSignal;
}

export interface AcceptRequest {
  /** The delivery's dedupe key (stored as the record's `webhookId`): see dedupeKeyFor. */
  webhookId: string;
  /** The job to enqueue; the executionId is assigned here. */
  job: Omit<JobMessage, 'executionId'> | Omit<PartnerJobMessage, 'executionId'>;
  /**
   * The QUEUED execution record written with the dedupe record. Default: built from a Benchling
   * job's fields; a partner event passes its own (kind `partner.<type>`, partnerId, runId…).
   */
  newExecution?: (executionId: string, at: Date) => ExecutionRecord;
}

export type AcceptResult =
  /** `recorded`: step 3, resolved once the record is marked ENQUEUED or the mark was given up (logged); never rejects. */
  | { outcome: 'accepted'; executionId: string; tookOver: boolean; recorded: Promise<void> }
  | { outcome: 'duplicate'; executionId: string }
  | { outcome: 'in_progress'; executionId?: string; retryAfterSeconds: number };

const MAX_ROUNDS = 3;

/** Condition on the execution record: no worker has picked it up yet (it may still be unsent). */
export const EXECUTION_STILL_QUEUED = {
  ConditionExpression: '#status = :queued',
  ExpressionAttributeNames: { '#status': 'status' },
  ExpressionAttributeValues: { ':queued': 'QUEUED' },
};

/** Runs the accept protocol above for one delivery. Throws AcceptUnavailableError → 503. */
export async function acceptWebhook(deps: AcceptDeps, req: AcceptRequest, opts: AcceptOptions = {}): Promise<AcceptResult> {
  const now = deps.now ?? Date.now;
  const ttlDays = opts.ttlDays ?? 7;
  const pendingMs = opts.pendingMs ?? 30_000;
  const { dedupeTable, executionsTable } = deps.names;
  await deps.marks?.settled(req.webhookId);

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const at = now();
    const nowSec = Math.floor(at / 1000);
    const executionId = newExecutionId(new Date(at));
    const execution = req.newExecution
      ? req.newExecution(executionId, new Date(at))
      : benchlingExecution(req.job as Omit<JobMessage, 'executionId'>, executionId, new Date(at));
    const record: DedupeRecord = {
      webhookId: req.webhookId,
      executionId,
      state: 'PENDING',
      pendingUntil: at + pendingMs,
      expiresAt: nowSec + ttlDays * 86_400,
      createdAt: new Date(at).toISOString(),
    };
    let existing: DedupeRecord | undefined;
    let created = false;
    try {
      await deps.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: dedupeTable,
                Item: record,
                ConditionExpression: 'attribute_not_exists(webhookId) OR expiresAt < :nowSec',
                ExpressionAttributeValues: { ':nowSec': nowSec },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Put: { TableName: executionsTable, Item: execution, ConditionExpression: 'attribute_not_exists(executionId)' } },
          ],
        }),
        { abortSignal: opts.signal },
      );
      created = true;
    } catch (err) {
      if (!isCancelled(err)) throw unavailable('DedupeUnavailable', 'dedupe transaction failed', err);
      existing =
        dedupeFromAttributes(cancellationItem(err, 0)) ?? (await readDedupeRecord(deps.doc, dedupeTable, req.webhookId, opts.signal));
    }
    if (created) return enqueue(deps, req, executionId, { created: true, ...opts });
    if (!existing || existing.expiresAt < nowSec) continue; // rolled back or expired meanwhile: try afresh
    if (existing.state === 'ENQUEUED') return { outcome: 'duplicate', executionId: existing.executionId };
    if ((existing.pendingUntil ?? 0) >= at) {
      const retryAfterSeconds = Math.min(30, Math.max(1, Math.ceil(((existing.pendingUntil ?? at) - at) / 1000)));
      return { outcome: 'in_progress', executionId: existing.executionId, retryAfterSeconds };
    }
    const takeover = await takeOver(deps, req, existing.executionId, at, pendingMs, opts);
    if (takeover === 'lost') continue;
    if (takeover === 'already_running') return { outcome: 'duplicate', executionId: existing.executionId };
    return await enqueue(deps, req, existing.executionId, { created: false, ...opts });
  }
  return { outcome: 'in_progress', retryAfterSeconds: 1 };
}

/**
 * Claims an expired PENDING record for a new attempt with the same executionId. `lost`: someone
 * else changed the record first; `already_running`: a worker has the execution, so it was enqueued.
 */
async function takeOver(
  deps: AcceptDeps,
  req: AcceptRequest,
  executionId: string,
  at: number,
  pendingMs: number,
  opts: AcceptOptions,
): Promise<'claimed' | 'lost' | 'already_running'> {
  try {
    await deps.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: deps.names.dedupeTable,
              Key: { webhookId: req.webhookId },
              UpdateExpression: 'SET pendingUntil = :until',
              ConditionExpression: 'executionId = :id AND #state = :pending AND pendingUntil < :now',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':until': at + pendingMs, ':id': executionId, ':pending': 'PENDING', ':now': at },
            },
          },
          {
            ConditionCheck: {
              TableName: deps.names.executionsTable,
              Key: { executionId },
              ...EXECUTION_STILL_QUEUED,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
      { abortSignal: opts.signal },
    );
    return 'claimed';
  } catch (err) {
    if (!isCancelled(err)) throw unavailable('DedupeUnavailable', 'dedupe takeover failed', err);
    const dedupeFailed = cancellationCode(err, 0) !== 'None';
    const execution = cancellationItem(err, 1);
    if (dedupeFailed || execution === undefined) return 'lost';
    await markEnqueued(deps, req.webhookId, executionId, opts.finishTimeoutMs ?? 500);
    return 'already_running';
  }
}

function isCancelled(err: unknown): boolean {
  return err instanceof TransactionCanceledException;
}

type RawReason = { Code?: string; Item?: Record<string, AttributeValue> };

function cancellationReason(err: unknown, index: number): RawReason | undefined {
  return (err as { CancellationReasons?: RawReason[] }).CancellationReasons?.[index];
}

function cancellationCode(err: unknown, index: number): string {
  return cancellationReason(err, index)?.Code ?? 'Unknown';
}

/** The old item a failed condition returned (raw attribute values: errors are not unmarshalled). */
function cancellationItem(err: unknown, index: number): RawReason['Item'] {
  return cancellationReason(err, index)?.Item;
}

/** The old dedupe record a cancelled transaction returned (errors carry raw attribute values). */
function dedupeFromAttributes(item: RawReason['Item']): DedupeRecord | undefined {
  if (!item) return undefined;
  const r = unmarshall(item) as Partial<DedupeRecord>;
  if (!r.webhookId || !r.executionId) return undefined;
  return {
    webhookId: r.webhookId,
    executionId: r.executionId,
    state: r.state === 'ENQUEUED' ? 'ENQUEUED' : 'PENDING',
    ...(r.pendingUntil !== undefined ? { pendingUntil: Number(r.pendingUntil) } : {}),
    expiresAt: Number(r.expiresAt ?? Number.MAX_SAFE_INTEGER),
    createdAt: r.createdAt ?? '',
  };
}

export { sendMayHaveSucceeded } from './enqueue-job.ts';

function benchlingExecution(job: Omit<JobMessage, 'executionId'>, executionId: string, now: Date): ExecutionRecord {
  return newQueuedExecution({
    executionId,
    tenantId: job.tenantId,
    kind: job.kind,
    entryId: job.entryId,
    canvasId: job.canvasId,
    trigger: job.trigger,
    now,
  });
}
