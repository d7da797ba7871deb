import { createHash } from 'node:crypto';

/** Every message type of the contract's table (docs/benchling-contract.md §2). */
export const WEBHOOK_TYPES = [
  'v2.entry.created',
  'v2.entry.updated.fields',
  'v2.entry.updated.reviewRecord',
  'v2.app.installed',
  'v2.app.activateRequested',
  'v2.app.deactivated',
  'v2-beta.app.configuration.updated',
  'v2.canvas.initialized',
  'v2.canvas.created',
  'v2-beta.canvas.created',
  'v2.canvas.userInteracted',
] as const;

export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** Which Benchling delivery a type belongs to; decides the URL suffix under Suffixed routing. */
export type WebhookKind = 'event' | 'lifecycle' | 'canvas';

export function webhookKind(type: string): WebhookKind {
  if (/^v2(-beta)?\.canvas\./.test(type)) return 'canvas';
  if (/^v2(-beta)?\.app\./.test(type)) return 'lifecycle';
  return 'event';
}

export function webhookChannel(type: string): 'events' | 'app_signals' {
  return webhookKind(type) === 'event' ? 'events' : 'app_signals';
}

export interface WebhookPayloadOptions {
  /** Tenant base URL, e.g. the simulator's URL. Default 'https://sim.benchling.com'. */
  baseURL?: string;
  /** Default 'ten_sim'. */
  tenantId?: string;
  /** Default 'app_sim'. */
  appId?: string;
  /** `appDefinition.id`; Benchling may send null. Default 'appdef_sim'. */
  appDefinitionId?: string | null;
  /** `appDefinition.versionNumber`. Default '0.4.0'. */
  appVersion?: string;
  /** Entry id (`resourceId` of entry and canvas messages). Default 'etr_demo'. */
  entryId?: string;
  /** Canvas id of canvas messages. Default 'cnvs_' + a hash of the entry id. */
  canvasId?: string;
  /** Button pressed in `v2.canvas.userInteracted`. Default 'package_now'. */
  buttonId?: string;
  /** User acting. Default 'ent_Zm3kQ8aL'. */
  userId?: string;
  /** Canvas feature id from the app manifest. Default 'quilt_entry'. */
  featureId?: string;
  /** `message.id` of events. Default 'evt_' + a hash of `webhookId` (stable across resends). */
  eventId?: string;
  /** Delivery id the message id is derived from. Default: none (random event id). */
  webhookId?: string;
  /** `message.createdAt`. Default: now. */
  createdAt?: Date;
  /** `updates` of `v2.entry.updated.*`. Default ['fields.Name'] / ['reviewRecord']. */
  updates?: string[];
  /** Entry schema of entry events. Default {id:'ts_sim', name:'Expérience'}. */
  schema?: { id: string; name?: string };
}

function shortHash(text: string, len = 8): string {
  return createHash('sha256').update(text).digest('base64url').replace(/[-_]/g, 'x').slice(0, len);
}

function messageFor(type: string, o: WebhookPayloadOptions): Record<string, unknown> {
  const entryId = o.entryId ?? 'etr_demo';
  const userId = o.userId ?? 'ent_Zm3kQ8aL';
  const featureId = o.featureId ?? 'quilt_entry';
  const canvasId = o.canvasId ?? `cnvs_${shortHash(`canvas:${entryId}`)}`;
  const base = { type, deprecated: false };
  switch (type) {
    case 'v2.app.installed':
    case 'v2.app.deactivated':
    case 'v2-beta.app.configuration.updated':
      return base;
    case 'v2.app.activateRequested':
      return { ...base, excludedProperties: [] };
    case 'v2.canvas.initialized':
      return { ...base, featureId, resourceId: entryId, userId };
    case 'v2.canvas.created':
    case 'v2-beta.canvas.created':
      return { ...base, canvasId, featureId, userId, resourceId: entryId };
    case 'v2.canvas.userInteracted':
      return { ...base, buttonId: o.buttonId ?? 'package_now', canvasId, featureId, userId };
    default: {
      // Entry events, and any other event type (which receivers must acknowledge and ignore).
      const eventId = o.eventId ?? `evt_${o.webhookId ? shortHash(`event:${o.webhookId}`, 12) : shortHash(`${Math.random()}`, 12)}`;
      const event: Record<string, unknown> = {
        ...base,
        id: eventId,
        createdAt: (o.createdAt ?? new Date()).toISOString(),
        excludedProperties: ['entry'],
        resourceId: entryId,
        schema: o.schema ?? { id: 'ts_sim', name: 'Expérience' },
      };
      if (type === 'v2.entry.updated.fields') event.updates = o.updates ?? ['fields.Name'];
      if (type === 'v2.entry.updated.reviewRecord') event.updates = o.updates ?? ['reviewRecord'];
      return event;
    }
  }
}

/** The JSON a Benchling webhook of `type` carries (envelope version "0"). */
export function buildWebhookPayload(type: WebhookType | (string & {}), o: WebhookPayloadOptions = {}): Record<string, unknown> {
  return {
    version: '0',
    baseURL: o.baseURL ?? 'https://sim.benchling.com',
    tenantId: o.tenantId ?? 'ten_sim',
    app: { id: o.appId ?? 'app_sim' },
    appDefinition: { id: o.appDefinitionId === undefined ? 'appdef_sim' : o.appDefinitionId, versionNumber: o.appVersion ?? '0.4.0' },
    channel: webhookChannel(type),
    message: messageFor(type, o),
  };
}
