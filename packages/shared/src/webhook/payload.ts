import { z } from 'zod';
import { PermanentError } from '../errors.ts';
import { type JobKind, type Trigger, truncateUpdates } from '../jobs.ts';

/**
 * Webhook payloads (version "0", contract §2) and what the ingress does with each type.
 * Objects are loose: Benchling adds fields without notice and they must not cause a 400.
 * Message fields are required only where the job cannot run without them, so a 400 (which
 * Benchling retries until it gives up) is reserved for payloads we truly cannot act on.
 */

/** A body that is not a webhook we can act on; the message names the field. Answered with 400. */
export class WebhookPayloadError extends PermanentError {
  /** Dotted path of the offending field, `(body)` when the body itself is unusable. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message, { code: 'MalformedWebhook', details: { field } });
    this.field = field;
  }
}

const id = z.string().min(1);

export const WebhookEnvelopeSchema = z.looseObject({
  version: z.string(),
  baseURL: z.url({ protocol: /^https?$/ }),
  tenantId: id,
  app: z.looseObject({ id }),
  appDefinition: z.looseObject({ id: z.string().nullable().optional() }).nullish(),
  channel: z.string().optional(),
  message: z.looseObject({ type: id }),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

/** `v2.entry.created`, `v2.entry.updated.fields`, `v2.entry.updated.reviewRecord`. */
export const EntryEventMessageSchema = z.looseObject({
  type: id,
  /** `evt_…`, Benchling's event id. */
  id,
  /** The entry id. */
  resourceId: id,
  createdAt: z.string().optional(),
  updates: z.array(z.string()).optional(),
});

/** `v2.canvas.initialized`: no canvas exists yet; the job creates it for this entry and feature. */
export const CanvasInitializedMessageSchema = z.looseObject({ type: id, resourceId: id, featureId: id, userId: z.string().optional() });

/** `v2.canvas.created` / `v2-beta.canvas.created`. */
export const CanvasCreatedMessageSchema = z.looseObject({
  type: id,
  canvasId: id,
  featureId: z.string().optional(),
  userId: z.string().optional(),
  resourceId: z.string().nullish(),
});

/** `v2.canvas.userInteracted`. */
export const CanvasInteractionMessageSchema = z.looseObject({
  type: id,
  buttonId: id,
  canvasId: id,
  featureId: z.string().optional(),
  userId: z.string().optional(),
});

export const ENTRY_EVENT_TYPES = ['v2.entry.created', 'v2.entry.updated.fields', 'v2.entry.updated.reviewRecord'] as const;
export const LIFECYCLE_TYPES = [
  'v2.app.installed',
  'v2.app.activateRequested',
  'v2.app.deactivated',
  'v2-beta.app.configuration.updated',
] as const;
/** Button ids starting with this are canvas navigation (see the worker's canvas/buttons.ts), not "update package". */
export const CANVAS_VIEW_BUTTON_PREFIX = 'nav:';
export const CANVAS_CREATED_TYPES = ['v2.canvas.created', 'v2-beta.canvas.created'] as const;

/** Trigger fields the classification contributes; the ingress adds webhookId, type and receivedAt. */
export type TriggerDetails = Omit<Trigger, 'webhookId' | 'type' | 'receivedAt'>;

export interface EnqueueDecision {
  action: 'enqueue';
  kind: JobKind;
  /** `message.type`. */
  type: string;
  tenantId: string;
  /** Envelope `baseURL` without a trailing slash. */
  baseURL: string;
  /** Envelope `app.id`. */
  appId: string;
  entryId?: string;
  canvasId?: string;
  trigger: TriggerDetails;
}

export interface IgnoreDecision {
  action: 'ignore';
  type: string;
  tenantId: string;
  /** Why, e.g. `unsupported_type`, `button_not_configured`; also the metric label. */
  reason: string;
}

export type WebhookDecision = EnqueueDecision | IgnoreDecision;

export interface ClassifyOptions {
  /** Canvas button ids that request a new package version, e.g. `['update-package']`. */
  updateButtonIds: readonly string[];
}

/** Parses the raw body and classifies it. Throws WebhookPayloadError for anything malformed. */
export function classifyWebhookBody(rawBody: Buffer, cfg: ClassifyOptions): WebhookDecision {
  if (rawBody.length === 0) throw new WebhookPayloadError('(body)', 'body is empty');
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookPayloadError('(body)', 'body is not valid JSON');
  }
  return classifyWebhook(payload, cfg);
}

