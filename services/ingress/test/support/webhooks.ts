import { randomUUID } from 'node:crypto';
import { type SigningKey, signWebhook } from '@bp/benchling-sim/signing';

/** Webhook bodies shaped like Benchling's (contract §2), with room for overrides. */
export function envelope(message: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    baseURL: 'https://acme.benchling.com',
    tenantId: 'ten_acme',
    app: { id: 'app_123' },
    appDefinition: { id: 'appdef_test', versionNumber: '0.4.0' },
    channel: message.type && String(message.type).includes('entry') ? 'events' : 'app_signals',
    message,
    ...over,
  };
}

export function entryUpdated(entryId = 'etr_1'): Record<string, unknown> {
  return envelope({
    type: 'v2.entry.updated.fields',
    id: `evt_${randomUUID().slice(0, 8)}`,
    createdAt: new Date().toISOString(),
    resourceId: entryId,
    schema: { id: 'ts_1', name: 'Experiment' },
    excludedProperties: [],
    updates: ['fields.Status'],
    deprecated: false,
  });
}

export interface SignedDelivery {
  webhookId: string;
  body: string;
  headers: Record<string, string>;
}

/** Signs `payload` (or a raw string body) as Benchling would. `at` is Unix seconds; default now. */
export function signed(
  keys: SigningKey[],
  payload: Record<string, unknown> | string,
  o: { webhookId?: string; at?: number } = {},
): SignedDelivery {
  const webhookId = o.webhookId ?? `msg_${randomUUID()}`;
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers = signWebhook({ keys, webhookId, timestamp: o.at ?? Math.floor(Date.now() / 1000), body });
  return { webhookId, body, headers };
}

/** POSTs a delivery and returns status, JSON body, headers and how long the answer took. */
export async function deliver(
  baseUrl: string,
  d: { body: string; headers: Record<string, string> },
  path = '/event',
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...d.headers },
    body: d.body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers, ms };
}

export { dedupeKeyOfDelivery as dedupeKeyOf } from '@bp/local-stack/testing';
