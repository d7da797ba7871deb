import { sign } from 'node:crypto';
import { buildWebhookPayload, type Simulator, type SigningKey, webhookUrl } from '@bp/benchling-sim';

/**
 * One hostile (or control) input to the ingress and the answer the design documents for it
 * (docs/design.md "Ingress: the 3-second contract"): bad signature or stale timestamp → 401 with a
 * reason, malformed body → 400 naming the field, body over the limit → 413, unknown route → 404,
 * unknown event type → 200 ignored, a valid webhook → 202. Framing errors get Node's own 4xx.
 */
export interface WebhookCase {
  category: string;
  name: string;
  /** A request fetch can send, or raw bytes no HTTP client would send. */
  request: { http: HttpCase } | { raw: Buffer; timeoutMs?: number };
  expect: Expected;
}

export interface HttpCase {
  method?: string;
  path?: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface Expected {
  /** HTTP status; 0 = the server answers nothing and processes nothing (closes or waits). */
  status: number;
  /** `reason` of a 401, e.g. `bad_signature`. */
  reason?: string;
  /** Start of the `field` a 400 names, e.g. `message.resourceId`. */
  field?: string;
  /** A 202 job must reach this end in the worker: `SUCCEEDED`, or `FAILED` (any reason). */
  execution?: 'SUCCEEDED' | 'FAILED';
}

/** What builders need: the simulator (tenant identity, signing key) and a key Benchling never published. */
export interface CorpusContext {
  sim: Simulator;
  key: SigningKey;
  stranger: SigningKey;
  /** Unix seconds at corpus build time. */
  now: number;
  /** A fresh webhook id per case (accepted ones must not dedupe against each other). */
  nextId(): string;
}

/** `v1bder,<base64 DER ECDSA-SHA256>` over `${id}.${timestamp}.${body}`, exactly as Benchling signs. */
export function signature(key: SigningKey, id: string, timestamp: string, body: string | Buffer, hash = 'sha256'): string {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
  return `v1bder,${sign(hash, signed, { key: key.privateKey, dsaEncoding: 'der' }).toString('base64')}`;
}

/** A correctly signed request for `body` (headers may be overridden; `undefined` drops one). */
export function signedHttp(
  ctx: CorpusContext,
  body: string | Buffer,
  o: {
    id?: string;
    timestamp?: string;
    path?: string;
    method?: string;
    headers?: Record<string, string | undefined>;
    key?: SigningKey;
  } = {},
): HttpCase {
  const id = o.id ?? ctx.nextId();
  const timestamp = o.timestamp ?? String(ctx.now);
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature(o.key ?? ctx.key, id, timestamp, body),
    ...o.headers,
  };
  const present = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
  return { method: o.method, path: o.path ?? '/event', headers: present, body };
}

/** A well-formed payload of `type` from the simulator's tenant, as an object to mutate. */
export function payload(
  ctx: CorpusContext,
  type: string,
  o: { entryId?: string; canvasId?: string; buttonId?: string } = {},
): Record<string, unknown> {
  return buildWebhookPayload(type, {
    baseURL: ctx.sim.url,
    tenantId: ctx.sim.options.tenantId,
    appId: ctx.sim.options.appId,
    appDefinitionId: ctx.sim.options.appDefinitionId,
    createdAt: new Date(ctx.now * 1000),
    entryId: o.entryId ?? 'etr_corpus',
    ...(o.canvasId ? { canvasId: o.canvasId } : {}),
    ...(o.buttonId ? { buttonId: o.buttonId } : {}),
  });
}

/** The path Benchling's Suffixed routing posts `type` to. */
export function pathFor(type: string): string {
  return new URL(webhookUrl('http://x', type)).pathname;
}

/** Deep copy, then set (`value`) or delete (`undefined`) the dotted `path`. */
export function mutate(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}