/** Decides what a parsed payload asks for: which job to enqueue, or why it is ignored. */
export function classifyWebhook(payload: unknown, cfg: ClassifyOptions): WebhookDecision {
  const env = parse(WebhookEnvelopeSchema, payload, '');
  const type = env.message.type;
  const base = { type, tenantId: env.tenantId, baseURL: env.baseURL.replace(/\/+$/, ''), appId: env.app.id };

  if ((ENTRY_EVENT_TYPES as readonly string[]).includes(type)) {
    const m = parse(EntryEventMessageSchema, env.message, 'message');
    return {
      action: 'enqueue',
      kind: 'entry.package',
      ...base,
      entryId: m.resourceId,
      trigger: { eventId: m.id, ...opt('updates', m.updates && truncateUpdates(m.updates)) },
    };
  }
  if (type === 'v2.canvas.initialized') {
    const m = parse(CanvasInitializedMessageSchema, env.message, 'message');
    return {
      action: 'enqueue',
      kind: 'canvas.init',
      ...base,
      entryId: m.resourceId,
      trigger: { featureId: m.featureId, ...opt('userId', m.userId) },
    };
  }
  if ((CANVAS_CREATED_TYPES as readonly string[]).includes(type)) {
    const m = parse(CanvasCreatedMessageSchema, env.message, 'message');
    return {
      action: 'enqueue',
      kind: 'entry.package',
      ...base,
      canvasId: m.canvasId,
      ...(m.resourceId ? { entryId: m.resourceId } : {}),
      trigger: { ...opt('featureId', m.featureId), ...opt('userId', m.userId) },
    };
  }
  if (type === 'v2.canvas.userInteracted') {
    const m = parse(CanvasInteractionMessageSchema, env.message, 'message');
    if (!cfg.updateButtonIds.includes(m.buttonId)) {
      // Navigation buttons (browse, next page, versions…) carry their view in the id: the worker re-renders the canvas.
      if (!m.buttonId.startsWith(CANVAS_VIEW_BUTTON_PREFIX)) return { action: 'ignore', ...pick(base), reason: 'button_not_configured' };
      return {
        action: 'enqueue',
        kind: 'canvas.view',
        ...base,
        canvasId: m.canvasId,
        trigger: { buttonId: m.buttonId, ...opt('featureId', m.featureId), ...opt('userId', m.userId) },
      };
    }
    return {
      action: 'enqueue',
      kind: 'entry.package',
      ...base,
      canvasId: m.canvasId,
      trigger: { buttonId: m.buttonId, ...opt('featureId', m.featureId), ...opt('userId', m.userId) },
    };
  }
  if ((LIFECYCLE_TYPES as readonly string[]).includes(type)) {
    return { action: 'enqueue', kind: 'app.lifecycle', ...base, trigger: {} };
  }
  return { action: 'ignore', ...pick(base), reason: 'unsupported_type' };
}

function pick(base: { type: string; tenantId: string }): { type: string; tenantId: string } {
  return { type: base.type, tenantId: base.tenantId };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Validates and names the first offending field (never its value: bodies stay out of logs). */
function parse<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter((s) => s !== '').join('.') || '(body)';
  const missing = issue.code === 'invalid_type' && valueAt(value, issue.path) === undefined;
  const what = missing ? 'is required' : `is invalid (${issue.message})`;
  throw new WebhookPayloadError(field, `${field} ${what}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
