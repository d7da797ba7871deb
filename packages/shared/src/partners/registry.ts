import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError } from '../errors.ts';
import {
  checkSettings,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_SECONDS,
  PartnerIdSchema,
  PartnerInputError,
  type PartnerSettings,
  PartnerSettingsSchema,
  splitSourcePatterns,
} from './partner-input.ts';
import { webhookSecretKey } from './standard-webhooks.ts';

import {
  type NewPartner,
  PartnerExistsError,
  PartnerNotFoundError,
  type PartnerRecord,
  type PartnerSecretVault,
  type PartnerUpdate,
  type StoredSecret,
} from './partner-record.ts';

export { partnerPolicy, partnerView } from './partner-view.ts';
export {
  type NewPartner,
  PartnerExistsError,
  PartnerNotFoundError,
  type PartnerRecord,
  type PartnerSecretVault,
  type PartnerUpdate,
  type PartnerView,
  type SecretStoreKind,
  type StoredSecret,
} from './partner-record.ts';

/**
 * The partner registry: one item per partner in the `partners` table (key `partnerId`).
 *
 * Secrets: `secrets.current` and, during a rotation, `secrets.previous`. With a vault (AWS
 * Secrets Manager) an item holds only the secret's ARN; without one (local emulators, where no
 * secrets manager runs) it holds the `whsec_` value itself. Nothing that leaves this module for
 * an operator (`PartnerView`) carries either.
 */

export interface PartnerRegistryOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** Secrets Manager; without it secret values are kept in the item (local stack only). */
  vault?: PartnerSecretVault;
  clock?: () => Date;
}

