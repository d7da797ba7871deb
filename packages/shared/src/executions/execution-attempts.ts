import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, TransientError } from '../errors.ts';
import { isConditionFailed } from './conditions.ts';
import { ExecutionNotFoundError, LeaseHeldError } from './errors.ts';
import { type ExecutionWriter, FINISHED_STATUSES } from './execution-writer.ts';
import type { ExecutionRecord } from './types.ts';

/** What `beginAttempt` hands the worker: the record, and whether there is nothing left to do. */
export interface AttemptStart {
  /** The record after the attempt started (with `outputs` to resume from), or as found when finished. */
  record: ExecutionRecord;
  /** True when the execution already SUCCEEDED/FAILED/SUPERSEDED: delete the message, do nothing. */
  alreadyFinished: boolean;
}

/** The writes that start an attempt (running, leased to `:worker` until `:until`, attempt number `:attempt`). */
const START_ATTEMPT = [
  '#status = :running',
  'leaseOwner = :worker',
  'leaseExpiresAt = :until',
  'attempts = :attempt',
  'startedAt = if_not_exists(startedAt, :nowIso)',
];

/** How many times `beginAttempt` re-reads after losing a race it could still win. */
const BEGIN_ATTEMPT_TRIES = 5;

/**
 * Takes the execution lease (free, lapsed, or already ours) and starts attempt n+1.
 * Throws LeaseHeldError while another worker's lease is live; returns `alreadyFinished: true`
 * for a finished execution. The record carries `outputs`, so the worker resumes at the
 * first step without one (`firstPendingStep`).
 */
export async function beginAttempt(
  w: ExecutionWriter,
  id: string,
  o: { workerId: string; leaseMs: number; firstReceive?: boolean },
): Promise<AttemptStart> {
  assertPositive('leaseMs', o.leaseMs);
  if (o.firstReceive) {
    // A message's first receive almost always finds its execution as the ingress left it
    // (QUEUED, no attempt, no lease): try that in one write, and read only if it was not so.
    const fresh = await startFirstAttempt(w, id, o.workerId, o.leaseMs);
    if (fresh) return { record: fresh, alreadyFinished: false };
  }
  for (let tries = 0; tries < BEGIN_ATTEMPT_TRIES; tries++) {
    const current = await w.get(id);
    if (!current) throw new ExecutionNotFoundError(id);
    if (FINISHED_STATUSES.has(current.status)) return { record: current, alreadyFinished: true };
    const now = w.clock();
    if (current.leaseOwner && current.leaseOwner !== o.workerId && (current.leaseExpiresAt ?? 0) > now.getTime()) {
      throw new LeaseHeldError({
        executionId: id,
        owner: current.leaseOwner,
        leaseExpiresAt: current.leaseExpiresAt ?? 0,
        now: now.getTime(),
      });
    }
    const attempt = current.attempts + 1;
    const takeover = current.leaseOwner && current.leaseOwner !== o.workerId ? ` (took over from ${current.leaseOwner}, lease lapsed)` : '';
    // `attempts = :prev` makes the attempt number in the event exact: a racer that got in
    // first fails this condition and the loop re-reads.
    const updated = await w.change(id, now, {
      action: 'beginAttempt',
      set: START_ATTEMPT,
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
function startFirstAttempt(w: ExecutionWriter, id: string, workerId: string, leaseMs: number): Promise<ExecutionRecord | undefined> {
  const now = w.clock();
  return w.change(id, now, {
    action: 'beginAttempt',
    set: START_ATTEMPT,
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
export async function extendLease(w: ExecutionWriter, id: string, workerId: string, leaseMs: number): Promise<number> {
  assertPositive('leaseMs', leaseMs);
  const until = w.clock().getTime() + leaseMs;
  try {
    // No event and no updatedAt: heartbeats are not history.
    await w.doc.send(
      new UpdateCommand({
        TableName: w.tableName,
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
    throw await w.leaseLost(id, workerId, 'extendLease');
  }
}

function assertPositive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} must be a positive number of milliseconds, got ${v}`);
}
