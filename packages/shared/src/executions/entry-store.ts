import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, TransientError } from '../errors.ts';
import type { Trigger } from '../jobs.ts';
import { isConditionFailed, isExpired } from './conditions.ts';
import type { AcquireEntryLeaseResult, EntryState, HandOffResult, LinkedRun, PublishedPackage, RequestRerunResult } from './entry-state.ts';
import { LeaseLostError } from './errors.ts';

export interface EntryStoreOptions {
  /** Document client over the entries table (built by `createAwsClients`). */
  doc: DynamoDBDocumentClient;
  /** Name of the entries table (`ResourceNames.entriesTable`). */
  tableName: string;
  /** Source of "now" for leases and timestamps. Default `() => new Date()`. */
  clock?: () => Date;
}

export {
  type AcquireEntryLeaseResult,
  type EntryState,
  type HandOffResult,
  type LinkedRun,
  linkedRunsNewestFirst,
  type PublishedPackage,
  type RequestRerunResult,
} from './entry-state.ts';

/** Everything a finished holder clears from the entry item. */
const HOLD_ATTRIBUTES =
  'leaseExecutionId, leaseExpiresAt, rerunRequested, rerunTrigger, rerunExecutionId, ' +
  'rerunRequestedAt, rerunCount, handoffFrom, handoffTo, handoffTrigger';
const RERUN_ATTRIBUTES = 'rerunRequested, rerunTrigger, rerunExecutionId, rerunRequestedAt, rerunCount';

const ACQUIRE_TRIES = 5;

/**
 * Per-entry state: the entry lease (one execution per entry at a time), coalesced rerun
 * requests, the canvas id and the last published package.
 *
 * Coalescing is race-free because both sides are conditional updates on the same item, which
 * DynamoDB serialises: `requestRerun` sets the flag only on the condition that a live lease
 * exists, and `handOffEntryLease` either removes the lease on the condition that no flag is set,
 * or (a flag is set) passes the lease to the follow-up and clears the flag in one update that
 * returns the old item. If the request lands first the holder hands it on; if the release lands
 * first the requester's condition fails and it is told to run the work itself. A request is never
 * lost, and never delivered twice because the hand-off clears it as it reads it.
 */
