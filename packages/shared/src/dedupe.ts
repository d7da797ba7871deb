import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { awsMayHaveSucceeded } from './aws-errors.ts';
import { TransientError } from './errors.ts';
import { newExecutionId, newQueuedExecution } from './executions/types.ts';
import { type JobMessage, serializeJobMessage } from './jobs.ts';
import type { Logger } from './logger.ts';
import type { ResourceNames } from './resources.ts';

/*
 * The accept protocol: turn one webhook delivery into exactly one durably enqueued job, and
 * never answer 2xx before the job is on the queue. Keyed by `webhook-id` (stable across
 * Benchling's resends), or for an entry event by its `message.id` (see dedupeKeyFor), and
 * remembered for `ttlDays` (SQS FIFO dedupe only covers 5 minutes).
 *
 *  1. ONE TransactWriteItems: put dedupe {webhookId, executionId, state PENDING, pendingUntil,
 *     expiresAt} if absent or expired, AND put the QUEUED execution record. Both or neither.
 *  2. SendMessage (the job, carrying the executionId).
 *  3. Mark the dedupe record ENQUEUED.          → 202 {executionId}
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
 * `pendingMs` must exceed the longest a request can spend between steps 1 and 3 (its budget).
 */

export type DedupeState = 'PENDING' | 'ENQUEUED';

/** Item of the dedupe table. */
export interface DedupeRecord {
  webhookId: string;
  executionId: string;
  state: DedupeState;
  /** Epoch ms until which a PENDING record belongs to the request that wrote it. */
  pendingUntil?: number;
  /** TTL, epoch seconds. */
  expiresAt: number;
  createdAt: string;
}

export interface AcceptDeps {
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  names: Pick<ResourceNames, 'dedupeTable' | 'executionsTable' | 'jobsQueueUrl'>;
  /** Epoch-millisecond clock. Default `Date.now`. */
  now?: () => number;
  /** Receives clean-up failures; should carry the webhookId already. Default: not logged. */
  logger?: Logger;
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
  job: Omit<JobMessage, 'executionId'>;
}

export type AcceptResult =
  | { outcome: 'accepted'; executionId: string; tookOver: boolean }
  | { outcome: 'duplicate'; executionId: string }
  | { outcome: 'in_progress'; executionId?: string; retryAfterSeconds: number };

/** DynamoDB or SQS could not be reached in time; answered with 503 so Benchling retries. */
export class AcceptUnavailableError extends TransientError {}

const MAX_ROUNDS = 3;

/** Longest event-based key; a longer event id (never seen) falls back to the webhook-id. */
const MAX_EVENT_KEY_BYTES = 512;

/**
 * The key a delivery is deduped under. For an entry event, its event id (`message.id`, within its
 * tenant): Benchling documents that it sometimes sends one event twice (during version
 * promotions), and a resend under a new `webhook-id` must be a duplicate too. Any other delivery:
 * its `webhook-id`, stable across Benchling's resends of it.
 */
export function dedupeKeyFor(job: { tenantId: string; trigger: { eventId?: string } }, webhookId: string): string {
  const eventId = job.trigger.eventId;
  if (!eventId) return webhookId;
  const key = `event#${job.tenantId}#${eventId}`;
  return Buffer.byteLength(key, 'utf8') <= MAX_EVENT_KEY_BYTES ? key : webhookId;
}

/** Condition on the execution record: no worker has picked it up yet (it may still be unsent). */
const EXECUTION_STILL_QUEUED = {
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

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const at = now();
    const nowSec = Math.floor(at / 1000);
    const executionId = newExecutionId(new Date(at));
    const execution = newQueuedExecution({
      executionId,
      tenantId: req.job.tenantId,
      kind: req.job.kind,
      entryId: req.job.entryId,
      canvasId: req.job.canvasId,
      trigger: req.job.trigger,
      now: new Date(at),
    });
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
      existing = dedupeFromAttributes(cancellationItem(err, 0)) ?? (await readDedupeRecord(deps.doc, dedupeTable, req.webhookId, opts.signal));
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

/** Steps 2 and 3: SendMessage, then mark ENQUEUED; on a send failure, clean up and throw. */
async function enqueue(
  deps: AcceptDeps,
  req: AcceptRequest,
  executionId: string,
  o: AcceptOptions & { created: boolean },
): Promise<AcceptResult> {
  const finishTimeoutMs = o.finishTimeoutMs ?? 500;
  // `Omit` over the union keeps only the common fields; the ingress built `job` for its kind.
  const message = { ...req.job, executionId } as JobMessage;
  const send = new SendMessageCommand({ QueueUrl: deps.names.jobsQueueUrl, MessageBody: serializeJobMessage(message) });
  // The SDK retries inside send(), and its error is the last attempt's: an earlier attempt that
  // timed out may have enqueued the job all the same. Each attempt's failure is looked at here
  // (the final error is looked at too below: it may come from before any attempt, e.g. an abort).
  let anAttemptMayHaveSucceeded = false;
  send.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (sendMayHaveSucceeded(err)) anAttemptMayHaveSucceeded = true;
        throw err;
      }
    },
    { step: 'deserialize', name: 'bpSendAttemptOutcome' },
  );
  try {
    await deps.sqs.send(send, { abortSignal: o.signal });
  } catch (err) {
    // Delete only what is certainly ours and certainly not backing a message.
    const removeRecords = o.created && !anAttemptMayHaveSucceeded && !sendMayHaveSucceeded(err);
    await releaseAfterFailedSend(deps, req.webhookId, executionId, removeRecords, finishTimeoutMs);
    throw unavailable('QueueUnavailable', 'SendMessage to the jobs queue failed', err, executionId);
  }
  await markEnqueued(deps, req.webhookId, executionId, finishTimeoutMs);
  return { outcome: 'accepted', executionId, tookOver: !o.created };
}

