import { randomBytes } from 'node:crypto';
import { TransientError } from '@bp/shared/errors';
import { signWebhook, type SigningKey } from './signing.ts';
import { buildWebhookPayload, webhookKind, type WebhookPayloadOptions, type WebhookType } from './webhook-payloads.ts';

export interface SendWebhookOptions {
  /** Receiver's webhook URL (the app's configured URL, without suffix). */
  to: string;
  /** Message type, one of `WEBHOOK_TYPES` or any other string (an unknown event). */
  type: WebhookType | (string & {});
  /** Entry the message is about. Default 'etr_demo'. */
  entryId?: string;
  canvasId?: string;
  buttonId?: string;
  userId?: string;
  featureId?: string;
  /** `updates` of `v2.entry.updated.*` messages. */
  updates?: string[];
  /** `message.id` of an event. Default: derived from `webhookId` (a resend keeps it). */
  eventId?: string;
  /** `webhook-id` header; reuse it to simulate a redelivery. Default: a new `msg_…` id. */
  webhookId?: string;
  /** `webhook-timestamp` header. Unix seconds, default now. */
  timestamp?: number;
  /** Raw body to send instead of the built payload (still signed). */
  body?: string;
  /** Keys to sign with. Default: the simulator's current signing key. */
  keys?: SigningKey[];
  /** Exact `webhook-signature` header to send instead of the computed one. */
  signatureOverride?: string;
  /** 'suffixed' (Benchling default: `/event`, `/lifecycle`, `/canvas` appended) or 'stable' (post to `to` as is). Default 'suffixed'. */
  routing?: 'suffixed' | 'stable';
  /** Extra request headers (e.g. to drop one: set it to ''). */
  headers?: Record<string, string>;
  /** Give up waiting for the receiver after this long. Milliseconds, default 10000. */
  timeoutMs?: number;
}

export interface WebhookResult {
  status: number;
  body: string;
  webhookId: string;
  /** URL the webhook was posted to. */
  url: string;
  /** The exact bytes sent, for replaying a delivery. */
  sentBody: string;
}

/** What the sender needs from the simulator: identity for the envelope and the signing keys. */
export interface WebhookSenderContext {
  baseURL: string;
  tenantId: string;
  appId: string;
  appDefinitionId: string;
  signingKeys: () => SigningKey[];
}

const SUFFIX = { event: '/event', lifecycle: '/lifecycle', canvas: '/canvas' } as const;

export function webhookUrl(to: string, type: string, routing: 'suffixed' | 'stable' = 'suffixed'): string {
  if (routing === 'stable') return to;
  return `${to.replace(/\/+$/, '')}${SUFFIX[webhookKind(type)]}`;
}

/** Builds, signs (like Benchling: over `id.timestamp.body`) and POSTs one webhook. */
export async function sendWebhook(ctx: WebhookSenderContext, o: SendWebhookOptions): Promise<WebhookResult> {
  const webhookId = o.webhookId ?? `msg_${randomBytes(12).toString('base64url')}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const payloadOptions: WebhookPayloadOptions = {
    baseURL: ctx.baseURL,
    tenantId: ctx.tenantId,
    appId: ctx.appId,
    appDefinitionId: ctx.appDefinitionId,
    webhookId,
    createdAt: new Date(timestamp * 1000),
    ...(o.entryId === undefined ? {} : { entryId: o.entryId }),
    ...(o.canvasId === undefined ? {} : { canvasId: o.canvasId }),
    ...(o.buttonId === undefined ? {} : { buttonId: o.buttonId }),
    ...(o.userId === undefined ? {} : { userId: o.userId }),
    ...(o.featureId === undefined ? {} : { featureId: o.featureId }),
    ...(o.updates === undefined ? {} : { updates: o.updates }),
    ...(o.eventId === undefined ? {} : { eventId: o.eventId }),
  };
  const body = o.body ?? JSON.stringify(buildWebhookPayload(o.type, payloadOptions));
  const signed = signWebhook({ keys: o.keys ?? ctx.signingKeys(), webhookId, timestamp, body });
  if (o.signatureOverride !== undefined) signed['webhook-signature'] = o.signatureOverride;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Benchling-Webhooks (simulator)', ...signed };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === '') delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const url = webhookUrl(o.to, o.type, o.routing);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
    return { status: res.status, body: await res.text(), webhookId, url, sentBody: body };
  } catch (err) {
    throw new TransientError(`webhook ${webhookId} to ${url} failed: ${(err as Error).message}`, {
      code: 'SimWebhookDelivery',
      cause: err,
      details: { url, webhookId },
    });
  }
}