export class EntryStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: () => Date;

  constructor(o: EntryStoreOptions) {
    if (!o.tableName) throw new ConfigError('EntryStore option tableName is required');
    this.doc = o.doc;
    this.tableName = o.tableName;
    this.clock = o.clock ?? (() => new Date());
  }

  /** The entry's state, or undefined if nothing was ever recorded for it. Strongly consistent. */
  async get(key: string): Promise<EntryState | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { entryKey: key }, ConsistentRead: true }));
    const item = res.Item as (EntryState & { expiresAt?: number }) | undefined;
    return item && !isExpired(item, this.clock()) ? item : undefined;
  }

  /** Takes the entry lease when it is free, lapsed, or already this execution's. */
  async acquireEntryLease(key: string, executionId: string, leaseMs: number): Promise<AcquireEntryLeaseResult> {
    assertPositive(leaseMs);
    for (let tries = 0; tries < ACQUIRE_TRIES; tries++) {
      const now = this.clock();
      const expiresAt = now.getTime() + leaseMs;
      const ok = await this.conditionalUpdate({
        key,
        update: 'SET leaseExecutionId = :ex, leaseExpiresAt = :until, updatedAt = :nowIso',
        condition: 'attribute_not_exists(leaseExecutionId) OR leaseExecutionId = :ex OR leaseExpiresAt <= :nowMs',
        values: { ':ex': executionId, ':until': expiresAt, ':nowIso': now.toISOString(), ':nowMs': now.getTime() },
      });
      if (ok) return { acquired: true, expiresAt };
      const current = await this.get(key);
      // Released between our write and this read: try again rather than report a stale holder.
      if (current?.leaseExecutionId && (current.leaseExpiresAt ?? 0) > this.clock().getTime()) {
        return { acquired: false, heldBy: current.leaseExecutionId, expiresAt: current.leaseExpiresAt ?? 0 };
      }
    }
    throw new TransientError(`entry ${key}: lease still contended after ${ACQUIRE_TRIES} tries`, {
      code: 'LeaseContended',
      details: { entryKey: key },
    });
  }

  /** Pushes this execution's entry lease to now + leaseMs. Returns the new expiry (epoch ms). */
  async extendEntryLease(key: string, executionId: string, leaseMs: number): Promise<number> {
    assertPositive(leaseMs);
    const until = this.clock().getTime() + leaseMs;
    const ok = await this.conditionalUpdate({
      key,
      update: 'SET leaseExpiresAt = :until',
      condition: 'leaseExecutionId = :ex',
      values: { ':ex': executionId, ':until': until },
    });
    if (ok) return until;
    const current = await this.get(key);
    throw new LeaseLostError({
      lease: 'entry',
      id: key,
      workerId: executionId,
      action: 'extendEntryLease',
      ...(current?.leaseExecutionId ? { owner: current.leaseExecutionId } : {}),
      ...(current?.leaseExpiresAt !== undefined ? { leaseExpiresAt: current.leaseExpiresAt } : {}),
    });
  }

  /**
   * Ends this execution's hold on the entry so that a crash at any point loses no coalesced trigger.
   * No rerun request pending: the lease is released. One pending: in a single update the lease
   * passes to `followUpExecutionId` (for `leaseMs`) and the request is cleared, recording the
   * hand-off (from, to, trigger) on the item. The follow-up reads the entry after this update, so it
   * covers every trigger folded in so far, and later triggers coalesce into it; the caller creates
   * and enqueues it. Should the caller crash first, its redelivered message calls this again and gets
   * `notHeld` with `pendingHandoff`: create and enqueue the follow-up then (idempotently).
   */
  async handOffEntryLease(key: string, executionId: string, followUpExecutionId: string, leaseMs: number): Promise<HandOffResult> {
    assertPositive(leaseMs);
    const now = this.clock();
    const released = await this.conditionalUpdate({
      key,
      update: `SET updatedAt = :nowIso REMOVE ${HOLD_ATTRIBUTES}`,
      condition: 'leaseExecutionId = :ex AND attribute_not_exists(rerunRequested)',
      values: { ':ex': executionId, ':nowIso': now.toISOString() },
    });
    if (released) return { outcome: 'released' };
    const old = await this.conditionalUpdate({
      key,
      update:
        'SET leaseExecutionId = :to, leaseExpiresAt = :until, handoffFrom = :ex, ' +
        'handoffTo = :to, handoffTrigger = rerunTrigger, updatedAt = :nowIso ' +
        `REMOVE ${RERUN_ATTRIBUTES}`,
      condition: 'leaseExecutionId = :ex AND rerunRequested = :yes',
      values: {
        ':ex': executionId,
        ':to': followUpExecutionId,
        ':until': now.getTime() + leaseMs,
        ':yes': true,
        ':nowIso': now.toISOString(),
      },
      returnValues: 'ALL_OLD',
    });
    if (old) return { outcome: 'handedOff', to: followUpExecutionId, trigger: old.rerunTrigger!, coalesced: old.rerunCount ?? 1 };
    const current = await this.get(key);
    if (current?.handoffFrom === executionId && current.handoffTo && current.handoffTrigger) {
      return { outcome: 'notHeld', pendingHandoff: { to: current.handoffTo, trigger: current.handoffTrigger } };
    }
    return { outcome: 'notHeld' };
  }

  /**
   * A trigger for an entry: if a live lease is held, fold it into the rerun request (latest
   * trigger wins) and return `leaseHeld: true` — the holder will start the follow-up. Otherwise
   * nothing is recorded and `leaseHeld: false` tells the caller to run it itself.
   */
  async requestRerun(key: string, trigger: Trigger, executionId: string): Promise<RequestRerunResult> {
    const now = this.clock();
    const item = await this.conditionalUpdate({
      key,
      update:
        'SET rerunRequested = :yes, rerunTrigger = :trigger, rerunExecutionId = :ex, ' +
        'rerunRequestedAt = :nowIso, updatedAt = :nowIso ADD rerunCount :one',
      condition: 'attribute_exists(leaseExecutionId) AND leaseExpiresAt > :nowMs',
      values: { ':yes': true, ':trigger': trigger, ':ex': executionId, ':nowIso': now.toISOString(), ':one': 1, ':nowMs': now.getTime() },
      returnValues: 'ALL_NEW',
    });
    if (!item) return { leaseHeld: false };
    return { leaseHeld: true, heldBy: item.leaseExecutionId ?? '', expiresAt: item.leaseExpiresAt ?? 0 };
  }

  /** Remembers the entry's canvas (upsert; the latest canvas Benchling reports wins). Other fields are untouched. */
  async setCanvas(key: string, c: { canvasId: string; appId?: string; featureId?: string }): Promise<EntryState> {
    const now = this.clock();
    const optional = { appId: c.appId, featureId: c.featureId };
    const set = ['canvasId = :canvasId', 'canvasUpdatedAt = :nowIso', 'updatedAt = :nowIso'];
    const values: Record<string, unknown> = { ':canvasId': c.canvasId, ':nowIso': now.toISOString() };
    for (const [name, value] of Object.entries(optional)) {
      if (value === undefined) continue;
      set.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { entryKey: key },
        UpdateExpression: `SET ${set.join(', ')}`,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return res.Attributes as EntryState;
  }

  /**
   * Claims the right to create the entry's canvas of `featureId` (canvas.init), so concurrent or
   * retried initialisations create exactly one: true when this execution may create it (no canvas
   * of that feature is recorded and no other execution holds a live claim). The claim lapses after
   * `claimMs`, so a crashed creator does not block the entry for ever.
   */
  async claimCanvasCreation(key: string, executionId: string, featureId: string, claimMs: number): Promise<boolean> {
    assertPositive(claimMs);
    const now = this.clock();
    const ok = await this.conditionalUpdate({
      key,
      update: 'SET canvasClaimBy = :ex, canvasClaimUntil = :until, updatedAt = :nowIso',
      condition:
        '(attribute_not_exists(canvasId) OR attribute_not_exists(featureId) OR featureId <> :feature) AND ' +
        '(attribute_not_exists(canvasClaimBy) OR canvasClaimBy = :ex OR canvasClaimUntil <= :nowMs)',
      values: {
        ':feature': featureId,
        ':ex': executionId,
        ':until': now.getTime() + claimMs,
        ':nowIso': now.toISOString(),
        ':nowMs': now.getTime(),
      },
    });
    return ok !== undefined;
  }

  /** Records a publication unless a newer one is already recorded. Returns whether it was stored. */
  async recordPublished(key: string, p: PublishedPackage): Promise<boolean> {
    const stored = await this.conditionalUpdate({
      key,
      update: 'SET lastPublished = :p, updatedAt = :nowIso',
      condition: 'attribute_not_exists(lastPublished) OR lastPublished.#at <= :at',
      names: { '#at': 'at' },
      values: { ':p': p, ':at': p.at, ':nowIso': this.clock().toISOString() },
    });
    return stored !== undefined;
  }

  /**
   * Lists a run's package on the entry (upsert by package name) unless a newer event already
   * updated that run's link. Returns whether it was stored. Two writes: DynamoDB cannot create the
   * map and set a key inside it in one expression; the first is a no-op once the map exists.
   */
  async linkRun(key: string, run: LinkedRun): Promise<boolean> {
    const nowIso = this.clock().toISOString();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { entryKey: key },
        UpdateExpression: 'SET linkedRuns = if_not_exists(linkedRuns, :empty), updatedAt = :nowIso',
        ExpressionAttributeValues: { ':empty': {}, ':nowIso': nowIso },
      }),
    );
    const stored = await this.conditionalUpdate({
      key,
      update: 'SET linkedRuns.#pkg = :run, updatedAt = :nowIso',
      condition: 'attribute_not_exists(linkedRuns.#pkg) OR linkedRuns.#pkg.#at <= :at',
      names: { '#pkg': run.packageName, '#at': 'at' },
      values: { ':run': run, ':at': run.at, ':nowIso': nowIso },
    });
    return stored !== undefined;
  }

  /**
   * One conditional update of the entry item. Undefined when the condition failed; otherwise the
   * item as `returnValues` asks (the old or new one), or `{}` when it asks for none.
   */
  private async conditionalUpdate(o: {
    key: string;
    update: string;
    condition: string;
    names?: Record<string, string>;
    values: Record<string, unknown>;
    returnValues?: 'ALL_OLD' | 'ALL_NEW';
  }): Promise<EntryState | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { entryKey: o.key },
          UpdateExpression: o.update,
          ConditionExpression: o.condition,
          ...(o.names ? { ExpressionAttributeNames: o.names } : {}),
          ExpressionAttributeValues: o.values,
          ...(o.returnValues ? { ReturnValues: o.returnValues } : {}),
        }),
      );
      return (res.Attributes ?? {}) as EntryState;
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }
}

function assertPositive(leaseMs: number): void {
  if (!(Number.isFinite(leaseMs) && leaseMs > 0))
    throw new ConfigError(`leaseMs must be a positive number of milliseconds, got ${leaseMs}`);
}