async function markEnqueued(deps: AcceptDeps, webhookId: string, executionId: string, timeoutMs: number): Promise<void> {
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.names.dedupeTable,
        Key: { webhookId },
        UpdateExpression: 'SET #state = :enqueued REMOVE pendingUntil',
        ConditionExpression: 'executionId = :id',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':enqueued': 'ENQUEUED', ':id': executionId },
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
  } catch (err) {
    // The job is on the queue, so the delivery is still accepted; the PENDING expiry resolves it.
    deps.logger?.warn('dedupe record not marked ENQUEUED; it stays PENDING until it expires', { executionId, error: errorText(err) });
  }
}

/**
 * Whether a failed SendMessage may still have enqueued the job: true for timeouts and broken
 * connections; false when SQS answered with an error or the connection was never made.
 */
export function sendMayHaveSucceeded(err: unknown): boolean {
  return awsMayHaveSucceeded(err);
}

/** `removeRecords`: delete both items; otherwise keep them and expire the PENDING so a retry takes over. */
async function releaseAfterFailedSend(deps: AcceptDeps, webhookId: string, executionId: string, removeRecords: boolean, timeoutMs: number): Promise<void> {
  const mine = {
    ConditionExpression: 'executionId = :id AND #state = :pending',
    ExpressionAttributeNames: { '#state': 'state' },
  };
  try {
    if (removeRecords) {
      await deps.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: deps.names.dedupeTable, Key: { webhookId }, ...mine, ExpressionAttributeValues: { ':id': executionId, ':pending': 'PENDING' } } },
            {
              Delete: { TableName: deps.names.executionsTable, Key: { executionId }, ...EXECUTION_STILL_QUEUED },
            },
          ],
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } else {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.names.dedupeTable,
          Key: { webhookId },
          UpdateExpression: 'SET pendingUntil = :expired',
          ...mine,
          ExpressionAttributeValues: { ':id': executionId, ':pending': 'PENDING', ':expired': 0 },
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    }
  } catch (err) {
    deps.logger?.error('clean-up after a failed SendMessage did not complete; the PENDING record expires on its own', {
      executionId,
      error: errorText(err),
    });
  }
}

/** The dedupe record of a webhook id, read strongly consistent. */
export async function readDedupeRecord(doc: DynamoDBDocumentClient, table: string, webhookId: string, signal?: AbortSignal): Promise<DedupeRecord | undefined> {
  try {
    const res = await doc.send(new GetCommand({ TableName: table, Key: { webhookId }, ConsistentRead: true }), { abortSignal: signal });
    return res.Item as DedupeRecord | undefined;
  } catch (err) {
    throw unavailable('DedupeUnavailable', 'reading the dedupe record failed', err);
  }
}

function isCancelled(err: unknown): boolean {
  return err instanceof TransactionCanceledException;
}

type RawReason = { Code?: string; Item?: Record<string, { S?: string; N?: string }> };

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

function dedupeFromAttributes(item: RawReason['Item']): DedupeRecord | undefined {
  if (!item?.webhookId?.S || !item.executionId?.S) return undefined;
  return {
    webhookId: item.webhookId.S,
    executionId: item.executionId.S,
    state: item.state?.S === 'ENQUEUED' ? 'ENQUEUED' : 'PENDING',
    ...(item.pendingUntil?.N !== undefined ? { pendingUntil: Number(item.pendingUntil.N) } : {}),
    expiresAt: Number(item.expiresAt?.N ?? Number.MAX_SAFE_INTEGER),
    createdAt: item.createdAt?.S ?? '',
  };
}

function unavailable(code: string, what: string, cause: unknown, executionId?: string): AcceptUnavailableError {
  return new AcceptUnavailableError(`${what}: ${errorText(cause)}`, { code, cause, details: executionId ? { executionId } : {} });
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return e?.name === 'AbortError' ? 'timed out (request budget spent)' : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}
