import { randomBytes } from 'node:crypto';
import { buildWebhookPayload, type Simulator, signWebhook, type SigningKey, webhookUrl } from '@bp/benchling-sim';

/** One delivery's exact bytes and headers, so a test can replay it unchanged, as Benchling resends. */
export interface SignedDelivery {
  webhookId: string;
  body: string;
  headers: Record<string, string>;
  /** Path the delivery goes to (`/event`, `/lifecycle` or `/canvas`). */
  path: string;
}

/** A webhook from the simulator's tenant, signed with its current key (or `keys`), as raw bytes. */
export function signedDelivery(
  sim: Simulator,
  o: {
    type: string;
    entryId?: string;
    canvasId?: string;
    buttonId?: string;
    webhookId?: string;
    timestamp?: number;
    body?: string;
    keys?: SigningKey[];
  },
): SignedDelivery {
  const webhookId = o.webhookId ?? `msg_${randomBytes(12).toString('base64url')}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const body =
    o.body ??
    JSON.stringify(
      buildWebhookPayload(o.type, {
        baseURL: sim.url,
        tenantId: sim.options.tenantId,
        appId: sim.options.appId,
        appDefinitionId: sim.options.appDefinitionId,
        webhookId,
        createdAt: new Date(timestamp * 1000),
        ...(o.entryId ? { entryId: o.entryId } : {}),
        ...(o.canvasId ? { canvasId: o.canvasId } : {}),
        ...(o.buttonId ? { buttonId: o.buttonId } : {}),
      }),
    );
  const headers = {
    'content-type': 'application/json',
    ...signWebhook({ keys: o.keys ?? sim.keys().slice(0, 1), webhookId, timestamp, body }),
  };
  return { webhookId, body, headers, path: new URL(webhookUrl('http://x', o.type)).pathname };
}

export interface Answer {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
  /** Milliseconds from sending to the full answer. */
  ms: number;
}

/** POSTs raw bytes with the given headers; never throws for an HTTP status. */
export async function post(
  baseUrl: string,
  d: { body: string | Buffer; headers: Record<string, string>; path?: string },
  o: { timeoutMs?: number; method?: string } = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}${d.path ?? '/event'}`, {
    method: o.method ?? 'POST',
    headers: d.headers,
    ...(o.method === 'GET' || o.method === 'HEAD' ? {} : { body: typeof d.body === 'string' ? d.body : new Uint8Array(d.body) }),
    signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    const v = JSON.parse(text) as unknown;
    json = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { value: v };
  } catch {
    json = { text: text.slice(0, 200) };
  }
  return { status: res.status, json, headers: res.headers, ms: performance.now() - started };
}
