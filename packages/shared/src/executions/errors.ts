import { PermanentError, TransientError } from '../errors.ts';

/**
 * Another live worker holds the execution lease: this delivery is a duplicate or arrived while
 * the first one still runs. Transient, so the message comes back after its visibility timeout
 * and takes over if that worker has died by then.
 */
export class LeaseHeldError extends TransientError {
  readonly owner: string;
  /** Epoch ms when the current owner's lease lapses. */
  readonly leaseExpiresAt: number;

  constructor(o: { executionId: string; owner: string; leaseExpiresAt: number; now: number }) {
    super(`execution ${o.executionId} is leased by ${o.owner} until ${new Date(o.leaseExpiresAt).toISOString()}`, {
      code: 'LeaseHeld',
      retryAfterMs: Math.max(0, o.leaseExpiresAt - o.now),
      details: { executionId: o.executionId, owner: o.owner, leaseExpiresAt: o.leaseExpiresAt },
    });
    this.owner = o.owner;
    this.leaseExpiresAt = o.leaseExpiresAt;
  }
}

/**
 * This worker no longer holds the lease (it lapsed and another worker took over, or the
 * execution was finished by ops/DLQ handling). The worker must stop without touching the record
 * or deleting its message: the current owner's delivery is the live one.
 */
export class LeaseLostError extends TransientError {
  /** Which lease was lost: an execution's (worker ids) or an entry's (execution ids). */
  readonly lease: 'execution' | 'entry';
  /** Who holds it now, if anyone. */
  readonly owner: string | undefined;
  /** For an execution lease: the execution's status when the write was refused. */
  readonly status: string | undefined;

  constructor(o: {
    lease: 'execution' | 'entry';
    id: string;
    workerId: string;
    owner?: string;
    leaseExpiresAt?: number;
    status?: string;
    action: string;
  }) {
    const key = `${o.lease} ${o.id}`;
    const holder = o.owner ? `held by ${o.owner}` : 'not held by anyone';
    const status = o.status ? `, status ${o.status}` : '';
    super(`${o.action} on ${key} rejected: ${o.workerId} lost the lease (${holder}${status})`, {
      code: 'LeaseLost',
      details: { key, workerId: o.workerId, owner: o.owner, leaseExpiresAt: o.leaseExpiresAt, status: o.status, action: o.action },
    });
    this.lease = o.lease;
    this.owner = o.owner;
    this.status = o.status;
  }
}

/** No (live) execution record with this id: it never existed or its TTL has passed. */
export class ExecutionNotFoundError extends PermanentError {
  constructor(executionId: string) {
    super(`execution ${executionId} does not exist (or has expired)`, { code: 'ExecutionNotFound', details: { executionId } });
  }
}

/** `create` found a live record with the same id. */
export class ExecutionExistsError extends PermanentError {
  constructor(executionId: string) {
    super(`execution ${executionId} already exists`, { code: 'ExecutionExists', details: { executionId } });
  }
}
