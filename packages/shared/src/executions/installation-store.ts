import { type DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../errors.ts';
import { newestEvents, trimToNewest } from './bounded-events.ts';
import { isConditionFailed } from './conditions.ts';
import { MAX_EVENTS } from './types.ts';

export interface InstallationStoreOptions {
  /** Document client over the installations table (built by `createAwsClients`). */
  doc: DynamoDBDocumentClient;
  /** Name of the installations table (`ResourceNames.installationsTable`). */
  tableName: string;
  /** Source of "now" for `updatedAt`. Default `() => new Date()`. */
  clock?: () => Date;
  /** Lifecycle events kept per installation, newest last. Default MAX_EVENTS (50). */
  maxEvents?: number;
}

export type InstallationState = 'installed' | 'activated' | 'deactivated';

/** What a lifecycle webhook means for the installation. */
type LifecycleEffect = { state: InstallationState } | { configUpdated: true } | { unknown: true };

export interface LifecycleEvent {
  /** Benchling `message.type`, e.g. `v2.app.installed`, `v2-beta.app.configuration.updated`. */
  type: string;
  /** When it happened (ISO); out-of-order deliveries are ordered by this, not by arrival. */
  at: string;
  /** False when a newer event had already set the state (late delivery), or the type is unknown. */
  applied: boolean;
  versionNumber?: string;
}

/** Item of the installations table, one per tenant and app. */
export interface InstallationRecord {
  installationKey: string;
  tenantId: string;
  appId: string;
  state?: InstallationState;
  /** `at` of the event that set `state`. */
  stateAt?: string;
  appDefinitionId?: string;
  versionNumber?: string;
  installedAt?: string;
  activatedAt?: string;
  deactivatedAt?: string;
  lastConfigUpdateAt?: string;
  updatedAt: string;
  /** Most recent lifecycle events in arrival order, at most `maxEvents`. */
  events: LifecycleEvent[];
}

export interface LifecycleInput {
  tenantId: string;
  appId: string;
  /**
   * Benchling `message.type` (`v2.app.installed`, `v2.app.activateRequested`, `v2.app.deactivated`, `v2-beta.app.configuration.updated`).
   */
  type: string;
  /** ISO time of the event (the trigger's receivedAt). */
  at: string;
  appDefinitionId?: string;
  versionNumber?: string;
}

export function installationKey(tenantId: string, appId: string): string {
  return `${tenantId}#${appId}`;
}

const STATE_FIELD: Record<InstallationState, 'installedAt' | 'activatedAt' | 'deactivatedAt'> = {
  installed: 'installedAt',
  activated: 'activatedAt',
  deactivated: 'deactivatedAt',
};

/** Maps a lifecycle message type (any `v2`/`v2-beta` prefix) to its effect. */
export function lifecycleEffect(type: string): LifecycleEffect {
  const name = type.replace(/^v2(-beta)?\.app\./, '');
  if (name === 'installed') return { state: 'installed' };
  if (name === 'activateRequested' || name === 'activated') return { state: 'activated' };
  if (name === 'deactivated') return { state: 'deactivated' };
  if (name === 'configuration.updated') return { configUpdated: true };
  return { unknown: true };
}

/**
 * Lifecycle state per installation. Benchling delivers late and out of order, so the state
 * (and the last config update time) only moves forward in event time: each change is a
 * conditional update on `stateAt`/`lastConfigUpdateAt`; a late event still lands in the
 * history, marked `applied: false`.
 */
export class InstallationStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: () => Date;
  private readonly maxEvents: number;

  constructor(o: InstallationStoreOptions) {
    const maxEvents = o.maxEvents ?? MAX_EVENTS;
    if (!Number.isInteger(maxEvents) || maxEvents < 1)
      throw new ConfigError(`InstallationStore option maxEvents must be a positive integer, got ${maxEvents}`);
    if (!o.tableName) throw new ConfigError('InstallationStore option tableName is required');
    this.doc = o.doc;
    this.tableName = o.tableName;
    this.clock = o.clock ?? (() => new Date());
    this.maxEvents = maxEvents;
  }

  async get(tenantId: string, appId: string): Promise<InstallationRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { installationKey: installationKey(tenantId, appId) }, ConsistentRead: true }),
    );
    const item = res.Item as InstallationRecord | undefined;
    return item ? { ...item, events: newestEvents(item.events, this.maxEvents) } : undefined;
  }

  /** Applies one lifecycle webhook. Returns the record and whether the event changed it. */
  async recordLifecycle(e: LifecycleInput): Promise<{ record: InstallationRecord; applied: boolean }> {
    const effect = lifecycleEffect(e.type);
    const identity = {
      set: ['tenantId = :tenantId', 'appId = :appId', 'updatedAt = :nowIso'],
      values: { ':tenantId': e.tenantId, ':appId': e.appId, ':nowIso': this.clock().toISOString() } as Record<string, unknown>,
    };
    const version = [
      ...(e.appDefinitionId ? ['appDefinitionId = :appDefinitionId'] : []),
      ...(e.versionNumber ? ['versionNumber = :versionNumber'] : []),
    ];
    const versionValues = {
      ...(e.appDefinitionId ? { ':appDefinitionId': e.appDefinitionId } : {}),
      ...(e.versionNumber ? { ':versionNumber': e.versionNumber } : {}),
    };

    if ('state' in effect) {
      const applied = await this.append(e, true, {
        set: [...identity.set, ...version, '#state = :state', 'stateAt = :at', `${STATE_FIELD[effect.state]} = :at`],
        condition: 'attribute_not_exists(stateAt) OR stateAt <= :at',
        names: { '#state': 'state' },
        values: { ...identity.values, ...versionValues, ':state': effect.state, ':at': e.at },
      });
      if (applied) return { record: applied, applied: true };
    } else if ('configUpdated' in effect) {
      const applied = await this.append(e, true, {
        set: [...identity.set, 'lastConfigUpdateAt = :at'],
        condition: 'attribute_not_exists(lastConfigUpdateAt) OR lastConfigUpdateAt <= :at',
        values: { ...identity.values, ':at': e.at },
      });
      if (applied) return { record: applied, applied: true };
    }
    // Late or unknown: history only.
    const record = await this.append(e, false, { set: identity.set, values: identity.values });
    return { record: record!, applied: false };
  }

  /** One update that also appends the event; undefined when `condition` did not hold. */
  private async append(
    e: LifecycleInput,
    applied: boolean,
    u: { set: string[]; condition?: string; names?: Record<string, string>; values: Record<string, unknown> },
  ): Promise<InstallationRecord | undefined> {
    const key = { installationKey: installationKey(e.tenantId, e.appId) };
    const event: LifecycleEvent = { type: e.type, at: e.at, applied, ...(e.versionNumber ? { versionNumber: e.versionNumber } : {}) };
    let res: UpdateCommandOutput;
    try {
      res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${[...u.set, '#events = list_append(if_not_exists(#events, :emptyList), :event)'].join(', ')}`,
          ...(u.condition ? { ConditionExpression: u.condition } : {}),
          ExpressionAttributeNames: { ...u.names, '#events': 'events' },
          ExpressionAttributeValues: { ...u.values, ':event': [event], ':emptyList': [] },
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
    const rec = res.Attributes as InstallationRecord;
    const trimmed = await trimToNewest(this.doc, {
      tableName: this.tableName,
      key,
      attribute: 'events',
      observedSize: rec.events.length,
      max: this.maxEvents,
    });
    const final = (trimmed as InstallationRecord | undefined) ?? rec;
    return { ...final, events: newestEvents(final.events, this.maxEvents) };
  }
}