export class PartnerRegistry {
  private readonly clock: () => Date;
  constructor(private readonly o: PartnerRegistryOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  /** The partner, or undefined. Strongly consistent: a deactivation applies to the next delivery. */
  async get(partnerId: string, signal?: AbortSignal): Promise<PartnerRecord | undefined> {
    const res = await this.o.doc.send(
      new GetCommand({ TableName: this.o.tableName, Key: { partnerId }, ConsistentRead: true }),
      signal ? { abortSignal: signal } : {},
    );
    return res.Item as PartnerRecord | undefined;
  }

  async require(partnerId: string): Promise<PartnerRecord> {
    const p = await this.get(partnerId);
    if (!p) throw new PartnerNotFoundError(partnerId);
    return p;
  }

  /** Every partner, by id. The table holds a handful of partners: a Scan is the right read. */
  async list(): Promise<PartnerRecord[]> {
    const out: PartnerRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.o.doc.send(
        new ScanCommand({ TableName: this.o.tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      out.push(...((page.Items ?? []) as PartnerRecord[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.partnerId.localeCompare(b.partnerId));
  }

  /** Adds an active partner; PartnerExistsError when the id is taken. */
  async add(input: NewPartner): Promise<PartnerRecord> {
    const id = checkSettings(PartnerIdSchema, input.id);
    const settings = checkSettings(PartnerSettingsSchema, {
      name: input.name,
      eventTypes: input.eventTypes,
      allowUrls: input.allowUrls,
      format: input.format ?? 'standard',
      maxRetries: input.maxRetries ?? DEFAULT_MAX_RETRIES,
      timeoutSeconds: input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
      namespace: input.namespace ?? id.replace(/[^A-Za-z0-9_-]/g, '_'),
    });
    checkSecret(input.secret);
    if (await this.get(id)) throw new PartnerExistsError(id);
    const at = this.clock().toISOString();
    const record: PartnerRecord = {
      partnerId: id,
      ...recordSettings(settings),
      active: true,
      secrets: { current: await this.storeSecret(id, input.secret, at) },
      createdAt: at,
      updatedAt: at,
    };
    try {
      await this.o.doc.send(
        new PutCommand({ TableName: this.o.tableName, Item: record, ConditionExpression: 'attribute_not_exists(partnerId)' }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') throw new PartnerExistsError(id);
      throw err;
    }
    return record;
  }

  /** Changes the given settings; the rest (and the secrets) stay. */
  async update(partnerId: string, patch: PartnerUpdate): Promise<PartnerRecord> {
    const current = await this.require(partnerId);
    const merged = checkSettings(PartnerSettingsSchema, { ...settingsOf(current), ...stripUndefined(patch) });
    return this.write(partnerId, { ...recordSettings(merged), ...(merged.callbackUrl === undefined ? { callbackUrl: undefined } : {}) });
  }

  async setActive(partnerId: string, active: boolean): Promise<PartnerRecord> {
    await this.require(partnerId);
    return this.write(partnerId, { active });
  }

  /**
   * Starts a rotation: the new secret becomes current, the old one stays as previous (both
   * verify) until `finishRotation` or until `overlapSeconds` have passed, if given.
   */
  async rotateSecret(partnerId: string, secret: string, o: { overlapSeconds?: number } = {}): Promise<PartnerRecord> {
    checkSecret(secret);
    const current = await this.require(partnerId);
    const now = this.clock();
    const previous: StoredSecret = {
      ...current.secrets.current,
      ...(o.overlapSeconds !== undefined ? { validUntil: new Date(now.getTime() + o.overlapSeconds * 1000).toISOString() } : {}),
    };
    const next = await this.storeSecret(partnerId, secret, now.toISOString());
    return this.write(partnerId, { secrets: { current: next, previous } }, current.updatedAt);
  }

  /** Ends a rotation: only the current secret verifies from now on. */
  async finishRotation(partnerId: string): Promise<PartnerRecord> {
    const current = await this.require(partnerId);
    return this.write(partnerId, { secrets: { current: current.secrets.current } }, current.updatedAt);
  }

  /**
   * HMAC keys that verify the partner's deliveries now: the current secret, and the previous one
   * while its rotation lasts.
   */
  async verificationKeys(p: PartnerRecord): Promise<Buffer[]> {
    const now = this.clock().getTime();
    const live = [
      p.secrets.current,
      ...(p.secrets.previous && !(p.secrets.previous.validUntil && Date.parse(p.secrets.previous.validUntil) <= now)
        ? [p.secrets.previous]
        : []),
    ];
    return Promise.all(live.map(async (s) => webhookSecretKey(await this.secretValue(s))));
  }

  private async secretValue(s: StoredSecret): Promise<string> {
    if (s.secretArn) {
      if (!this.o.vault)
        throw new PermanentError('the partner secret is in Secrets Manager but no secrets manager is configured', {
          code: 'PartnerSecretUnavailable',
        });
      return this.o.vault.get(s.secretArn);
    }
    if (s.value) return s.value;
    throw new PermanentError('the partner has no usable secret', { code: 'PartnerSecretMissing' });
  }

  private async storeSecret(partnerId: string, secret: string, addedAt: string): Promise<StoredSecret> {
    return this.o.vault ? { secretArn: await this.o.vault.put(partnerId, secret), addedAt } : { value: secret, addedAt };
  }

  /** Sets attributes (undefined ones are removed); with `ifUpdatedAt`, only if nobody changed the item since. */
  private async write(partnerId: string, attrs: Record<string, unknown>, ifUpdatedAt?: string): Promise<PartnerRecord> {
    const entries = Object.entries({ ...attrs, updatedAt: this.clock().toISOString() });
    const names = Object.fromEntries(entries.map(([k], i) => [`#a${i}`, k]));
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    entries.forEach(([, v], i) => {
      if (v === undefined) remove.push(`#a${i}`);
      else {
        set.push(`#a${i} = :v${i}`);
        values[`:v${i}`] = v;
      }
    });
    const expr = `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`;
    if (ifUpdatedAt) values[':was'] = ifUpdatedAt;
    try {
      const res = await this.o.doc.send(
        new UpdateCommand({
          TableName: this.o.tableName,
          Key: { partnerId },
          UpdateExpression: expr,
          ConditionExpression: `attribute_exists(partnerId)${ifUpdatedAt ? ' AND updatedAt = :was' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as PartnerRecord;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      if (!(await this.get(partnerId))) throw new PartnerNotFoundError(partnerId);
      throw new PermanentError(`partner ${partnerId} changed meanwhile; run the command again`, { code: 'PartnerChanged' });
    }
  }
}

function checkSecret(secret: string): void {
  try {
    webhookSecretKey(secret);
  } catch (err) {
    throw new PartnerInputError('secret', (err as Error).message);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function recordSettings(s: PartnerSettings) {
  return {
    name: s.name,
    eventTypes: s.eventTypes,
    ...splitSourcePatterns(s.allowUrls),
    format: s.format,
    maxRetries: s.maxRetries,
    timeoutSeconds: s.timeoutSeconds,
    ...(s.callbackUrl ? { callbackUrl: s.callbackUrl } : {}),
    namespace: s.namespace,
  };
}

function settingsOf(p: PartnerRecord): PartnerSettings {
  return {
    name: p.name,
    eventTypes: p.eventTypes,
    allowUrls: [...p.allowedUrlPatterns, ...p.allowedS3Prefixes],
    format: p.format,
    maxRetries: p.maxRetries,
    timeoutSeconds: p.timeoutSeconds,
    ...(p.callbackUrl ? { callbackUrl: p.callbackUrl } : {}),
    namespace: p.namespace,
  };
}
